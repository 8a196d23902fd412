"""Moodle web services as a Tandem source."""

from .client import MoodleRequester, flatten, moodle_error
from .connector import MoodleConnector

__all__ = ["MoodleConnector", "MoodleRequester", "flatten", "moodle_error"]
