"""What a portal sign-in hands the web layer: the same shape as an LMS launch's outcome."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PortalOutcome:
    """Who signed in, through which portal; no course, programme or launch."""

    tenant_id: int
    member_id: int
    role: str
    portal_id: int
    origins: tuple[str, ...]
    course_id: int | None = None
    programme_id: int | None = None
    launch_id: str | None = None
