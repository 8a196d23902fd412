"""Errors of platform registration, LTI launches and LTI Advantage services."""

from __future__ import annotations


class PlatformError(Exception):
    """Base of every error raised by ``platforms``."""


class RegistrationError(PlatformError):
    """A platform registration is missing, duplicated or malformed."""


class LoginError(PlatformError):
    """An OIDC login initiation request cannot be answered.

    Attributes:
        reason: a short machine-readable code recorded in the audit trail.
    """

    def __init__(self, reason: str, message: str, *, issuer: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.issuer = issuer


class LaunchError(PlatformError):
    """An id_token was refused.

    Attributes:
        reason: a short machine-readable code recorded in the audit trail
            (``bad_signature``, ``nonce_replayed``, ...).
        tenant_id: the tenant the token claimed to come from, when it is known.
    """

    status = 400

    def __init__(self, reason: str, message: str, *, tenant_id: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.tenant_id = tenant_id


class LaunchForbidden(LaunchError):
    """The token was well formed but its signature, issuer or audience does not hold."""

    status = 403


class ServiceError(PlatformError):
    """A call to a platform's LTI Advantage service (token, NRPS, AGS) failed."""


class DeepLinkingError(PlatformError):
    """A deep linking response cannot be built (no deep linking launch, unknown programme)."""
