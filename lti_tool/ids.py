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


def _digits_up_to(limit: int) -> str:
    """A regular expression for the decimal numbers from 0 to ``limit``."""
    text = str(limit)
    options = [rf"\d{{1,{len(text) - 1}}}"] if len(text) > 1 else []
    for position, digit in enumerate(text):
        if digit != "0":
            rest = len(text) - position - 1
            options.append(
                text[:position] + f"[0-{int(digit) - 1}]" + (rf"\d{{{rest}}}" if rest else "")
            )
    options.append(text)
    return "(?:" + "|".join(options) + ")"


class IdConverter(IntegerConverter):
    """Flask's ``<int:...>``, limited to ids the database can hold.

    A longer number does not match the rule at all (a plain 404 for every method, where a
    range check after matching would answer some methods with 405).
    """

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)
        if not signed and not fixed_digits:
            self.regex = _digits_up_to(MAX_ID if max is None else max)


def parse_id(raw: Any) -> int | None:
    """The id in ``raw`` (a form or query value), or ``None`` if it cannot be a row's id."""
    text = str(raw or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None
