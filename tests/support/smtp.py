"""A real SMTP server on loopback for tests (aiosmtpd), collecting what it receives."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Inbox:
    """What the server accepted; ``refuse_after`` makes it refuse from the nth message on."""

    messages: list[Message] = field(default_factory=list)
    refuse_after: int | None = None

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refuse_after is not None and len(self.messages) >= self.refuse_after:
            return "554 Transaction failed: test server refuses"
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    @property
    def recipients(self) -> list[str]:
        return [m["To"] for m in self.messages]


@contextmanager
def smtp_server() -> Iterator[tuple[Inbox, str]]:
    """Start a local SMTP server; yields its inbox and ``TANDEM_SMTP_URL``."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, f"smtp://127.0.0.1:{port}?from=tandem@example.org"
    finally:
        controller.stop()
