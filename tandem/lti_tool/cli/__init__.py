"""The ``tandem`` command line. Each module adds its commands to :data:`main`."""

from . import (
    core,  # noqa: F401  (registers its commands)
    platforms,  # noqa: F401  (registers `tandem platform`, `tandem keys rotate`)
)
from .base import main

__all__ = ["main"]
