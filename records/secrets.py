"""Secrets at rest: Fernet encryption under ``TANDEM_ENCRYPTION_KEY`` with key rotation."""

from __future__ import annotations

from collections.abc import Iterable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from .errors import DecryptionError, EncryptionKeyError


def generate_key() -> str:
    """A new random Fernet key, as text suitable for ``TANDEM_ENCRYPTION_KEY``."""
    return Fernet.generate_key().decode("ascii")


class SecretBox:
    """Encrypts and decrypts secrets with one or more Fernet keys.

    ``TANDEM_ENCRYPTION_KEY`` holds one key, or several separated by commas: the first
    encrypts, all of them decrypt. To rotate, put a new key first, run
    ``tandem db rotate-secrets`` (which re-encrypts every stored secret under it), then
    drop the old key.
    """

    def __init__(self, keys: Iterable[str]) -> None:
        fernets = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.strip().encode("ascii")))
            except (ValueError, UnicodeEncodeError) as exc:
                # Never echo the key itself: say which one and what shape was expected.
                raise EncryptionKeyError(
                    f"TANDEM_ENCRYPTION_KEY key #{position} is not a Fernet key "
                    "(32 url-safe base64-encoded bytes; make one with `tandem keys new-fernet`)"
                ) from exc
        if not fernets:
            raise EncryptionKeyError("TANDEM_ENCRYPTION_KEY is empty: at least one key is needed")
        self._fernet = MultiFernet(fernets)

    @classmethod
    def from_setting(cls, value: str) -> SecretBox:
        """Build from the comma-separated form used in ``TANDEM_ENCRYPTION_KEY``."""
        return cls(part for part in value.split(",") if part.strip())

    def encrypt(self, secret: str) -> str:
        """Encrypt ``secret`` under the first key."""
        return self._fernet.encrypt(secret.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """Decrypt a token made by :meth:`encrypt` with any configured key.

        Raises:
            DecryptionError: no configured key opens the token (wrong key, or tampered).
        """
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError) as exc:
            raise DecryptionError(
                "a stored secret could not be decrypted with TANDEM_ENCRYPTION_KEY "
                "(wrong key, or a key removed before `tandem db rotate-secrets` ran)"
            ) from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt a token under the first key."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken as exc:
            raise DecryptionError(
                "a stored secret could not be re-encrypted: no configured key opens it"
            ) from exc

    def __repr__(self) -> str:
        return "<SecretBox (keys hidden)>"
