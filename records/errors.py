"""Errors of the records layer."""


class RecordsError(Exception):
    """Base of every error raised by ``records``."""


class ConfigurationError(RecordsError):
    """The database or encryption settings are missing or malformed."""


class EncryptionKeyError(ConfigurationError):
    """``TANDEM_ENCRYPTION_KEY`` is missing or not a valid Fernet key."""


class DecryptionError(RecordsError):
    """A stored secret cannot be decrypted with the configured keys."""
