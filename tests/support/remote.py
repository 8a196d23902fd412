"""Remote APIs for tests: JSON fixtures served on a mocked transport, and a loopback server.

Fixtures live in ``tests/support/fixtures/<api>/`` and have the documented shapes
(see /work/shared/API-NOTES.md); ``responses`` serves them as canvasapi's tests do.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(api: str, name: str) -> Any:
    """The decoded JSON fixture ``fixtures/<api>/<name>.json``."""
    return json.loads((FIXTURES / api / f"{name}.json").read_text())


def form_of(request: Any) -> dict[str, str]:
    """A form-encoded request body as a flat dict (Moodle's bracketed names kept)."""
    body = request.body or ""
    if isinstance(body, bytes):
        body = body.decode()
    return {key: values[-1] for key, values in parse_qs(body).items()}


def no_sleep() -> tuple[list[float], Callable[[float], None]]:
    """A sleep that records delays instead of waiting."""
    delays: list[float] = []
    return delays, delays.append


Handler = Callable[[BaseHTTPRequestHandler], None]


@contextmanager
def loopback_server(handler: Handler, tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve ``handler`` on 127.0.0.1 in a thread; yield the base URL (https with ``tls``)."""

    class _Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            handler(self)

        def do_POST(self) -> None:
            handler(self)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        scheme = "https" if tls is not None else "http"
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def send_json(
    request: BaseHTTPRequestHandler,
    payload: Any,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> None:
    body = json.dumps(payload).encode()
    request.send_response(status)
    request.send_header("Content-Type", "application/json")
    request.send_header("Content-Length", str(len(body)))
    for key, value in (headers or {}).items():
        request.send_header(key, value)
    request.end_headers()
    request.wfile.write(body)
