"""Errors of member-portal sign-in; ``lti_tool`` maps :class:`PortalError` to HTTP."""

from __future__ import annotations


class PortalError(Exception):
    """Base of every portal error.

    Attributes:
        reason: a short machine-readable reason, kept in the audit row.
        status: the HTTP status the web layer answers with.
        tenant_id: the tenant concerned, when known (for the audit row and framing).
        portal_id: the portal concerned, when known.
        detail: what the operator needs beyond the member's message (for the log line);
            never a secret or token.
    """

    status = 400

    def __init__(
        self,
        message: str,
        *,
        reason: str = "invalid",
        tenant_id: int | None = None,
        portal_id: int | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.tenant_id = tenant_id
        self.portal_id = portal_id
        self.detail = detail


class PortalConfigError(PortalError):
    """An operator's portal settings are wrong (bad name, issuer, claim, origin...)."""


class UnknownPortalError(PortalError):
    """No portal of that name is registered (or it does not offer that way in)."""

    status = 404


class SignInRefused(PortalError):
    """A sign-in was refused: bad state, token, link, or a member who may not come in."""


class CodeRefused(SignInRefused):
    """The provider's token endpoint refused the code (used, expired or not its own)."""


class ClientRejected(PortalError):
    """The provider's token endpoint refused Tandem's own client credentials: the
    operator's settings, not the member, are at fault."""

    status = 502


class MemberRefused(SignInRefused):
    """The person signed in, but is not (or no longer) a member Tandem may let in."""

    status = 403


class ProviderError(PortalError):
    """The portal's provider could not be reached or answered nonsense."""

    status = 502
