"""Sending email over SMTP, configured by one URL (``TANDEM_SMTP_URL``).

``smtp://user:pass@host:587`` uses STARTTLS (port 587, or ``?starttls=true``);
``smtps://user:pass@host:465`` uses TLS from the start; ``smtp://127.0.0.1:2525`` is plain
(a local relay). ``?from=tandem@example.org`` sets the sender.

A user name and password are only ever sent over TLS (implicit or STARTTLS): a URL with
credentials and neither is refused, except under the development switch
``TANDEM_ALLOW_INSECURE_URLS`` (a local test server).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType
from urllib.parse import parse_qs, unquote, urlsplit

import outbound

from .errors import ReminderError

TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send."""

    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool
    starttls: bool
    sender: str

    @classmethod
    def from_url(cls, url: str | None) -> SmtpSettings:
        """Parse ``TANDEM_SMTP_URL``.

        Raises:
            ReminderError: the URL is missing or not ``smtp://`` / ``smtps://``.
        """
        if not url:
            raise ReminderError(
                "TANDEM_SMTP_URL is not set (e.g. smtp://user:pass@mail.example.org:587)"
            )
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ReminderError(
                "TANDEM_SMTP_URL must look like smtp://user:pass@host:587 or smtps://host:465"
            )
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        tls = parts.scheme == "smtps"
        port = parts.port or (465 if tls else 25)
        starttls_flag = query.get("starttls", "").lower()
        starttls = not tls and (
            starttls_flag in ("1", "true", "yes") or (port == 587 and starttls_flag == "")
        )
        if parts.username and not (tls or starttls) and not outbound.insecure_urls_allowed():
            raise ReminderError(
                "TANDEM_SMTP_URL would send its password without TLS: use smtps://host:465, "
                "smtp://host:587 (STARTTLS) or add ?starttls=true"
            )
        return cls(
            host=parts.hostname,
            port=port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
            starttls=starttls,
            sender=query.get("from") or "tandem@localhost",
        )


class Mailer:
    """One SMTP connection for a run of reminders; use it in a ``with`` block so the
    connection is closed (QUIT) whatever happens."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        s = self.settings
        try:
            if s.tls:
                self._smtp = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()
                )
            else:
                self._smtp = smtplib.SMTP(s.host, s.port, timeout=TIMEOUT_SECONDS)
                if s.starttls:
                    self._smtp.starttls(context=ssl.create_default_context())
            if s.username:
                self._smtp.login(s.username, s.password or "")
        except (smtplib.SMTPException, OSError) as exc:
            raise ReminderError(
                f"cannot reach the SMTP server {s.host}:{s.port}: {type(exc).__name__}"
            ) from exc
        return self

    def send(self, message: EmailMessage) -> None:
        """Send one message (raises the ``smtplib`` error when the server refuses)."""
        if self._smtp is None:
            raise RuntimeError("use the Mailer in a with block")
        if "From" not in message:
            message["From"] = self.settings.sender
        self._smtp.send_message(message)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None
