"""A Flask test client that reaches the app at its ``TANDEM_BASE_URL``.

Tandem trusts only the base URL's host (Flask's ``TRUSTED_HOSTS``): the plain test client,
which says ``Host: localhost``, is refused (400) by an app configured for another host.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient


class BaseUrlClient(FlaskClient):
    """Sends the base URL's host and scheme unless a request names its own ``base_url``."""

    def _base(self) -> str:
        return str(self.application.config.get("TANDEM_BASE_URL") or "http://localhost")

    def open(self, *args: Any, **kwargs: Any) -> Any:
        if args and isinstance(args[0], str) and not urlsplit(args[0]).netloc:
            kwargs.setdefault("base_url", self._base())
        return super().open(*args, **kwargs)

    def session_transaction(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("base_url", self._base())
        return super().session_transaction(*args, **kwargs)
