"""Which CSV column is which member field: the mapping file of ``tandem import members``.

A mapping is JSON::

    {"source": "csv", "encoding": "utf-8", "delimiter": ",",
     "columns": {"external_id": "Member ID", "member_number": "Membership No",
                 "email": "Email", "given_name": "First name", "family_name": "Last name",
                 "active": "Status"},
     "required": ["external_id", "email"],
     "active_values": ["active", "current"], "inactive_values": ["lapsed", "resigned"]}

Only ``columns.external_id`` is required: it is the identity key, the person's id in
this file's source. ``member_number`` and ``email`` link the row to members other
sources already brought in, by the usual rules.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

FIELDS = (
    "external_id",
    "member_number",
    "email",
    "given_name",
    "family_name",
    "display_name",
    "picture_url",
    "time_zone",
    "active",
)
ACTIVE_VALUES = ("1", "true", "yes", "y", "active", "current")
INACTIVE_VALUES = ("0", "false", "no", "n", "inactive", "lapsed", "archived", "deleted")


@dataclass(frozen=True)
class CsvMapping:
    """A checked mapping. ``columns`` maps member field -> column name in the header."""

    columns: dict[str, str]
    required: tuple[str, ...] = ("external_id",)
    source: str = "csv"
    encoding: str = "utf-8"
    delimiter: str = ","
    active_values: tuple[str, ...] = ACTIVE_VALUES
    inactive_values: tuple[str, ...] = INACTIVE_VALUES


def load_mapping(settings: Mapping[str, Any]) -> CsvMapping:
    """Check a decoded mapping file and return it as a :class:`CsvMapping`.

    Raises:
        ConfigError: naming the key that is missing or wrong.
    """
    columns = settings.get("columns")
    if not isinstance(columns, Mapping) or not columns:
        raise ConfigError('the mapping needs "columns": {"external_id": "COLUMN", ...}')
    unknown = sorted(set(columns) - set(FIELDS))
    if unknown:
        raise ConfigError(f"unknown member fields {unknown} in columns; known: {', '.join(FIELDS)}")
    if "external_id" not in columns:
        raise ConfigError('"columns" must map "external_id" (the column holding each id)')
    for field, column in columns.items():
        if not isinstance(column, str) or not column.strip():
            raise ConfigError(f"columns.{field} must be a column name, got {column!r}")
    taken: dict[str, str] = {}
    for field, column in columns.items():
        if column in taken:
            raise ConfigError(f"column {column!r} is mapped to both {taken[column]} and {field}")
        taken[column] = field
    required = tuple(settings.get("required", ("external_id",)))
    missing = [name for name in required if name not in columns]
    if missing:
        raise ConfigError(f'required fields {missing} have no column in "columns"')
    if "external_id" not in required:
        required = ("external_id", *required)
    encoding = str(settings.get("encoding", "utf-8"))
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise ConfigError(f"unknown encoding {encoding!r}") from exc
    delimiter = str(settings.get("delimiter", ","))
    if len(delimiter) != 1:
        raise ConfigError(f"delimiter must be one character, got {delimiter!r}")
    source = str(settings.get("source", "csv")).strip()
    if not source:
        raise ConfigError("source must not be empty")
    return CsvMapping(
        columns={k: v.strip() for k, v in columns.items()},
        required=required,
        source=source,
        encoding=encoding,
        delimiter=delimiter,
        active_values=_lowered(settings.get("active_values"), ACTIVE_VALUES),
        inactive_values=_lowered(settings.get("inactive_values"), INACTIVE_VALUES),
    )


def _lowered(values: Any, default: tuple[str, ...]) -> tuple[str, ...]:
    if values is None:
        return default
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise ConfigError(f"active_values/inactive_values must be lists of strings, got {values!r}")
    return tuple(v.strip().lower() for v in values)
