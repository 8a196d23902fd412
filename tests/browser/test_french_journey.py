"""A French-Canadian member in a real browser: the LMS launch says ``locale: fr-CA``, the
browser itself says English; the pages, the check-in form and the reminder mail are French.
"""

from __future__ import annotations

from datetime import timedelta
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

import records
from checkins.demo import PREVIOUS_NAME
from checkins.mailer import Mailer, SmtpSettings
from checkins.reminders import send_due
from records import Match, Member, Participant, Programme, utcnow
from tests.support.browser import chromium_page, demo_app, live_server, screenshot
from tests.support.smtp import smtp_server

pytestmark = pytest.mark.browser


def _active_mentee(session) -> tuple[Member, Match]:  # type: ignore[no-untyped-def]
    """A mentee of the demo's running cohort whose pair meets."""
    mentee, match = session.execute(
        select(Member, Match)
        .join(Participant, Participant.member_id == Member.id)
        .join(Match, Match.mentee_participant_id == Participant.id)
        .join(Programme, Programme.id == Match.programme_id)
        .where(Programme.name == PREVIOUS_NAME, Match.status == "active")
        .order_by(Match.id)
    ).first()
    return mentee, match


def test_a_french_launch_shows_french_pages_form_and_mail(app_config: dict, tmp_path: Path) -> None:
    app = demo_app(app_config)
    with app.app_context():
        session = records.get_session()  # demo_app seeded the demo programme
        mentee, match = _active_mentee(session)
        first_name, match_id, member_id = mentee.given_name, match.id, mentee.id
    with live_server(app) as base, chromium_page() as page:
        app.config["TANDEM_BASE_URL"] = base
        # Chromium asks for English; the LMS (here the Demo LMS in French) says fr-CA.
        page.goto(f"{base}/demo-lms?locale=fr-CA")
        page.get_by_role("link", name=f"Launch Tandem as {first_name}").click()
        page.wait_for_load_state("networkidle")
        expect(page.locator("html")).to_have_attribute("lang", "fr-CA")

        page.goto(f"{base}/checkins/")
        expect(page.locator("h1")).to_have_text("Mon mentorat")
        expect(page.locator("body")).to_contain_text("Ce mois-ci :")
        page.locator(f"#log-open-{match_id}").click()
        form = page.locator(f"#checkin-form-{match_id}")
        expect(form).to_contain_text("Durée (minutes)")
        expect(form).to_contain_text("Notes privées (vous seuls, tous les deux, pourrez les lire)")
        form.locator("input[name=met_on]").fill((utcnow().date() - timedelta(days=1)).isoformat())
        form.locator("input[name=duration_minutes]").fill("40")
        form.locator("textarea[name=summary]").fill("Préparé l'entretien annuel")
        screenshot(page, "i18n-fr-checkin-form")
        form.get_by_role("button", name="Enregistrer la rencontre").click()
        expect(page.locator("body")).to_contain_text("Point d'étape enregistré.")
        expect(page.locator("body")).to_contain_text("Préparé l'entretien annuel")
        screenshot(page, "i18n-fr-member-page")

        page.goto(f"{base}/my-data")
        expect(page.locator("h1").first).to_have_text("Mes données")

    with app.app_context():
        session = records.get_session()
        assert session.get(Member, member_id).locale == "fr_CA"
    # A reminder run weeks later: the mail to this member is French.
    database = records.get_database(app)
    later = utcnow().date() + timedelta(days=45)
    with smtp_server() as (inbox, url), Mailer(SmtpSettings.from_url(url)) as mailer:
        report = send_due(database.transaction, mailer, later, base_url="https://t.example")
    assert report.failed is None
    mine = [m for m in inbox.messages if mentee.email and mentee.email in m["To"]]
    assert mine, [m["To"] for m in inbox.messages]
    for message in mine:
        assert message["Content-Language"] == "fr-CA"
        body = message.get_payload(decode=True).decode()
        assert body.startswith(f"Bonjour {mentee.name},"), body
        subject = str(make_header(decode_header(message["Subject"])))
        assert "Time to meet" not in subject and "Checking in" not in subject
    database.dispose()
