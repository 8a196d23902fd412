"""Sessions are revocable (issue 12, finding 6): each request checks the session's record and
that its member and tenant are still active; idle and absolute lifetimes end it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask, session
from sqlalchemy import select

import members.sessions
import records
from lti_tool import auth
from members import ABSOLUTE_LIFETIME, IDLE_LIFETIME
from records import ExpiringValue, Member, utcnow
from tests.support.lti_platform import INSTRUCTOR, Person

ADA = Person("user-1", "Ada", "Lovelace", "ada@example.edu")
GRACE = Person("teacher-1", "Grace", "Hopper", "grace@example.edu", roles=[INSTRUCTOR])


def member_of(client) -> int:  # type: ignore[no-untyped-def]
    with client.session_transaction() as cookie:
        return int(cookie["member_id"])


def session_records(app: Flask) -> list[str]:
    with app.app_context(), records.get_database(app).transaction() as db:
        return list(
            db.scalars(select(ExpiringValue.key).where(ExpiringValue.namespace == "session"))
        )


def signed_in(client, platform, person: Person = ADA):  # type: ignore[no-untyped-def]
    assert platform.launch(client, person).status_code == 303
    return client


def test_a_launch_records_its_session_and_the_cookie_names_it(app, client, platform) -> None:
    signed_in(client, platform)
    keys = session_records(app)
    assert len(keys) == 1
    with client.session_transaction() as cookie:
        assert cookie["sid"] == keys[0]
    assert client.get("/me").status_code == 200


def test_a_session_dies_with_its_platform(app, client, platform, cli) -> None:
    coordinator = signed_in(app.test_client(), platform, GRACE)
    learner = signed_in(client, platform)
    assert coordinator.get("/programmes").status_code == 200
    removed = cli(["platform", "remove", "--issuer", platform.issuer,
                   "--client-id", platform.client_id])  # fmt: skip
    assert removed.exit_code == 0, removed.output
    assert coordinator.get("/programmes").status_code == 401
    with coordinator.session_transaction() as cookie:
        csrf = cookie.get("csrf", "")
    created = coordinator.post("/programmes/new", data={"csrf_token": csrf, "name": "x"})
    assert created.status_code == 401
    assert learner.get("/me").status_code == 401
    assert learner.get("/checkins/").status_code == 401
    assert session_records(app) == []


def test_a_session_dies_when_a_sync_deactivates_the_member(app, client, platform) -> None:
    signed_in(client, platform)
    assert client.get("/checkins/").status_code == 200
    ada = member_of(client)
    with app.app_context(), records.get_database(app).transaction() as db:
        db.get(Member, ada).active = False
    assert client.get("/checkins/").status_code == 401
    # The cookie is dropped with the dead record: reactivating brings no session back.
    with app.app_context(), records.get_database(app).transaction() as db:
        db.get(Member, ada).active = True
    assert client.get("/checkins/").status_code == 401


def test_member_sign_out_ends_every_session_of_the_member(app, client, platform, cli) -> None:
    laptop = signed_in(client, platform)
    phone = signed_in(app.test_client(), platform)
    other = signed_in(app.test_client(), platform, GRACE)
    ada = member_of(laptop)
    result = cli(["member", "sign-out", str(ada)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"member {ada}: ended 2 session(s)"
    assert laptop.get("/me").status_code == 401
    assert phone.get("/me").status_code == 401
    assert other.get("/coordinator").status_code == 200


@pytest.mark.parametrize("given", ["999999", "99999999999999999999"])
def test_member_sign_out_of_no_such_member_says_so(app, platform, cli, given: str) -> None:
    result = cli(["member", "sign-out", given])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith(f"tandem: no member {given}")


def test_sign_out_ends_the_record_not_only_the_cookie(app, client, platform) -> None:
    """``lti_tool.auth.sign_out()``, which the ``/sign-out`` route calls."""
    signed_in(client, platform)
    with client.session_transaction() as cookie:
        stolen = dict(cookie)
    with app.test_request_context(base_url=app.config["TANDEM_BASE_URL"]):
        session.update(stolen)
        assert auth.current_member() is not None
        auth.sign_out()
        assert dict(session) == {} and auth.current_member() is None
    assert session_records(app) == []
    # A copy of the cookie taken before the sign-out is worth nothing after it.
    assert client.get("/me").status_code == 401


def test_a_forged_or_stale_cookie_without_a_record_is_refused(app, client, platform) -> None:
    signed_in(client, platform)
    with client.session_transaction() as cookie:
        cookie.pop("sid")
    assert client.get("/me").status_code == 401
    signed_in(client, platform)
    with client.session_transaction() as cookie:
        # Another member's id with this session's record: the key names its member.
        cookie["member_id"] = cookie["member_id"] + 1
    assert client.get("/me").status_code == 401


def test_idle_lifetime(app, client, platform, monkeypatch) -> None:
    signed_in(client, platform)
    start = utcnow()
    monkeypatch.setattr(
        members.sessions, "utcnow", lambda: start + IDLE_LIFETIME - timedelta(minutes=1)
    )
    assert client.get("/me").status_code == 200  # used in time: the idle clock starts again
    later = start + 2 * IDLE_LIFETIME - timedelta(minutes=2)
    monkeypatch.setattr(members.sessions, "utcnow", lambda: later)
    assert client.get("/me").status_code == 200
    monkeypatch.setattr(members.sessions, "utcnow", lambda: later + IDLE_LIFETIME)
    assert client.get("/me").status_code == 401


def test_absolute_lifetime(app, client, platform, monkeypatch) -> None:
    signed_in(client, platform)
    start = utcnow()
    moment = start
    # Used every seven hours, the session still ends seven days after the launch.
    while moment + timedelta(hours=7) < start + ABSOLUTE_LIFETIME - timedelta(minutes=1):
        moment += timedelta(hours=7)
        monkeypatch.setattr(members.sessions, "utcnow", lambda at=moment: at)
        assert client.get("/me").status_code == 200, moment - start
    monkeypatch.setattr(
        members.sessions, "utcnow", lambda: start + ABSOLUTE_LIFETIME + timedelta(minutes=1)
    )
    assert client.get("/me").status_code == 401


def test_lifetimes_are_eight_hours_idle_and_seven_days_absolute(app) -> None:
    assert (timedelta(hours=8), timedelta(days=7)) == (IDLE_LIFETIME, ABSOLUTE_LIFETIME)
    assert app.permanent_session_lifetime == ABSOLUTE_LIFETIME
