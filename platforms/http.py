"""The one place Tandem talks HTTP to a platform: URLs checked, timeouts set, errors mapped.

Every URL goes through :func:`outbound.check_url` (https, public addresses, the address
pinned for the connection) and no redirect is followed: a platform's key set, token,
NRPS and AGS URLs come from the platform itself, so they are as untrusted as its claims.
"""

from __future__ import annotations

from typing import Any

import requests

import outbound

from .errors import RefusedURL, ServiceError

TIMEOUT_SECONDS = 10
MAX_BODY_BYTES = 5_000_000


def call(method: str, url: str, **kwargs: Any) -> requests.Response:
    """Send one request to a platform and return the response when it succeeded.

    Raises:
        RefusedURL: the URL is not one Tandem fetches (nothing was sent).
        ServiceError: the platform could not be reached or answered with an error status.
    """
    kwargs.setdefault("timeout", TIMEOUT_SECONDS)
    # A session per call, closed at once: no sockets leak between requests of a worker.
    with outbound.outbound_session() as http:
        try:
            response = http.request(method, url, **kwargs)
        except outbound.URLRefused as exc:
            raise RefusedURL(f"{method} refused: {exc}") from exc
        except requests.RequestException as exc:
            raise ServiceError(f"{method} {url} failed: {type(exc).__name__}") from exc
    if response.status_code >= 400:
        raise ServiceError(f"{method} {url} answered HTTP {response.status_code}")
    if len(response.content) > MAX_BODY_BYTES:
        raise ServiceError(f"{method} {url} answered more than {MAX_BODY_BYTES} bytes")
    return response


def call_json(method: str, url: str, **kwargs: Any) -> Any:
    """:func:`call`, returning the JSON body.

    Raises:
        ServiceError: as :func:`call`, or the body is not JSON.
    """
    response = call(method, url, **kwargs)
    try:
        return response.json()
    except ValueError as exc:
        raise ServiceError(f"{method} {url} did not answer JSON") from exc
