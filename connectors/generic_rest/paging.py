"""Pagination styles of REST directories, each yielding one page of rows at a time.

``members.pagination.type`` picks one:

* ``none``: one response holds everything;
* ``page``: ``param`` (page number from ``start``, default 1) and ``size_param``;
* ``offset``: ``offset_param`` from ``start`` (SCIM: ``startIndex`` from 1) and
  ``limit_param``; short pages allowed, ended by an empty page or ``total_path``;
* ``cursor``: the next cursor at the JSON path ``cursor_path``, sent back as ``param``;
* ``link_header``: follow ``Link: <...>; rel="next"``;
* ``next_url``: follow the URL at ``next_path`` (Salesforce ``nextRecordsUrl``);
* ``async_result``: submit, then poll a result until it is ready (Wild Apricot's
  ``ResultId``), then read it in ``offset`` pages.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import AsyncResultFailed, MalformedResponse
from ..http import Requester
from .paths import get_path


def iter_pages(
    client: Requester,
    paging: Mapping[str, Any],
    path: str,
    params: dict[str, Any],
    records_path: str | None,
) -> Iterator[list[Any]]:
    """Each page's list of rows, fetched only when the previous one is used up.

    Raises:
        MalformedResponse: a response without a list at ``records_path``.
        AsyncResultFailed: an asynchronous result failed or never became ready.
    """
    kind = paging.get("type", "none")
    if kind == "async_result":
        yield from _async_pages(client, paging, path, params, records_path)
        return
    size = int(paging.get("size", 100))
    start = int(paging.get("start", 1 if kind == "page" else 0))
    position, seen = start, 0
    url: str | None = path
    while url:
        query = dict(params)
        if kind == "page":
            query[paging.get("param", "page")] = position
            query[paging.get("size_param", "per_page")] = size
        elif kind == "offset":
            query[paging.get("offset_param", "offset")] = position
            query[paging.get("limit_param", "limit")] = size
        payload, response = client.request_json("GET", url, params=query or None)
        rows = _rows(payload, records_path, path)
        yield rows
        seen += len(rows)
        if kind in ("page", "offset"):
            total = get_path(payload, paging.get("total_path"))
            position += 1 if kind == "page" else len(rows)
            # Servers may return short pages (SCIM says so): only an empty page or
            # the announced total ends the listing.
            done = not rows or (isinstance(total, int) and seen >= total)
            url = None if done else url
        elif kind == "cursor":
            token = get_path(payload, paging.get("cursor_path"))
            params = {**params, paging.get("param", "cursor"): token}
            url = url if token and rows else None
        elif kind == "link_header":
            url, params = response.links.get("next", {}).get("url"), {}
        elif kind == "next_url":
            url, params = get_path(payload, paging.get("next_path")), {}
        else:
            url = None


def _rows(payload: Any, records_path: str | None, path: str) -> list[Any]:
    rows = get_path(payload, records_path)
    if not isinstance(rows, list):
        raise MalformedResponse(f"no list at {records_path!r} in the response to {path}")
    return rows


def _async_pages(
    client: Requester,
    paging: Mapping[str, Any],
    path: str,
    params: dict[str, Any],
    records_path: str | None,
) -> Iterator[list[Any]]:
    """Submit the query, poll its result until ready, then page through the result.

    Settings: ``result_id_path`` (``ResultId``), ``result_url_path`` (``ResultUrl``),
    ``state_path`` (``State``), ``result_param`` (``resultId``), ``ready_states``
    (``["Complete"]``), ``failed_states`` (``["Failed"]``), ``max_polls`` (30),
    ``poll_interval`` (1 s, doubling per poll up to ``max_poll_interval``, 30 s), and
    ``offset_param``/``limit_param``/``size`` for reading the ready result.
    """
    submitted, _ = client.request_json("GET", path, params=params or None)
    result_id = get_path(submitted, paging.get("result_id_path", "ResultId"))
    if result_id in (None, ""):
        # Small queries may be answered at once: the rows are already here.
        yield _rows(submitted, records_path, path)
        return
    url = get_path(submitted, paging.get("result_url_path", "ResultUrl")) or path
    result_param = paging.get("result_param", "resultId")
    base = {} if f"{result_param}=" in str(url) else {result_param: result_id}
    state_path = paging.get("state_path", "State")
    ready = set(paging.get("ready_states", ["Complete"]))
    failed = set(paging.get("failed_states", ["Failed"]))
    max_polls = int(paging.get("max_polls", 30))
    interval = float(paging.get("poll_interval", 1.0))
    ceiling = float(paging.get("max_poll_interval", 30.0))
    size = int(paging.get("size", 100))
    offset_param = paging.get("offset_param", "$skip")
    limit_param = paging.get("limit_param", "$top")
    state = get_path(submitted, state_path)
    polls, waited, offset = 0, 0.0, 0
    while True:
        if state in failed:
            raise AsyncResultFailed(
                f"{client.name} reported {state_path} {state!r} for result {result_id} "
                f"of {path}; the query could not be built there, try again later"
            )
        if state not in ready:
            if polls >= max_polls:
                raise AsyncResultFailed(
                    f"{client.name} result {result_id} of {path} was still {state!r} after "
                    f"{polls} polls ({waited:.0f} s); try again later, or raise "
                    "members.pagination.max_polls"
                )
            # Wait before each poll (the submit itself was the first look), doubling:
            # big directories take minutes, small ones a second.
            delay = min(ceiling, interval * 2**polls)
            client.sleep(delay)
            waited += delay
            polls += 1
        query = {**base, offset_param: offset, limit_param: size}
        payload, _ = client.request_json("GET", url, params=query)
        state = get_path(payload, state_path)
        if state not in ready:
            continue
        rows = _rows(payload, records_path, path)
        yield rows
        # A short page ends the result; so does a long one (the server ignored the limit
        # and sent it all), lest an ignored offset repeat it forever.
        if len(rows) != size:
            return
        offset += len(rows)
