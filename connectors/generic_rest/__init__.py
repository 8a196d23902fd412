"""Generic REST member directories configured by a file; SCIM, Wild Apricot, Salesforce."""

from .connector import RestConnector
from .paths import get_path
from .presets import PRESETS

__all__ = ["PRESETS", "RestConnector", "get_path"]
