"""Re-encrypt every stored secret under the first configured key."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .portals import Portal
from .secrets import SecretBox
from .sync_state import ConnectorConfig
from .tenancy import ToolKey

# (model, column) of every encrypted value. A module that adds an encrypted column adds
# it here, so that `tandem db rotate-secrets` never leaves one behind.
ENCRYPTED_COLUMNS: list[tuple[type, str]] = [
    (ToolKey, "private_key_encrypted"),
    (ConnectorConfig, "secret_encrypted"),
    (Portal, "client_secret_encrypted"),
]


def rotate_secrets(session: Session, box: SecretBox) -> int:
    """Re-encrypt each stored secret with ``box``'s first key; returns how many.

    All or nothing: the caller's transaction either re-encrypts every value or, if one
    cannot be opened, none (a :class:`DecryptionError` propagates).
    """
    count = 0
    for model, column in ENCRYPTED_COLUMNS:
        for row in session.scalars(select(model).where(getattr(model, column).is_not(None))):
            setattr(row, column, box.rotate(getattr(row, column)))
            count += 1
    session.flush()
    return count
