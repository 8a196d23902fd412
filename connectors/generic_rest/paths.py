"""Where a value sits in a JSON payload: ``emails[0].value``, ``!Archived``,
``FieldValues[SystemCode=IsArchived].Value``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]|\[([^=\]]+)=([^\]]*)\]")

Step = str | int | tuple[str, str]


@lru_cache(maxsize=512)
def _steps(path: str) -> tuple[bool, tuple[Step, ...]]:
    """A path parsed once: (negate, steps). Paths repeat for every row of a sync."""
    steps: list[Step] = []
    for name, index, key, wanted in _STEP.findall(path.lstrip("!")):
        if key:
            steps.append((key.strip(), wanted.strip()))
        else:
            steps.append(int(index) if index else name)
    return path.startswith("!"), tuple(steps)


def get_path(payload: Any, path: str | None) -> Any:
    """The value at a dotted path; ``None`` if any step is absent.

    Steps: ``name`` (an object's key), ``[2]`` (a list index), ``[Key=Value]`` (the first
    object of a list whose ``Key`` is ``Value`` as text, as Wild Apricot keeps its
    system fields in ``FieldValues``). A leading ``!`` negates a boolean (``!Archived``
    is true for a current member).
    """
    if not path:
        return payload
    negate, steps = _steps(path)
    value = payload
    for step in steps:
        if type(step) is str:
            value = value.get(step) if isinstance(value, Mapping) else None
        elif type(step) is int:
            value = value[step] if isinstance(value, list) and step < len(value) else None
        elif isinstance(value, list):
            key, wanted = step  # type: ignore[misc]
            value = next(
                (
                    item
                    for item in value
                    if isinstance(item, Mapping) and _text(item.get(key)) == wanted
                ),
                None,
            )
        else:
            return None
        if value is None:
            return None
    return (not value) if negate else value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
