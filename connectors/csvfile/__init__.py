"""Members from a CSV export, with a column mapping; the whole file validated first."""

from .connector import CsvConnector
from .mapping import CsvMapping, load_mapping
from .reader import BadRow, CsvCheck, check_file, decode, iter_rows

__all__ = [
    "BadRow",
    "CsvCheck",
    "CsvConnector",
    "CsvMapping",
    "check_file",
    "decode",
    "iter_rows",
    "load_mapping",
]
