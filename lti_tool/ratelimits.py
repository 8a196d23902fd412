"""Per-client rate limits on the anonymous endpoints (Flask-Limiter), counted in the database.

Anyone can call ``/lti/login``, ``/lti/register`` and ``POST /portal/NAME/email``, and each
call writes (a login state, a registration attempt, a sign-in link). Flask-Limiter counts
each client's calls; the counters live in ``ExpiringValue`` rows through
:class:`DatabaseStorage`, a storage of the ``limits`` library, so that every worker on every
host shares them with no extra service to run. The client is ``request.remote_addr``: the
real client only when ``TANDEM_PROXY_COUNT`` says how many proxies sit in front.

Over the limit, the answer is a plain 429 page; no audit row is written (a flood of
refusals must not grow the database either).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask, request
from flask_limiter import Limiter
from limits.storage import Storage
from sqlalchemy.exc import SQLAlchemyError

from records import ConfigurationError, Database, get_database
from records.expiring import count_in_window, delete_values, get_entry

log = logging.getLogger(__name__)

NAMESPACE = "ratelimit"
STORAGE_URI = "tandem+database://"

# Generous enough for a class behind one campus NAT launching at once, low enough that
# one client cannot fill the database with login states, registrations or mail.
DEFAULT_LIMITS: dict[str, str] = {
    "lti.login": "120 per minute",
    "lti.register": "10 per hour",
    "portals.email_send": "10 per minute;50 per hour",
}


class DatabaseStorage(Storage):
    """A ``limits`` storage keeping fixed-window counters in ``ExpiringValue`` rows.

    Each call is its own short transaction (a hit, a single statement in autocommit), apart
    from the request's: a counted hit stays counted whatever the request then does.
    """

    STORAGE_SCHEME = ["tandem+database"]

    def __init__(
        self,
        uri: str | None = None,
        wrap_exceptions: bool = False,
        database: Database | None = None,
        **options: Any,
    ) -> None:
        if database is None:
            raise ConfigurationError("the rate-limit storage needs the app's database")
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.database = database

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int | float, amount: int = 1) -> int:
        # One upsert: workers hitting one counter at once each count, with no retry. It is
        # atomic by itself, so it runs in autocommit (every login pays for it).
        with self.database.single_statement() as session:
            return count_in_window(session, NAMESPACE, key, timedelta(seconds=expiry), amount)

    def get(self, key: str) -> int:
        with self.database.transaction() as session:
            entry = get_entry(session, NAMESPACE, key)
        return 0 if entry is None else int(entry[0].get("count", 0))

    def get_expiry(self, key: str) -> float:
        with self.database.transaction() as session:
            entry = get_entry(session, NAMESPACE, key)
        return time.time() if entry is None else entry[1].timestamp()

    def check(self) -> bool:
        try:
            self.database.ping()
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self.database.transaction() as session:
            return delete_values(session, NAMESPACE)

    def clear(self, key: str) -> None:
        with self.database.transaction() as session:
            delete_values(session, NAMESPACE, key)


def _client() -> str:
    return request.remote_addr or "unknown"


def limits_of(config: Mapping[str, Any]) -> dict[str, str]:
    """The limits in force: :data:`DEFAULT_LIMITS`, with ``TANDEM_RATE_LIMITS`` over them.

    ``TANDEM_RATE_LIMITS`` maps an endpoint to a limit in the ``limits`` notation, e.g.
    ``{"lti.login": "300 per minute"}`` (from the environment:
    ``lti.login=300 per minute,lti.register=5 per hour``).

    Raises:
        ConfigurationError: an endpoint is not one of the limited ones.
    """
    limits = dict(DEFAULT_LIMITS)
    override = config.get("TANDEM_RATE_LIMITS") or {}
    if isinstance(override, str):
        pairs = [item.split("=", 1) for item in override.split(",") if item.strip()]
        override = {
            name.strip(): value.strip() for name, value in (p for p in pairs if len(p) == 2)
        }
    for endpoint, limit in override.items():
        if endpoint not in DEFAULT_LIMITS:
            raise ConfigurationError(
                f"TANDEM_RATE_LIMITS names {endpoint!r}; the limited endpoints are "
                + ", ".join(sorted(DEFAULT_LIMITS))
            )
        limits[endpoint] = limit
    return limits


def init_app(app: Flask) -> Limiter:
    """Limit the anonymous endpoints of ``app`` (call after its blueprints are registered)."""
    limiter = Limiter(
        key_func=_client,
        storage_uri=STORAGE_URI,
        storage_options={"database": get_database(app)},  # type: ignore[dict-item]
        strategy="fixed-window",
        # Rate headers on every answer would cost two more database reads per request.
        headers_enabled=False,
    )
    limiter.init_app(app)
    for endpoint, limit in limits_of(app.config).items():
        methods = ["POST"] if endpoint == "portals.email_send" else None
        app.view_functions[endpoint] = limiter.limit(limit, methods=methods)(
            app.view_functions[endpoint]
        )
    app.extensions["tandem.limiter"] = limiter
    return limiter
