"""Issue 12, finding 12: SMTP credentials only ever travel over TLS (outside development)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from checkins import ReminderError
from checkins.mailer import Mailer, SmtpSettings
from tests.support.smtp import Inbox, free_port


@contextmanager
def plaintext_auth_server() -> Iterator[tuple[list[Any], int]]:
    """A loopback SMTP server that offers AUTH without TLS and records what it is sent."""
    logins: list[Any] = []

    def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        logins.append(auth_data)
        return AuthResult(success=True)

    port = free_port()
    controller = Controller(
        Inbox(),
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield logins, port
    finally:
        controller.stop()


def test_credentials_without_tls_are_refused_before_connecting(production_urls) -> None:
    with plaintext_auth_server() as (logins, port):
        url = f"smtp://ann:s3cret@127.0.0.1:{port}"
        with pytest.raises(ReminderError, match="without TLS"), Mailer(SmtpSettings.from_url(url)):
            pass
        assert logins == []


@pytest.mark.parametrize(
    "url",
    [
        "smtp://ann:s3cret@mail.example.org",
        "smtp://ann:s3cret@mail.example.org:2525",
        "smtp://ann:s3cret@mail.example.org:587?starttls=false",
        "smtp://ann@mail.example.org:25",
    ],
)
def test_every_plaintext_login_is_refused(production_urls, url: str) -> None:
    with pytest.raises(ReminderError, match="without TLS"):
        SmtpSettings.from_url(url)


def test_tls_logins_and_credential_free_relays_are_accepted(production_urls) -> None:
    assert SmtpSettings.from_url("smtps://ann:s3cret@mail.example.org").tls
    assert SmtpSettings.from_url("smtp://ann:s3cret@mail.example.org:587").starttls
    assert SmtpSettings.from_url("smtp://ann:s3cret@mail.example.org:25?starttls=true").starttls
    assert SmtpSettings.from_url("smtp://relay.example.org:25").username is None


def test_the_development_switch_allows_a_plaintext_loopback_server() -> None:
    """The suite sets TANDEM_ALLOW_INSECURE_URLS: a local test server may take a login."""
    with plaintext_auth_server() as (logins, port):
        with Mailer(SmtpSettings.from_url(f"smtp://ann:s3cret@127.0.0.1:{port}")):
            pass
        assert len(logins) == 1
