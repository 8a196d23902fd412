"""Errors of platform registration, LTI launches and LTI Advantage services."""

from __future__ import annotations


class PlatformError(Exception):
    """Base of every error raised by ``platforms``."""


class RegistrationError(PlatformError):
    """A platform registration is missing, duplicated or malformed.

    Attributes:
        reason: a short machine-readable code recorded in the audit trail.
        status: the HTTP status of the refusal page.
    """

    def __init__(self, message: str, *, reason: str = "invalid", status: int = 400) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = status


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


class RefusedURL(ServiceError):
    """A platform handed Tandem a URL it does not fetch (see :func:`outbound.check_url`).

    Nothing was sent; the message says why. Answered 400, not 502: the platform did not
    fail, its URL was refused.
    """


class DeepLinkingError(PlatformError):
    """A deep linking response cannot be built (no deep linking launch, unknown programme)."""
