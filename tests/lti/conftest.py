"""Fixtures for the LTI suite: a registered test platform whose endpoints ``responses`` serves."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import records
from tests.support.databases import table_row_counts
from tests.support.lti_platform import TestPlatform


@pytest.fixture
def mock_http() -> Iterator[responses.RequestsMock]:
    """Every outgoing HTTP call of the test; an unexpected one fails."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture(autouse=True)
def tool_key(app: Flask) -> None:
    """Give the tool its first key from a cached RSA key: generating one per test is slow."""
    from platforms import rotate_key
    from tests.support.lti_platform import rsa_key

    with app.app_context(), records.get_database(app).transaction() as session:
        rotate_key(session, app.extensions["tandem.secrets"], rsa_key("tool"))


def make_platform(app: Flask, client: FlaskClient, mock: responses.RequestsMock, **kwargs):  # type: ignore[no-untyped-def]
    platform = TestPlatform(**kwargs)
    platform.tenant_id = platform.register(app)
    platform.mount(mock)
    platform.tool_key_set = client.get("/lti/jwks").get_json()
    return platform


@pytest.fixture
def platform(app: Flask, client: FlaskClient, mock_http: responses.RequestsMock) -> TestPlatform:
    """A Moodle-like platform, registered, with the tool's key set in hand."""
    return make_platform(app, client, mock_http)


def row_counts(app: Flask) -> dict[str, int]:
    """How many rows each table holds."""
    with app.app_context(), records.get_database(app).transaction() as session:
        return table_row_counts(session)


def audit_actions(app: Flask) -> list[tuple[str, dict]]:
    from records import AuditEvent

    with app.app_context(), records.get_database(app).transaction() as session:
        return [
            (e.action, e.detail)
            for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]
