"""Row ids from URLs and forms: whole numbers the database can hold, or "not found".

Every table's id is a 32-bit ``INTEGER`` on PostgreSQL (and SQLite refuses integers past
64 bits): a 20-digit id sent to the database fails there, with a 500. An id outside the
range is no row's id, so it is answered like any unknown id: 404.
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

# PostgreSQL's INTEGER, the type of every id column.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """Flask's ``<int:...>``, limited to ids the database can hold (others do not match)."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def parse_id(raw: Any) -> int | None:
    """The id in ``raw`` (a form or query value), or ``None`` if it cannot be a row's id."""
    text = str(raw or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None
