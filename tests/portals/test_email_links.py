"""One-time sign-in links by email, through a real SMTP server on loopback."""

from __future__ import annotations

import json
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
from records import AuditEvent, ExpiringValue, Member, utcnow
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
    csp = confirm.headers["Content-Security-Policy"].split("; ")
    assert csp[0] == "frame-ancestors 'self' https://a.example"
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
    # One audit row, and the refused link is spent (issue 12, finding 11).
    assert grown(before, row_counts(app)) == {"audit_events": 1, "expiring_values": -1}
    assert last_audit(app).detail["reason"] == "member_inactive"
    with app.app_context(), records.get_database(app).transaction() as session:
        session.execute(update(Member).where(Member.id == directory.ada_id).values(active=True))
    assert client.post(path).status_code == 400
    assert last_audit(app).detail["reason"] == "link_used_or_unknown"


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
    # A refused link is spent, even where it belongs (issue 12, finding 11).
    assert client.post(link_path(inbox)).status_code == 400
    assert last_audit(app).detail["reason"] == "link_used_or_unknown"


def test_smtp_failure_shows_the_same_page(
    app: Flask, client: FlaskClient, inbox: Inbox, directory: Directory, email_portal: int
) -> None:
    inbox.refuse_after = 0
    assert "If this address belongs to a member" in ask(client, "ada@example.org")


# Issue 12, findings 9 and 11: an emailed sign-in link names who it signs in, is bound to
# the browser that asked for it, is spent by every refusal, and never reaches the audit
# table.


def _confirm(page: str) -> str:
    found = re.search(r'name="confirm" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def test_the_link_page_says_who_is_signing_in(
    app: Flask, client: FlaskClient, inbox: Inbox, directory: Directory, email_portal: int
) -> None:
    ask(client, "ada@example.org")
    page = client.get(link_path(inbox)).get_data(as_text=True)
    assert "You are signing in as <strong>Ada" in page
    assert 'id="other-browser"' not in page and 'name="confirm"' not in page


def test_the_name_on_the_link_page_is_text_not_markup(
    app: Flask, client: FlaskClient, inbox: Inbox, directory: Directory, email_portal: int
) -> None:
    """The page wraps the name in <strong> (marked safe): the name itself, which a
    directory sync or a launch brings in, must still be escaped."""
    with app.app_context(), records.get_database(app).transaction() as session:
        ada = session.get(Member, directory.ada_id)
        assert ada is not None
        ada.display_name = '<img src=x onerror="alert(1)">Ada'
    ask(client, "ada@example.org")
    page = client.get(link_path(inbox)).get_data(as_text=True)
    assert "<img" not in page
    assert "You are signing in as <strong>&lt;img src=x onerror=" in page


def test_a_link_posted_from_another_browser_is_refused_and_spent(
    app: Flask, client: FlaskClient, inbox: Inbox, directory: Directory, email_portal: int
) -> None:
    """Login CSRF: an attacker asks for a link to their own account and makes a victim's
    browser post it (with any confirmation value they like)."""
    ask(client, "ada@example.org")
    path = link_path(inbox)
    victim = app.test_client()
    before = row_counts(app)
    answer = victim.post(path, data={"confirm": "x" * 32})
    assert answer.status_code == 400 and "another browser" in answer.get_data(as_text=True)
    assert grown(before, row_counts(app)) == {"audit_events": 1, "expiring_values": -1}
    assert last_audit(app).detail["reason"] == "link_other_browser"
    with victim.session_transaction() as flask_session:
        assert "member_id" not in flask_session
    # Spent: not even the asking browser can use it now.
    assert client.post(path).status_code == 400


def test_another_browser_signs_in_after_confirming_on_the_links_page(
    app: Flask, client: FlaskClient, inbox: Inbox, directory: Directory, email_portal: int
) -> None:
    ask(client, "ada@example.org")
    path = link_path(inbox)
    phone = app.test_client()
    page = phone.get(path).get_data(as_text=True)
    assert "You are signing in as <strong>Ada" in page and 'id="other-browser"' in page
    answer = phone.post(path, data={"confirm": _confirm(page)})
    assert answer.status_code == 303 and answer.location.endswith("/me")
    with phone.session_transaction() as flask_session:
        assert flask_session["member_id"] == directory.ada_id


def test_a_confirmation_from_another_browsers_page_does_not_count(
    app: Flask, client: FlaskClient, inbox: Inbox, directory: Directory, email_portal: int
) -> None:
    ask(client, "ada@example.org")
    path = link_path(inbox)
    attacker = app.test_client()
    confirm = _confirm(attacker.get(path).get_data(as_text=True))
    victim = app.test_client()
    assert victim.post(path, data={"confirm": confirm}).status_code == 400
    assert last_audit(app).detail["reason"] == "link_other_browser"


