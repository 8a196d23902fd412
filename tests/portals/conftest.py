"""Fixtures for portal tests: a test OpenID Connect provider on loopback, a tenant whose
directory already holds members, and a portal registered for it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

import portals
import records
from portals import PortalSettings
from records import AuditEvent, Identity, Member, Tenant
from tests.support.databases import table_row_counts
from tests.support.oidc_provider import OidcProvider, serve_provider

PORTAL = "assoc"


@dataclass
class Directory:
    """The tenant and the members its directory sync brought in."""

    tenant_id: int
    ada_id: int
    ben_id: int
    gone_id: int


@pytest.fixture
def provider() -> Iterator[OidcProvider]:
    with serve_provider() as running:
        yield running


@pytest.fixture
def directory(app: Flask) -> Directory:
    """A portal-only tenant with three members from the directory (one deactivated)."""
    with app.app_context(), records.get_database(app).transaction() as session:
        tenant = Tenant(slug="example-assoc", name="Example Association")
        session.add(tenant)
        session.flush()
        people = []
        for number, given, email, active in (
            ("M-1001", "Ada", "ada@example.org", True),
            ("M-1002", "Ben", "Ben.Baker@Example.org", True),
            ("M-1003", "Gus", "gus@example.org", False),
        ):
            member = Member(
                tenant_id=tenant.id,
                given_name=given,
                family_name="Member",
                display_name=f"{given} Member",
                email=email,
                member_number=number,
                active=active,
            )
            session.add(member)
            session.flush()
            session.add(
                Identity(
                    tenant_id=tenant.id, member_id=member.id, source="directory", external_id=number
                )
            )
            people.append(member.id)
        return Directory(tenant.id, *people)


def register_portal(app: Flask, provider: OidcProvider, **settings: object) -> int:
    values = {
        "name": PORTAL,
        "issuer": provider.issuer,
        "client_id": provider.client_id,
        "client_secret": provider.client_secret,
        "tenant_slug": "example-assoc",
        "member_number_claim": "member_number",
        "coordinator_claim": "groups",
        "coordinator_values": ("mentoring-coordinators",),
        "origins": ("https://portal.example.org",),
        **settings,
    }
    with app.app_context(), records.get_database(app).transaction() as session:
        portal = portals.add_portal(
            session, app.extensions["tandem.secrets"], PortalSettings(**values)
        )
        return portal.id


@pytest.fixture
def portal_id(app: Flask, provider: OidcProvider, directory: Directory) -> int:
    return register_portal(app, provider)


def start(client: FlaskClient, name: str = PORTAL) -> str:
    """Open the portal's login page; returns the provider URL it redirects to."""
    response = client.get(f"/portal/{name}/login")
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.location


def authorize(url: str) -> str:
    """What the browser does at the provider: returns Tandem's callback path and query."""
    answer = requests.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    parts = urlsplit(answer.headers["Location"])
    return f"{parts.path}?{parts.query}"


def sign_in(client: FlaskClient, name: str = PORTAL) -> TestResponse:
    """The whole journey: login, provider, callback."""
    return client.get(authorize(start(client, name)))


def row_counts(app: Flask) -> dict[str, int]:
    with app.app_context(), records.get_database(app).transaction() as session:
        return table_row_counts(session)


def grown(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Tables whose row count changed, and by how much."""
    return {name: after[name] - before[name] for name in after if after[name] != before[name]}


def last_audit(app: Flask) -> AuditEvent:
    with app.app_context(), records.get_database(app).transaction() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event is not None
        session.expunge(event)
        return event


def refused(app: Flask, client: FlaskClient, url: str, status: int, reason: str) -> str:
    """Open the callback ``url``, check it is refused with ``status`` and ``reason``, with
    exactly one audit row and no other write; returns the page's text."""
    before = row_counts(app)
    response = client.get(url)
    page = response.get_data(as_text=True)
    assert response.status_code == status, page
    assert grown(before, row_counts(app)) == {"audit_events": 1}
    assert last_audit(app).detail["reason"] == reason
    return page
