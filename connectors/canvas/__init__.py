"""Canvas LMS as a Tandem source."""

from .client import CanvasRequester
from .connector import CanvasConnector

__all__ = ["CanvasConnector", "CanvasRequester"]
