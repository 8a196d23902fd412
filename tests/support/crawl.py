"""A breadth-first crawl of the pages a browser can reach by following links.

Same origin only, GET only (links, never forms), each URL once, a few URLs of each shape
(``/credentials/<id>`` for two ids, not for all), up to a cap. Links that
would change who the browser is signed in as (sign-out, a new launch or sign-in) are
left alone, so a crawl sees the site as one person sees it.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag, urlsplit

from playwright.sync_api import Error as PlaywrightError

# Parts of a path that name one record: pages whose paths differ only there show the
# same template, so a crawl checks a few of each, not every one.
_RECORD_IDS = re.compile(r"/(\d+|[0-9a-f]{8}-[0-9a-f-]{27}|[A-Za-z0-9_-]{32,})(?=/|$)")
# Paths whose GET signs the browser out or in as someone else.
IDENTITY_PATHS = re.compile(r"^/(sign-out|lti/login|demo-lms/authorize|portal/[^/]+/login)$")


def template_of(path: str) -> str:
    """The path with its record ids as ``*``: ``/credentials/*``, ``/programmes/*/match``."""
    return _RECORD_IDS.sub("/*", path)


@dataclass
class Crawl:
    """The pages one browser (one person) reaches from its start pages."""

    base: str
    cap: int
    per_template: int = 2
    visited: list[str] = field(default_factory=list)
    not_pages: list[str] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)
    _queue: deque[str] = field(default_factory=deque)
    _templates: Counter[str] = field(default_factory=Counter)

    def start(self, paths: Iterable[str]) -> None:
        """Queue start pages (paths on ``base``), the sign-out page included."""
        self.enqueue((self.base + path for path in paths), start=True)

    def enqueue(self, urls: Iterable[str], *, start: bool = False) -> None:
        """Queue the same-origin URLs not seen yet (fragments dropped), but for start
        pages only a few of each shape and none that signs in or out."""
        for raw in urls:
            url = urldefrag(raw).url
            parts = urlsplit(url)
            if not url.startswith(self.base + "/"):
                continue
            if not start and IDENTITY_PATHS.match(parts.path):
                continue
            if url in self._seen:
                continue
            self._seen.add(url)
            template = template_of(parts.path) + ("?" if parts.query else "")
            if start or self._templates[template] < self.per_template:
                self._templates[template] += 1
                self._queue.append(url)

    def enqueue_links(self, page: Any) -> None:
        """Queue the links of the page the browser shows now."""
        self.mark_seen(page.url)
        self.enqueue(page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"))

    def mark_seen(self, url: str) -> None:
        self._seen.add(urldefrag(url).url)

    def run(self, page: Any, check: Callable[[Any, Any], None]) -> None:
        """Visit queued URLs breadth-first until none are left or ``cap`` pages were
        checked; ``check(page, response)`` runs on each HTML page, then its links queue.

        Downloads and non-HTML answers (JSON, CSV, .ics) are listed in ``not_pages``.
        """
        while self._queue and len(self.visited) < self.cap:
            url = self._queue.popleft()
            try:
                response = page.goto(url)
            except PlaywrightError as exc:
                if "Download is starting" not in str(exc):
                    raise
                self.not_pages.append(url)
                continue
            content_type = response.headers.get("content-type", "") if response else ""
            if not content_type.startswith("text/html"):
                self.not_pages.append(url)
                continue
            self.visited.append(url)
            check(page, response)
            self.enqueue_links(page)

    @property
    def exhausted(self) -> bool:
        """Whether every reachable page was checked (the cap was not what stopped it)."""
        return not self._queue
