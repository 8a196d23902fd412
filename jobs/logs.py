"""One log line per event, as plain text or, with ``TANDEM_LOG_FORMAT=json``, one JSON object.

Callers pass only what is safe to keep: ids, names, counts, durations, error types. Never
tokens, secrets, addresses or private text: the fields are written as given.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

FIELDS = "tandem_fields"


def event(logger: logging.Logger, level: int, name: str, **fields: Any) -> None:
    """Log event ``name`` with ``fields`` (``None`` values left out)."""
    kept = {k: v for k, v in fields.items() if v is not None}
    text = " ".join(f"{k}={v}" for k, v in kept.items())
    logger.log(level, "%s %s", name, text, extra={FIELDS: {"event": name, **kept}})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, and the event's fields (or message)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = getattr(record, FIELDS, None)
        if fields:
            line.update({k: v for k, v in fields.items() if v is not None})
        else:
            line["message"] = record.getMessage()
        if record.exc_info and record.exc_info[0] is not None:
            line["error"] = record.exc_info[0].__name__
        return json.dumps(line, default=str)


def configure(log_format: str | None, level: int = logging.INFO) -> None:
    """Set up the root logger: ``"json"`` for JSON lines, anything else for plain text."""
    handler = logging.StreamHandler()
    if (log_format or "").lower() == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "tandem", False)]:
        root.removeHandler(old)
    handler.tandem = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
