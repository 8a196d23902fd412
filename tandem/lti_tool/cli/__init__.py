"""The ``tandem`` command line. Each module adds its commands to :data:`main`."""

from . import (
    checkins,  # noqa: F401  (registers `tandem remind`)
    core,  # noqa: F401  (registers its commands)
    matching,  # noqa: F401  (registers `tandem match`)
)
from .base import main

__all__ = ["main"]
