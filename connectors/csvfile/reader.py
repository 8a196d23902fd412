"""Read and validate a members CSV: the whole file first, every bad row by line number.

File-level faults (not the mapping's encoding, empty, no header, a mapped column missing)
raise :class:`~connectors.errors.InvalidFile`: no row can be trusted then. Row
faults (a required value missing, a malformed email, an id repeated within the file, a
wrong number of fields, an unknown active value, a value too long) come back as
:class:`BadRow` with the row's first physical line (the header is line 1), so an operator
can fix the spreadsheet and try again.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from members import PersonRecord

from ..errors import InvalidFile
from .mapping import CsvMapping

# A pragmatic shape check (one @, no spaces, a dot in the domain): it catches typos and
# shifted columns without pretending to implement RFC 5322.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
# The database's column sizes: a longer value would make the whole batch fail.
MAX_LENGTHS = {
    "external_id": 255,
    "member_number": 255,
    "email": 320,
    "given_name": 200,
    "family_name": 200,
    "display_name": 400,
    "picture_url": 1000,
    "time_zone": 64,
}


@dataclass(frozen=True)
class BadRow:
    """One row that cannot be imported, and why."""

    line: int
    reason: str


@dataclass
class CsvCheck:
    """The outcome of validating a whole file."""

    rows: int = 0
    bad: list[BadRow] = field(default_factory=list)

    @property
    def good(self) -> int:
        return self.rows - len(self.bad)


def decode(data: bytes, mapping: CsvMapping, name: str = "the file") -> str:
    """The file's text in the mapping's encoding (a UTF-8 byte-order mark is dropped).

    Raises:
        InvalidFile: the bytes are not in that encoding, or there is nothing in them.
    """
    encoding = (
        "utf-8-sig"
        if mapping.encoding.lower().replace("_", "-") in ("utf-8", "utf8")
        else (mapping.encoding)
    )
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InvalidFile(
            f"{name} is not {mapping.encoding}: byte 0x{data[exc.start]:02x} on line {line} "
            f'cannot be decoded (save it as UTF-8, or set "encoding" in the mapping, '
            f'e.g. "cp1252")'
        ) from exc
    if not text.strip():
        raise InvalidFile(f"{name} is empty")
    return text


def iter_rows(
    text: str, mapping: CsvMapping, name: str = "the file"
) -> Iterator[tuple[int, PersonRecord | None, str | None]]:
    """``(line, record, None)`` for each good row, ``(line, None, reason)`` for each bad one.

    Raises:
        InvalidFile: no header, a mapped column missing, or a line the CSV parser refuses.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=mapping.delimiter)
    try:
        header = [cell.strip() for cell in next(reader, [])]
        positions = _positions(header, mapping, name)
        seen: dict[str, dict[str, int]] = {"external_id": {}, "member_number": {}}
        line = reader.line_num + 1
        for row in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue  # blank lines, often at the end of an export
            if len(row) != len(header):
                yield (
                    start,
                    None,
                    f"{len(row)} fields where the header has {len(header)} "
                    "(a stray delimiter or quote?)",
                )
                continue
            values = {f: row[i].strip() for f, i in positions.items()}
            reason = _problem(values, mapping, seen, start)
            if reason is not None:
                yield start, None, reason
                continue
            yield start, _record(values, mapping), None
    except csv.Error as exc:
        raise InvalidFile(f"{name}: line {reader.line_num} cannot be parsed as CSV: {exc}") from exc


def check_file(text: str, mapping: CsvMapping, name: str = "the file") -> CsvCheck:
    """Validate every row of ``text``; file-level faults raise :class:`InvalidFile`."""
    check = CsvCheck()
    for line, _record, reason in iter_rows(text, mapping, name):
        check.rows += 1
        if reason is not None:
            check.bad.append(BadRow(line, reason))
    if check.rows == 0:
        raise InvalidFile(f"{name} has a header but no member rows")
    return check


def _positions(header: list[str], mapping: CsvMapping, name: str) -> dict[str, int]:
    wanted = mapping.columns
    if not any(column in header for column in wanted.values()):
        expected = ", ".join(repr(c) for c in wanted.values())
        raise InvalidFile(
            f"{name} has no header row: line 1 names none of the mapped columns ({expected}); "
            "the first line must name the columns"
        )
    missing = [f"{column!r} (for {f})" for f, column in wanted.items() if column not in header]
    if missing:
        present = ", ".join(repr(c) for c in header if c)
        raise InvalidFile(
            f"{name} lacks column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
            f"its header has {present}"
        )
    for column in wanted.values():
        if header.count(column) > 1:
            raise InvalidFile(f"{name}: column {column!r} appears twice in the header")
    return {f: header.index(column) for f, column in wanted.items()}


def _problem(
    values: dict[str, str], mapping: CsvMapping, seen: dict[str, dict[str, int]], line: int
) -> str | None:
    columns = mapping.columns
    for f in mapping.required:
        if not values.get(f):
            return f"no value in {columns[f]!r} ({f} is required)"
    for f, value in values.items():
        limit = MAX_LENGTHS.get(f)
        if limit is not None and len(value) > limit:
            return f"{columns[f]!r} is {len(value)} characters long; at most {limit}"
    email = values.get("email")
    if email and not EMAIL.match(email):
        return f"{email!r} in {columns['email']!r} is not an email address"
    active = values.get("active", "").lower()
    if active and active not in mapping.active_values and active not in mapping.inactive_values:
        return (
            f"{values['active']!r} in {columns['active']!r} is neither active "
            f"({', '.join(mapping.active_values)}) nor inactive "
            f"({', '.join(mapping.inactive_values)})"
        )
    for f, label in (("external_id", "id"), ("member_number", "member number")):
        value = values.get(f)
        if not value:
            continue
        first = seen[f].get(value)
        if first is not None:
            return f"{label} {value!r} in {columns[f]!r} repeats line {first}"
    for f in ("external_id", "member_number"):
        if values.get(f):
            seen[f][values[f]] = line
    return None


def _record(values: dict[str, str], mapping: CsvMapping) -> PersonRecord:
    active = values.pop("active", "").lower()
    external_id = values.pop("external_id")
    return PersonRecord(
        source=mapping.source,
        external_id=external_id,
        active=active not in mapping.inactive_values if active else True,
        **{f: (v or None) for f, v in values.items()},
    )
