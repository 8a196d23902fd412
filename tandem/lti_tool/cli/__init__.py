"""The ``tandem`` command line. Each module adds its commands to :data:`main`."""

from . import core  # noqa: F401  (registers its commands)
from .base import main

__all__ = ["main"]
