"""The ``tandem`` command line. Each module adds its commands to :data:`main`."""

from . import (
    checkins,  # noqa: F401  (registers `tandem remind`, `tandem purge`)
    connectors,  # noqa: F401  (registers `tandem connector`, `sync`, `import`, `member`)
    core,  # noqa: F401  (registers its commands)
    imports,  # noqa: F401  (registers `tandem import members`)
    matching,  # noqa: F401  (registers `tandem match`)
    platforms,  # noqa: F401  (registers `tandem platform`, `tandem keys rotate`)
    portals,  # noqa: F401  (registers `tandem portal`)
    queue,  # noqa: F401  (registers `tandem worker`, `tandem jobs`)
    tenants,  # noqa: F401  (registers `tandem tenant`)
)
from .base import main

__all__ = ["main"]
