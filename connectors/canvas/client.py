"""Canvas's REST API: bearer token, opaque Link bookmarks, a leaky-bucket throttle."""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import requests
import requests.adapters

from ..errors import AuthenticationError, ConnectorError, MalformedResponse, PermissionDenied
from ..http import Requester, retry_after_seconds

T = TypeVar("T")

PER_PAGE = 100
RATE_LIMIT_BODY = "Rate Limit Exceeded"
# Canvas's bucket leaks about this many units a second (its default outflow).
LEAK_RATE = 10.0
# Keep at least this much bucket, plus the cost of every request that may be in flight.
LOW_WATER = 50.0
# The shortest wait after a throttled answer.
THROTTLE_WAIT = 1.0
# Assumed cost of a request before Canvas has said (X-Request-Cost).
DEFAULT_COST = 1.0
# A small pool: requests overlap (and overlap the database writes) but each one in
# flight pays Canvas's up-front cost, so the pool stays small and is paced below.
DEFAULT_WORKERS = 4
# Pages or results fetched ahead and held while the caller writes a batch: more than a
# batch's worth (a sync batch of 2,000 rows spans 20 users pages or ~50 courses'
# enrolments), so the next batch is waiting when this one is written. With 16, the
# members phase stalled on four pages after every batch (benchmarks/sync.py on
# PostgreSQL: 13.0-13.2 s against 10.9-12.3 s with 64, for ~3 MiB more).
READ_AHEAD = 64


