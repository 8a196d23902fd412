"""Canvas's REST API: bearer token, opaque Link bookmarks, a leaky-bucket throttle."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import requests

from ..errors import AuthenticationError, ConnectorError, MalformedResponse, PermissionDenied
from ..http import Requester

PER_PAGE = 100
RATE_LIMIT_BODY = "Rate Limit Exceeded"
# Below this much bucket left, pause before the next request rather than hit the wall.
LOW_WATER = 100.0


class CanvasRequester(Requester):
    """One request at a time (parallel requests each pay an up-front cost), with backoff
    on both throttling signals: ``429`` and the older ``403 Forbidden (Rate Limit
    Exceeded)``."""

    name = "Canvas"

    def __init__(self, base_url: str, token: str, **kwargs: Any) -> None:
        super().__init__(base_url, headers={"Authorization": f"Bearer {token}"}, **kwargs)
        self._pause = 0.0

    def is_throttled(self, response: requests.Response) -> bool:
        if response.status_code == 429:
            return True
        return response.status_code == 403 and RATE_LIMIT_BODY in response.text

    def before_request(self) -> None:
        if self._pause:
            self.sleep(self._pause)
            self._pause = 0.0

    def after_response(self, response: requests.Response) -> None:
        remaining = response.headers.get("X-Rate-Limit-Remaining")
        try:
            left = float(remaining) if remaining is not None else None
        except ValueError:
            left = None
        if left is not None and left < LOW_WATER:
            # The bucket drains at about 10 units a second: wait for some of it.
            self._pause = min(self.max_backoff, (LOW_WATER - left) / 10.0)

    def error_for(self, response: requests.Response) -> ConnectorError | None:
        if response.status_code == 401:
            if response.headers.get("WWW-Authenticate"):
                return AuthenticationError(
                    "Canvas refused the token (HTTP 401 with WWW-Authenticate): it is wrong, "
                    "expired (developer-key tokens last an hour) or revoked"
                )
            return PermissionDenied(
                f"Canvas says the token's user is not authorised for {response.request.method} "
                f"{response.url.split('?')[0]} (HTTP 401): grant the account role the "
                "permission to read users, courses and enrolments"
            )
        return super().error_for(response)

    def iter_pages(
        self, path: str, params: Mapping[str, Any] | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Each page of a list endpoint, following ``Link: rel="next"`` as an opaque URL."""
        url: str | None = path
        query: Any = [*(params or {}).items(), ("per_page", PER_PAGE)]
        query = _expand(query)
        while url:
            payload, response = self.request_json("GET", url, params=query)
            if not isinstance(payload, list):
                raise MalformedResponse(f"Canvas {path} did not return a list")
            yield payload
            url = response.links.get("next", {}).get("url")
            query = None  # the bookmark URL carries every parameter


def _expand(items: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    out = []
    for key, value in items:
        if isinstance(value, list | tuple):
            out.extend((key, v) for v in value)
        else:
            out.append((key, value))
    return out
