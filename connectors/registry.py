"""Build the connector a stored configuration describes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Connector
from .errors import ConfigError

KINDS = ("moodle", "canvas", "rest")


def build_connector(
    kind: str, base_url: str, secret: str | None, settings: Mapping[str, Any], **http: Any
) -> Connector:
    """A connector of ``kind`` for ``base_url`` with its decrypted ``secret``.

    Args:
        http: passed to the requester (``sleep``, ``random``, ``timeout``...), for tests.

    Raises:
        ConfigError: an unknown kind, or settings the backend refuses.
    """
    if kind == "moodle":
        from .moodle import MoodleConnector

        return MoodleConnector(base_url, secret or "", settings, **http)
    if kind == "canvas":
        from .canvas import CanvasConnector

        return CanvasConnector(base_url, secret or "", settings, **http)
    if kind == "rest":
        from .generic_rest import RestConnector

        return RestConnector(base_url, secret, settings, **http)
    if kind == "csv":
        # A file is not fetched on a schedule: each import hands its own file in.
        raise ConfigError(
            "a csv connector is fed by `tandem import members FILE.csv --mapping MAP.json`, "
            "not by `tandem sync`"
        )
    raise ConfigError(f"unknown connector kind {kind!r}; need one of {', '.join(KINDS)}")


def phases_for(kind: str, settings: Mapping[str, Any]) -> tuple[str, ...]:
    """The streams a source offers: a directory has members only."""
    if kind in ("rest", "csv"):
        return ("members",)
    return tuple(settings.get("phases", ("members", "courses", "learning_records")))
