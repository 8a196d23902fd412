"""One HTTP requester per backend: timeouts always set, bounded retries, errors mapped.

Retries cover what a later attempt can fix: connection failures, timeouts, 5xx,
throttling (429, or whatever a backend's ``is_throttled`` says) and malformed JSON (a
truncated body from a proxy). Each waits an exponentially growing, jittered delay, or the
server's ``Retry-After`` when it says more. ``sleep`` and ``random`` are injectable so
tests never wait.

Every request goes through :func:`outbound.outbound_session` (https, public addresses,
the checked address pinned, no redirect followed), and an absolute URL a source hands
back (a ``next`` URL, a ``Link`` header, a result URL) is followed only on the configured
source's own origin: the credentials on the session go nowhere else.
"""

from __future__ import annotations

import random as random_module
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests

import outbound

from .errors import (
    AuthenticationError,
    BadRequest,
    ConnectorError,
    MalformedResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    RefusedURL,
    ServerError,
    Unreachable,
)

DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 4
USER_AGENT = "Tandem-connector/0.1 (+https://github.com/tandem-mentoring)"


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class Requester:
    """Sends requests to one source through one ``requests.Session``.

    Args:
        base_url: joined with relative paths; absolute URLs (``Link`` bookmarks, next
            URLs) are used as they are.
        timeout: seconds for connect and for each read; always passed to ``requests``.
        max_retries: further attempts after the first, for retryable failures.
        backoff: the first retry's delay ceiling in seconds; doubles per attempt.
        max_backoff: the cap on any one delay, ``Retry-After`` included.
        sleep, random: injected by tests.
    """

    name = "source"

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_RETRIES,
        backoff: float = 0.5,
        max_backoff: float = 60.0,
        headers: Mapping[str, str] | None = None,
        auth: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = random_module.random,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.sleep = sleep
        self.random = random
        self.session = session or outbound.outbound_session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Accept"] = "application/json"
        if headers:
            self.session.headers.update(headers)
        if auth is not None:
            self.session.auth = auth
        self.requests_sent = 0
        # A pool of threads may share one requester (Canvas): count under a lock.
        self._count_lock = threading.Lock()

    def url(self, path: str) -> str:
        """``path`` joined to the base URL; an absolute URL only on the base URL's origin.

        Raises:
            RefusedURL: an absolute URL on another scheme, host or port.
        """
        if "://" in path:
            if not outbound.same_origin(path, self.base_url):
                raise RefusedURL(
                    f"{self.name} pointed to {_redact(path)}, which is not on the configured "
                    f"source {_redact(self.base_url)}; Tandem follows links only there"
                )
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def delay(self, attempt: int, response: requests.Response | None = None) -> float:
        """How long to wait before retry number ``attempt`` (1-based)."""
        ceiling = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        # "Equal jitter": never less than half the ceiling, so retries do spread out but
        # a busy server still gets real breathing room.
        wait = ceiling / 2 + self.random() * ceiling / 2
        if response is not None:
            asked = retry_after_seconds(response.headers.get("Retry-After"))
            if asked is not None:
                wait = max(wait, min(asked, self.max_backoff))
        return wait

    def is_throttled(self, response: requests.Response) -> bool:
        """Whether ``response`` means "slow down" (backends add their own signals)."""
        return response.status_code == 429

    def before_request(self) -> None:
        """A hook run before each attempt (OAuth2 refreshes its token here)."""

    def after_response(self, response: requests.Response) -> None:
        """A hook run after each response (Canvas paces itself by its rate headers here)."""

    def error_for(self, response: requests.Response) -> ConnectorError | None:
        """The error a non-retryable response means, or ``None`` if it is a success."""
        status = response.status_code
        if status < 400:
            return None
        detail = _short_body(response)
        where = f"{response.request.method} {_redact(response.url)}"
        if status == 401:
            return AuthenticationError(
                f"{self.name} refused the credentials (HTTP 401 on {where}){detail}"
            )
        if status == 403:
            return PermissionDenied(
                f"{self.name} denied access (HTTP 403 on {where}): the credentials lack a "
                f"permission{detail}"
            )
        if status == 404:
            return NotFound(f"{self.name} has no {where} (HTTP 404){detail}")
        if status in (400, 422):
            return BadRequest(f"{self.name} rejected {where} (HTTP {status}){detail}")
        return ConnectorError(f"{self.name} answered HTTP {status} on {where}{detail}")

    def send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send with retries; return the first response that is final.

        A final response may still be an error status: callers use :meth:`error_for`, or
        :meth:`request_json` which does.

        Raises:
            Unreachable, RateLimited, ServerError: retries ran out.
        """
        url = self.url(path)
        attempt = 0
        while True:
            self.before_request()
            try:
                with self._count_lock:
                    self.requests_sent += 1
                response = self.session.request(method, url, timeout=self.timeout, **kwargs)
            except outbound.URLRefused as exc:
                raise RefusedURL(f"{self.name}: {exc}") from exc
            except requests.Timeout as exc:
                failure: ConnectorError = Unreachable(
                    f"{self.name} did not answer within {self.timeout:g} s "
                    f"({method} {_redact(url)})"
                )
                cause: Exception | None = exc
                response = None
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                # A server dying mid-body shows as a broken chunked read: worth a retry.
                failure = Unreachable(f"cannot reach {self.name} at {_host(url)}: {_reason(exc)}")
                cause, response = exc, None
            except requests.RequestException as exc:
                raise Unreachable(f"request to {self.name} failed: {_reason(exc)}") from exc
            else:
                self.after_response(response)
                cause = None
                if self.is_throttled(response):
                    failure = RateLimited(
                        f"{self.name} kept throttling requests (HTTP {response.status_code}) "
                        f"after {self.max_retries} retries; try again later"
                    )
                elif response.status_code >= 500:
                    failure = ServerError(
                        f"{self.name} kept failing with HTTP {response.status_code} on "
                        f"{method} {_redact(url)} after {self.max_retries} retries"
                    )
                else:
                    return response
            attempt += 1
            if attempt > self.max_retries:
                raise failure from cause
            self.sleep(self.delay(attempt, response))

    def request_json(
        self, method: str, path: str, *, accept: tuple[int, ...] = (), **kwargs: Any
    ) -> tuple[Any, requests.Response]:
        """Send, check the status, parse JSON; malformed JSON is retried like a 5xx.

        Args:
            accept: error statuses the caller handles itself (returned, not raised).

        Raises:
            ConnectorError: a subclass naming what went wrong.
        """
        attempt = 0
        while True:
            response = self.send(method, path, **kwargs)
            if response.status_code not in accept:
                error = self.error_for(response)
                if error is not None:
                    raise error
            try:
                return response.json(), response
            except ValueError as exc:
                attempt += 1
                if attempt > self.max_retries:
                    raise MalformedResponse(
                        f"{self.name} sent a body that is not JSON on {method} "
                        f"{_redact(response.url)} (HTTP {response.status_code}, "
                        f"{response.headers.get('Content-Type', 'no content type')})"
                    ) from exc
                self.sleep(self.delay(attempt))

    def close(self) -> None:
        """Close the session's pooled connections."""
        self.session.close()


def _short_body(response: requests.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        text = response.text.strip()
        return f": {text[:200]}" if text else ""
    if isinstance(payload, dict):
        for key in ("message", "detail", "error_description", "error", "errors", "Message"):
            value = payload.get(key)
            if isinstance(value, dict):
                value = value.get("message")
            if isinstance(value, list) and value:
                value = value[0].get("message") if isinstance(value[0], dict) else value[0]
            if value:
                return f": {str(value)[:200]}"
    return ""


def _redact(url: str) -> str:
    # Tokens travel in query strings on some sources (Moodle, API-key-in-query):
    # an error message must never print them.
    base, _, query = url.partition("?")
    if not query:
        return base
    kept = []
    for part in query.split("&"):
        name = part.split("=", 1)[0]
        lowered = name.lower()
        secret = any(word in lowered for word in ("token", "key", "secret", "password", "sig"))
        kept.append(f"{name}=***" if secret else part)
    return f"{base}?{'&'.join(kept)}"


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0]


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "No route to host"):
        if marker in text:
            return marker.lower()
    if "RemoteDisconnected" in text or "Connection aborted" in text:
        return "the server closed the connection"
    return type(exc).__name__
