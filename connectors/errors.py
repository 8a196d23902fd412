"""Errors of the connectors: one base, a few kinds an operator can act on.

Every HTTP failure, payload problem and remote error code is turned into one of these by
the backend's requester, so the sync and the CLI never see a ``requests`` exception.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base of every error raised by ``connectors``."""


class ConfigError(ConnectorError):
    """A connector's settings or config file are missing or malformed."""


class AuthenticationError(ConnectorError):
    """The source refused the credentials (bad, expired or revoked token)."""


class PermissionDenied(ConnectorError):
    """The credentials are good but lack a permission or capability."""


class FunctionNotAvailable(PermissionDenied):
    """A Moodle web-service function is not in the token's external service."""


class RefusedURL(ConnectorError):
    """A URL Tandem does not fetch: not https, not a public address, a redirect, or a link
    off the configured source's origin (see ``outbound.check_url``). Nothing was sent."""


class NotFound(ConnectorError):
    """The source has no such resource (a wrong URL, account or course id)."""


class BadRequest(ConnectorError):
    """The source rejected the request's parameters."""


class Unreachable(ConnectorError):
    """The host could not be reached or did not answer in time, after retries."""


class RateLimited(ConnectorError):
    """The source kept throttling after every retry."""


class ServerError(ConnectorError):
    """The source kept failing with 5xx after every retry."""


class AsyncResultFailed(ConnectorError):
    """A query the source builds asynchronously failed there or was never ready."""


class MalformedResponse(ConnectorError):
    """The source answered with something that is not the documented payload."""


class NoData(ConnectorError):
    """The source has nothing to say for this item (not a failure; connectors skip it)."""


class InvalidFile(ConnectorError):
    """A file to import cannot be read as a whole (encoding, empty, header, columns)."""


class InvalidRecord(ConnectorError):
    """One source row failed validation (raised only in strict mode)."""
