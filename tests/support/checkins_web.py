"""Signing a test browser or client in as a member, without a full LTI launch."""

from __future__ import annotations

from flask import Flask

from platforms import COORDINATOR, MEMBER


def session_cookie(app: Flask, tenant_id: int, member_id: int, *, coordinator: bool = False,
                   programme_id: int | None = None,
                   course_id: int | None = None) -> tuple[str, str]:  # fmt: skip
    """The (name, value) of a signed session cookie as a launch would have set it."""
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    value = serializer.dumps({
        "tenant_id": tenant_id, "member_id": member_id,
        "role": COORDINATOR if coordinator else MEMBER, "course_id": course_id,
        "programme_id": programme_id, "launch_id": None, "origins": [], "csrf": "test-csrf",
    })  # fmt: skip
    return app.config.get("SESSION_COOKIE_NAME", "session"), value
