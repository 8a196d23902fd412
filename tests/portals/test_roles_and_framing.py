"""Coordinators from a portal claim, and pages framed by the portal's origin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portals import role_from_claims
from records import Portal
from tests.support.oidc_provider import OidcProvider

from .conftest import PORTAL, Directory, authorize, register_portal, start


def portal(claim: str | None = "groups", values: tuple = ("mentoring-coordinators",)) -> Portal:
    return Portal(name="p", coordinator_claim=claim, coordinator_values=list(values))


@pytest.mark.parametrize(
    ("claims", "role"),
    [
        ({"groups": ["members", "mentoring-coordinators"]}, "coordinator"),
        ({"groups": "mentoring-coordinators"}, "coordinator"),
        ({"groups": ["Mentoring-Coordinators"]}, "member"),  # groups are compared exactly
        ({"groups": ["members"]}, "member"),
        ({"groups": True}, "member"),
        ({"groups": [{"name": "mentoring-coordinators"}]}, "member"),
        ({}, "member"),
    ],
)
def test_coordinator_from_a_group_claim(claims: dict, role: str) -> None:
    assert role_from_claims(portal(), claims) == role


def test_nested_and_numeric_claims() -> None:
    keycloak = portal("realm_access.roles", ("coordinator",))
    assert role_from_claims(keycloak, {"realm_access": {"roles": ["coordinator"]}}) == (
        "coordinator"
    )
    level = portal("staff_level", ("3",))
    assert role_from_claims(level, {"staff_level": 3}) == "coordinator"
    assert role_from_claims(level, {"staff_level": 2}) == "member"


def test_no_mapping_means_member() -> None:
    assert role_from_claims(portal(None, ()), {"groups": ["mentoring-coordinators"]}) == "member"


@pytest.fixture
def https_app_config(app_config: dict) -> dict:
    return {**app_config, "TANDEM_BASE_URL": "https://tandem.test"}


@pytest.fixture
def https_client(https_app_config: dict) -> Iterator[FlaskClient]:
    from lti_tool.app import create_app
    from tests.support.clients import BaseUrlClient

    application = create_app(https_app_config)
    application.test_client_class = BaseUrlClient
    yield application.test_client()
    application.extensions["tandem.database"].dispose()


def test_over_https_cookies_reach_tandem_inside_the_portals_frame(
    https_client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    response = https_client.get(f"/portal/{PORTAL}/login", base_url="https://tandem.test")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "SameSite=None" in cookie
    provider.next_claims = {"sub": "p-ada", "member_number": "M-1001"}
    done = https_client.get(authorize(response.location), base_url="https://tandem.test")
    assert done.status_code == 303
    session_cookie = done.headers.get_all("Set-Cookie")
    assert any(c.startswith("session=") and "SameSite=None" in c for c in session_cookie)


def test_refusal_pages_may_be_framed_by_the_portal(
    client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    url = authorize(start(client))
    response = client.get(url.replace("state=", "state=x"))
    assert response.status_code == 400
    assert response.headers["Content-Security-Policy"].split("; ")[0] == (
        "frame-ancestors 'self' https://portal.example.org"
    )


def test_each_portal_frames_its_own_pages_only(
    app: Flask, client: FlaskClient, provider: OidcProvider, directory: Directory
) -> None:
    register_portal(app, provider, origins=("https://one.example.org",))
    register_portal(app, provider, name="second", origins=("https://two.example.org",))
    first = client.get(f"/portal/{PORTAL}/login").headers["Content-Security-Policy"]
    second = client.get("/portal/second/login").headers["Content-Security-Policy"]
    assert "one.example.org" in first and "two.example.org" not in first
    assert "two.example.org" in second and "one.example.org" not in second