def test_no_audit_row_ever_holds_a_link_token(
    app: Flask, client: FlaskClient, inbox: Inbox, directory: Directory, email_portal: int
) -> None:
    tokens = []
    for _ in range(3):
        ask(client, "ada@example.org")
        tokens.append(link_path(inbox).rsplit("/", 1)[1])
    other = app.test_client()
    other.get(f"/portal/{NAME}/link/{tokens[0]}")  # opened elsewhere
    other.post(f"/portal/{NAME}/link/{tokens[0]}")  # refused: another browser
    client.post(f"/portal/{NAME}/link/{tokens[0]}")  # refused: used
    with app.app_context(), records.get_database(app).transaction() as session:
        session.execute(
            update(ExpiringValue)
            .where(ExpiringValue.namespace == EMAIL_LINK)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    client.get(f"/portal/{NAME}/link/{tokens[1]}")  # refused: late
    client.post(f"/portal/{NAME}/link/{tokens[1]}")  # refused: late
    client.post(f"/portal/{NAME}/link/{tokens[2]}-forged")  # refused: unknown
    with app.app_context(), records.get_database(app).transaction() as session:
        rows = session.scalars(select(AuditEvent)).all()
        text = json.dumps([[r.action, r.subject_id, r.detail, r.remote_addr] for r in rows])
    assert sum(r.action == "portal.sign_in_refused" for r in rows) == 5
    for token in tokens:
        assert token not in text
        assert token[:20] not in text


def test_a_forged_host_header_never_reaches_a_mailed_link(
    app: Flask, client: FlaskClient, inbox: Inbox, directory: Directory, email_portal: int
) -> None:
    """Host-header poisoning: the link must point at TANDEM_BASE_URL or not be sent."""
    before = row_counts(app)
    response = client.post(
        f"/portal/{NAME}/email",
        data={"email": "ada@example.org"},
        headers={"Host": "attacker.example"},
    )
    assert response.status_code == 400
    assert inbox.messages == []
    assert row_counts(app) == before
    ask(client, "ada@example.org")
    body = inbox.messages[-1].get_payload(decode=True).decode()
    assert "https://tandem.test/portal/" in body and "attacker.example" not in body


def test_link_requests_are_rate_limited_per_client(
    app: Flask, client: FlaskClient, inbox: Inbox, directory: Directory, email_portal: int
) -> None:
    addresses = [f"nobody{n}@example.org" for n in range(10)]
    pages = {ask(client, address) for address in addresses}  # ten different addresses
    assert len(pages) == 1
    audits = row_counts(app)["audit_events"]
    refused = client.post(f"/portal/{NAME}/email", data={"email": "ada@example.org"})
    assert refused.status_code == 429
    assert "Too Many Requests" in refused.get_data(as_text=True)
    assert inbox.messages == [] and row_counts(app)["audit_events"] == audits
    # The form itself is not limited, and another client may still ask.
    assert client.get(f"/portal/{NAME}/email").status_code == 200
    other = client.post(f"/portal/{NAME}/email", data={"email": "ada@example.org"},
                        environ_base={"REMOTE_ADDR": "192.0.2.8"})  # fmt: skip
    run_jobs(app)  # the mail goes from a job (a worker on PostgreSQL)
    assert other.status_code == 200 and len(inbox.messages) == 1


def test_the_link_mail_and_the_pages_after_it_are_in_the_members_language(
    app: Flask, client: FlaskClient, inbox: Inbox, directory: Directory, email_portal: int
) -> None:
    with app.app_context(), records.get_database(app).transaction() as session:
        session.get(Member, directory.ben_id).locale = "fr_CA"
    # Before sign-in, the browser's language: the form.
    form = client.get(f"/portal/{NAME}/email", headers={"Accept-Language": "fr-CA,fr;q=0.9"})
    assert "M'envoyer un lien de connexion" in form.get_data(as_text=True)
    ask(client, "ben.baker@example.org")
    message = inbox.messages[0]
    assert message["Content-Language"] == "fr-CA"
    body = message.get_payload(decode=True).decode()
    assert body.startswith("Bonjour Ben Member,")
    assert "Il ne fonctionne qu'une fois, dans les 15 minutes." in body
    assert "Hello" not in body
    # After sign-in, Ben's own language, whatever the browser says.
    client.post(link_path(inbox))
    page = client.get("/checkins/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Mon mentorat" in page and '<html lang="fr-CA">' in page
