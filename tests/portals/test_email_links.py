"""One-time sign-in links by email, through a real SMTP server on loopback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text, update

import portals
import records
from portals import PortalSettings
from portals.state import EMAIL_LINK
from records import ExpiringValue, Member, utcnow
from tests.support.jobs import run_jobs
from tests.support.smtp import Inbox, smtp_server

from .conftest import Directory, grown, last_audit, row_counts

NAME = "nosso"


@pytest.fixture
def mail() -> Iterator[tuple[Inbox, str]]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def app_config(app_config: dict, mail: tuple[Inbox, str]) -> dict:
    return {**app_config, "TANDEM_SMTP_URL": mail[1], "TANDEM_BASE_URL": "https://tandem.test"}


@pytest.fixture
def inbox(mail: tuple[Inbox, str]) -> Inbox:
    return mail[0]


@pytest.fixture
def email_portal(app: Flask, directory: Directory) -> int:
    settings = PortalSettings(
        name=NAME, kind="email_link", tenant_slug="example-assoc", origins=("https://a.example",)
    )
    with app.app_context(), records.get_database(app).transaction() as session:
        return portals.add_portal(session, app.extensions["tandem.secrets"], settings).id


def ask(client: FlaskClient, address: str) -> str:
    response = client.post(f"/portal/{NAME}/email", data={"email": address})
    assert response.status_code == 200, response.get_data(as_text=True)
    run_jobs(client.application)  # the mail goes from a job
    return response.get_data(as_text=True)


def link_path(inbox: Inbox, index: int = -1) -> str:
    body = inbox.messages[index].get_payload(decode=True).decode()
    match = re.search(r"https://tandem\.test(/portal/\S+)", body)
    assert match, body
    return match.group(1)


def test_member_signs_in_with_a_link(
    app: Flask, client: FlaskClient, inbox: Inbox, directory: Directory, email_portal: int
) -> None:
    login = client.get(f"/portal/{NAME}/login")
    assert login.status_code == 303 and login.location.endswith(f"/portal/{NAME}/email")
    assert "Send me a sign-in link" in client.get(login.location).get_data(as_text=True)
    page = ask(client, "  BEN.baker@example.org ")
    assert "If this address belongs to a member" in page
    assert inbox.recipients == ["Ben.Baker@Example.org"]
    message = inbox.messages[0]
    assert "Example Association" in message["Subject"]
    path = link_path(inbox)
    # Opening the link (as a mail scanner would) does not use it up.
    confirm = client.get(path)
    assert confirm.status_code == 200 and 'id="sign-in"' in confirm.get_data(as_text=True)
    assert confirm.headers["Content-Security-Policy"] == "frame-ancestors 'self' https://a.example"
    response = client.post(path)
    assert response.status_code == 303 and response.location.endswith("/me")
    with client.session_transaction() as flask_session:
        assert (flask_session["tenant_id"], flask_session["member_id"]) == (
            directory.tenant_id,
            directory.ben_id,
        )
        assert flask_session["role"] == "member"
    assert last_audit(app).action == "portal.sign_in"
    # Only a hash of the token is stored.
    token = path.rsplit("/", 1)[1]
    with app.app_context(), records.get_database(app).transaction() as session:
        keys = session.scalars(select(ExpiringValue.key)).all()
        assert token not in keys


def test_unknown_and_deactivated_addresses_get_the_same_page_and_no_mail(
    app: Flask, client: FlaskClient, inbox: Inbox, directory: Directory, email_portal: int
) -> None:
    known = ask(client, "ada@example.org")
    unknown = ask(client, "nobody@example.org")
    deactivated = ask(client, "gus@example.org")
    assert known == unknown == deactivated
    assert inbox.recipients == ["ada@example.org"]


def test_known_and_unknown_addresses_do_the_same_work(
    app: Flask, client: FlaskClient, inbox: Inbox, directory: Directory, email_portal: int
) -> None:
    # The request only queues a job, known address or not: its writes (and so its time)
    # do not tell a member. (On SQLite the inline runner then mails at once.)
    def counts() -> tuple[int, int]:
        with app.app_context(), records.get_database(app).transaction() as session:
            queued = (
                session.scalar(text("SELECT count(*) FROM procrastinate_jobs"))
                if session.get_bind().dialect.name == "postgresql"
                else 0
            )
            return row_counts(app)["audit_events"], queued

    grew = []
    for address in ("ada@example.org", "nobody@example.org"):
        before = counts()
        assert client.post(f"/portal/{NAME}/email", data={"email": address}).status_code == 200
        after = counts()
        grew.append((after[0] - before[0], after[1] - before[1]))
    on_postgresql = records.get_database(app).engine.dialect.name == "postgresql"
    assert grew == [(1, 1), (1, 1)] if on_postgresql else grew == [(1, 0), (1, 0)]
    if on_postgresql:
        assert inbox.messages == []  # nothing was sent inside the requests
    run_jobs(app)
    assert inbox.recipients == ["ada@example.org"]


def test_a_link_works_once(
    app: Flask, client: FlaskClient, inbox: Inbox, directory: Directory, email_portal: int
) -> None:
    ask(client, "ada@example.org")
    path = link_path(inbox)
    assert client.post(path).status_code == 303
    before = row_counts(app)
    again = app.test_client().post(path)
    assert again.status_code == 400
    assert "expired or was already used" in again.get_data(as_text=True)
    assert grown(before, row_counts(app)) == {"audit_events": 1}
    assert last_audit(app).detail["reason"] == "link_used_or_unknown"


def test_a_late_link_is_refused(
    app: Flask, client: FlaskClient, inbox: Inbox, directory: Directory, email_portal: int
) -> None:
    ask(client, "ada@example.org")
    path = link_path(inbox)
    with app.app_context(), records.get_database(app).transaction() as session:
        session.execute(
            update(ExpiringValue)
            .where(ExpiringValue.namespace == EMAIL_LINK)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    before = row_counts(app)
    response = client.post(path)
    assert response.status_code == 400
    assert grown(before, row_counts(app)) == {"audit_events": 1}
    assert last_audit(app).detail["reason"] == "link_expired"
    with client.session_transaction() as flask_session:
        assert "tenant_id" not in flask_session


def test_a_forged_link_is_refused(
    app: Flask, client: FlaskClient, directory: Directory, email_portal: int
) -> None:
    response = client.post(f"/portal/{NAME}/link/made-up-token")
    assert response.status_code == 400
    assert last_audit(app).detail["reason"] == "link_used_or_unknown"


def test_member_deactivated_after_the_link_was_sent_is_refused(
    app: Flask, client: FlaskClient, inbox: Inbox, directory: Directory, email_portal: int
) -> None:
    ask(client, "ada@example.org")
    path = link_path(inbox)
    with app.app_context(), records.get_database(app).transaction() as session:
        session.execute(update(Member).where(Member.id == directory.ada_id).values(active=False))
    before = row_counts(app)
    response = client.post(path)
    assert response.status_code == 403
    assert grown(before, row_counts(app)) == {"audit_events": 1}
    assert last_audit(app).detail["reason"] == "member_inactive"


def test_links_are_rate_limited_per_address(
    app: Flask, client: FlaskClient, inbox: Inbox, directory: Directory, email_portal: int
) -> None:
    pages = {ask(client, "ada@example.org") for _ in range(5)}
    assert len(pages) == 1  # the limit is not announced either
    assert len(inbox.messages) == portals.email_links.MAX_LINKS_PER_WINDOW
    assert last_audit(app).action == "portal.link_rate_limited"
    ask(client, "ben.baker@example.org")  # another address is not held up
    assert len(inbox.messages) == portals.email_links.MAX_LINKS_PER_WINDOW + 1


def test_not_an_address_is_refused_plainly(
    app: Flask, client: FlaskClient, inbox: Inbox, directory: Directory, email_portal: int
) -> None:
    before = row_counts(app)
    response = client.post(f"/portal/{NAME}/email", data={"email": "not an address"})
    assert response.status_code == 400
    assert "Enter your email address" in response.get_data(as_text=True)
    assert grown(before, row_counts(app)) == {"audit_events": 1}
    assert inbox.messages == []


def test_a_link_for_one_portal_does_not_open_another(
    app: Flask, client: FlaskClient, inbox: Inbox, directory: Directory, email_portal: int
) -> None:
    settings = PortalSettings(name="other", kind="email_link", tenant_slug="other-assoc")
    with app.app_context(), records.get_database(app).transaction() as session:
        portals.add_portal(session, app.extensions["tandem.secrets"], settings)
    ask(client, "ada@example.org")
    path = link_path(inbox).replace(f"/portal/{NAME}/", "/portal/other/")
    response = client.post(path)
    assert response.status_code == 400
    assert last_audit(app).detail["reason"] == "link_other_portal"
    assert client.post(link_path(inbox)).status_code == 303  # still good where it belongs


def test_smtp_failure_shows_the_same_page(
    app: Flask, client: FlaskClient, inbox: Inbox, directory: Directory, email_portal: int
) -> None:
    inbox.refuse_after = 0
    assert "If this address belongs to a member" in ask(client, "ada@example.org")
