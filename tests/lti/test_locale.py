"""The member's language: the launch's locale claim, then the browser, then the tenant's
default, then English; remembered on the member for mail and .ics files."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import members
import records
from records import Member, Tenant
from tests.support.lti_platform import Person, TestPlatform

ADA = Person("user-1", "Ada", "Lovelace", "ada@example.edu", sourcedid="M-001")


def _locale_of_ada(app: Flask) -> str | None:
    with app.app_context(), records.get_database(app).transaction() as session:
        return session.scalars(select(Member.locale)).one()


def _page(client: FlaskClient, path: str, accept: str | None = None) -> str:
    headers = {"Accept-Language": accept} if accept else {}
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_a_french_canadian_launch_shows_french_pages_and_is_remembered(
    app: Flask, client: FlaskClient, platform: TestPlatform
) -> None:
    response = platform.launch(client, ADA, locale="fr-CA")
    assert response.status_code == 303
    assert _locale_of_ada(app) == "fr_CA"
    # The LMS's word beats the browser's: the iframe's browser may be set otherwise.
    mine = _page(client, "/checkins/", accept="en-US,en;q=0.9")
    assert '<html lang="fr-CA">' in mine
    assert "Mon mentorat" in mine and "My mentoring" not in mine
    assert "Vous n'avez pas encore de binôme actif." in mine
    programmes = _page(client, "/programmes")
    assert "Programmes de mentorat" in programmes
    assert "Aucun programme ici pour l'instant." in programmes
    assert client.get("/my-data.json").get_json()["profile"]["locale"] == "fr_CA"
    my_data = _page(client, "/my-data")
    assert (
        "Votre nom, votre e-mail, votre numéro de membre, votre fuseau horaire et votre langue"
        in my_data
    )
    # Error pages and refusals speak French too.
    missing = client.get("/programmes/999999")
    assert missing.status_code == 404
    assert "Tandem n&#39;a pas pu effectuer cette action" in missing.get_data(as_text=True)
    refused = client.post("/my-data/erasure-request", data={"csrf_token": "wrong"})
    assert refused.status_code == 400
    assert "Ce formulaire a expiré." in refused.get_data(as_text=True)


def test_without_a_locale_claim_the_browser_then_the_tenant_default_decides(
    app: Flask, client: FlaskClient, platform: TestPlatform
) -> None:
    platform.launch(client, ADA)
    assert _locale_of_ada(app) is None
    assert "Mon mentorat" in _page(client, "/checkins/", accept="fr-FR,fr;q=0.9,en;q=0.5")
    assert '<html lang="fr-FR">' in _page(client, "/checkins/", accept="fr-FR")
    german = _page(client, "/checkins/", accept="de-DE,de;q=0.9")
    assert "My mentoring" in german and '<html lang="en">' in german
    with app.app_context(), records.get_database(app).transaction() as session:
        tenant = session.get(Tenant, platform.tenant_id)
        members.set_tenant_settings(session, tenant, default_locale="fr")
    platform.launch(client, ADA)
    assert "Mon mentorat" in _page(client, "/checkins/", accept="de-DE,de;q=0.9")
    assert "Mon mentorat" in _page(client, "/checkins/")
    # The browser's own language still comes before the tenant's default.
    assert "My mentoring" in _page(client, "/checkins/", accept="en-GB,en;q=0.8")


@pytest.mark.parametrize(
    "claimed",
    ["x" * 5000, "<script>alert(1)</script>", 42, {"locale": "fr"}, ["fr"], "", "zz-ZZ", "fr;DROP"],
    ids=["long", "markup", "number", "object", "list", "empty", "unknown", "injection"],
)
def test_a_malformed_locale_claim_is_ignored_and_the_launch_goes_on(
    app: Flask, client: FlaskClient, platform: TestPlatform, claimed: Any
) -> None:
    platform.launch(client, ADA, locale="fr-CA")
    response = platform.launch(client, ADA, locale=claimed)
    assert response.status_code == 303
    # The member keeps the language Tandem knew; nothing of the bad claim is stored.
    assert _locale_of_ada(app) == "fr_CA"
    assert "Mon mentorat" in _page(client, "/checkins/")


def test_a_later_launch_in_english_switches_back(
    app: Flask, client: FlaskClient, platform: TestPlatform
) -> None:
    platform.launch(client, ADA, locale="fr-CA")
    platform.launch(client, ADA, locale="en-GB")
    assert _locale_of_ada(app) == "en_GB"
    page = _page(client, "/checkins/", accept="fr")
    assert "My mentoring" in page and '<html lang="en-GB">' in page


def test_a_language_tandem_does_not_speak_is_remembered_but_pages_follow_the_browser(
    app: Flask, client: FlaskClient, platform: TestPlatform
) -> None:
    """A German member: Tandem has no German yet, so the browser's next choice decides."""
    platform.launch(client, ADA, locale="de-DE")
    assert _locale_of_ada(app) == "de_DE"
    assert "Mon mentorat" in _page(client, "/checkins/", accept="de-DE,fr;q=0.8")
    assert "My mentoring" in _page(client, "/checkins/", accept="de-DE")