class CanvasRequester(Requester):
    """Canvas's requester: paced by its rate-limit headers, safe to share in a small pool.

    Every answer carries ``X-Request-Cost`` and (when throttling applies)
    ``X-Rate-Limit-Remaining``: before each request the requester waits for the bucket
    to hold enough for the requests in flight, and on a throttled answer (``429``, or the
    older ``403 Forbidden (Rate Limit Exceeded)``) it waits briefly, for the bucket to
    leak, rather than with growing sleeps: a throttle is pacing, not a failure.
    """

    name = "Canvas"

    def __init__(
        self, base_url: str, token: str, *, workers: int = DEFAULT_WORKERS, **kwargs: Any
    ) -> None:
        super().__init__(base_url, headers={"Authorization": f"Bearer {token}"}, **kwargs)
        self.workers = max(1, workers)
        self._lock = threading.Lock()
        self._remaining: float | None = None
        self._cost = DEFAULT_COST
        self._seen_at = 0.0
        # requests.Session shares its connection pool across threads; size it to the pool.
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=self.workers)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def is_throttled(self, response: requests.Response) -> bool:
        if response.status_code == 429:
            return True
        return response.status_code == 403 and RATE_LIMIT_BODY in response.text

    def _bucket_wait(self) -> float:
        """Seconds until the bucket holds enough for the requests that may be in flight."""
        if self._remaining is None:
            return 0.0
        leaked = (time.monotonic() - self._seen_at) * LEAK_RATE
        wanted = LOW_WATER + self._cost * self.workers
        return max(0.0, (wanted - self._remaining - leaked) / LEAK_RATE)

    def before_request(self) -> None:
        with self._lock:
            wait = min(self.max_backoff, self._bucket_wait())
            if wait > 0:
                # Count the wait as leaked now, so the pool's other threads do not add
                # their own waits for the same shortfall.
                self._remaining = LOW_WATER + self._cost * self.workers
                self._seen_at = time.monotonic() + wait
        if wait > 0:
            self.sleep(wait)

    def after_response(self, response: requests.Response) -> None:
        remaining = _number(response.headers.get("X-Rate-Limit-Remaining"))
        cost = _number(response.headers.get("X-Request-Cost"))
        with self._lock:
            if cost is not None:
                # A running mean: one expensive page should not stall the pool.
                self._cost = 0.8 * self._cost + 0.2 * cost
            if remaining is not None:
                self._remaining = remaining
                self._seen_at = time.monotonic()
            elif self.is_throttled(response):
                # Throttled without a figure: the brief wait in delay() is the pacing.
                self._remaining = None

    def delay(self, attempt: int, response: requests.Response | None = None) -> float:
        if response is None or not self.is_throttled(response):
            return super().delay(attempt, response)
        asked = retry_after_seconds(response.headers.get("Retry-After"))
        if asked is not None:
            return min(asked, self.max_backoff)
        with self._lock:
            # The bucket is full: wait while it leaks room for the pool's next requests.
            wait = max(THROTTLE_WAIT, self._cost * self.workers / LEAK_RATE)
        return min(wait, self.max_backoff)

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
        self, path: str, params: Mapping[str, Any] | None = None, *, read_ahead: bool = False
    ) -> Iterator[list[dict[str, Any]]]:
        """Each page of a list endpoint, following ``Link: rel="next"`` as an opaque URL.

        ``read_ahead``: fetch the next pages while the caller works on this one (one
        request more in flight, ``READ_AHEAD`` pages held at most; for the caller's own
        thread, not inside the pool).
        """
        first: Any = _expand([*(params or {}).items(), ("per_page", PER_PAGE)])

        def fetch(url: str, query: Any) -> tuple[list[dict[str, Any]], str | None]:
            payload, response = self.request_json("GET", url, params=query)
            if not isinstance(payload, list):
                raise MalformedResponse(f"Canvas {path} did not return a list")
            # The bookmark URL carries every parameter.
            return payload, response.links.get("next", {}).get("url")

        if not read_ahead or self.workers == 1:
            url: str | None = path
            query = first
            while url:
                page, url = fetch(url, query)
                query = None
                yield page
            return
        # One thread follows the bookmarks (each names the next) into a bounded queue, so
        # the pages keep coming while the caller writes a whole batch of them.
        pages: queue.Queue[tuple[list[dict[str, Any]] | None, BaseException | None]]
        pages = queue.Queue(READ_AHEAD)
        stop = threading.Event()

        def produce() -> None:
            url: str | None = path
            query = first
            try:
                while url and not stop.is_set():
                    page, url = fetch(url, query)
                    query = None
                    _put(pages, (page, None), stop)
            except BaseException as exc:  # handed to the caller, raised there in order
                _put(pages, (None, exc), stop)
                return
            _put(pages, (None, None), stop)

        with ThreadPoolExecutor(1, thread_name_prefix="canvas-pages") as pool:
            pool.submit(produce)
            try:
                while True:
                    page, error = pages.get()
                    if error is not None:
                        raise error
                    if page is None:
                        return
                    yield page
            finally:
                stop.set()

    def iter_ahead(self, calls: Iterable[Callable[[], T]]) -> Iterator[T]:
        """The results of ``calls`` in order, up to ``workers`` of them running at once.

        The caller (the sync, writing to the database) works on one result while the
        pool fetches the next ones (up to ``READ_AHEAD`` results wait for it); the first
        error is raised in order.
        """
        if self.workers == 1:
            for call in calls:
                yield call()
            return
        pending: deque[Future[T]] = deque()
        with ThreadPoolExecutor(self.workers, thread_name_prefix="canvas") as pool:
            try:
                for call in calls:
                    pending.append(pool.submit(call))
                    # Results wait (READ_AHEAD at most) while the caller writes; the
                    # pool still runs only ``workers`` requests at once.
                    if len(pending) > max(READ_AHEAD, self.workers):
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
            finally:
                for future in pending:
                    future.cancel()


def _put(into: queue.Queue[T], item: T, stop: threading.Event) -> None:
    """Put ``item`` once there is room, unless the reader has gone (``stop``)."""
    while not stop.is_set():
        try:
            into.put(item, timeout=0.1)
            return
        except queue.Full:
            continue


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _expand(items: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    out = []
    for key, value in items:
        if isinstance(value, list | tuple):
            out.extend((key, v) for v in value)
        else:
            out.append((key, value))
    return out
