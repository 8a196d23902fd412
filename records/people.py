"""Members, their identities in each source, courses, enrolments and learning history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow
from .mixins import TenantOwned, Timestamped, same_tenant_fk, tenant_key

# Where an identity came from. `portal:<name>` is used for member-portal sign-ins.
IDENTITY_SOURCES = ("lti", "moodle", "canvas", "directory", "csv", "email", "portal")
# What partners, coordinators and exports see in place of an erased member's name.
ERASED_NAME = "a former member"


class Member(TenantOwned, Timestamped, Base):
    """A person within a tenant. Never deleted by a sync: deactivated instead."""

    __tablename__ = "members"
    __table_args__ = (
        tenant_key("members"),
        # An organisation-wide member number links sources; unique where present.
        Index(
            "uq_members_tenant_member_number",
            "tenant_id",
            "member_number",
            unique=True,
            postgresql_where=text("member_number IS NOT NULL"),
            sqlite_where=text("member_number IS NOT NULL"),
        ),
        # Linking by email compares lower(email): without this every sync batch and
        # launch scans the tenant's members.
        Index("ix_members_tenant_lower_email", "tenant_id", text("lower(email)")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    given_name: Mapped[str] = mapped_column(String(200), default="")
    family_name: Mapped[str] = mapped_column(String(200), default="")
    display_name: Mapped[str] = mapped_column(String(400), default="")
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    picture_url: Mapped[str | None] = mapped_column(String(1000))
    member_number: Mapped[str | None] = mapped_column(String(255))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    # The last locale a launch or portal sign-in told (e.g. "fr_CA"): mail and .ics files
    # sent to the member are written in it.
    locale: Mapped[str | None] = mapped_column(String(35))
    active: Mapped[bool] = mapped_column(default=True)
    deactivated_at: Mapped[datetime | None]
    profile: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Set when the person's data was erased: the row stays (a partner's history, the
    # programme's counts point at it) with every personal field emptied.
    erased_at: Mapped[datetime | None]

    @property
    def name(self) -> str:
        """The best available name to show ("a former member" once erased)."""
        if self.erased_at is not None:
            return ERASED_NAME
        return (
            self.display_name
            or f"{self.given_name} {self.family_name}".strip()
            or f"Member {self.id}"
        )


class Identity(TenantOwned, Base):
    """One external id of a member in one source; unique per (tenant, source, external id)."""

    __tablename__ = "identities"
    __table_args__ = (
        UniqueConstraint("tenant_id", "source", "external_id"),
        same_tenant_fk("member_id", "members"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(index=True)
    source: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]


class Course(TenantOwned, Timestamped, Base):
    """One LMS course, however it was first seen (see :mod:`members.courses`)."""

    __tablename__ = "courses"
    __table_args__ = (
        tenant_key("courses"),
        UniqueConstraint("tenant_id", "source", "external_id"),
        Index("ix_courses_tenant_lti_context_id", "tenant_id", "lti_context_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The LMS's key: ``moodle``/``canvas`` and its course id when known (a launch that
    # knows it uses it too), else ``lti`` and the context id.
    source: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(255))
    # The LTI context id launches name this course by (Moodle: equal to the course id).
    lti_context_id: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(500), default="")
    short_name: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)


class Enrolment(TenantOwned, Timestamped, Base):
    """A member's role in a course."""

    __tablename__ = "enrolments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "member_id", "course_id", "role"),
        same_tenant_fk("member_id", "members"),
        same_tenant_fk("course_id", "courses"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(index=True)
    course_id: Mapped[int] = mapped_column(index=True)
    role: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32), default="active")
    source: Mapped[str] = mapped_column(String(64))
    last_access_at: Mapped[datetime | None]


class LearningRecord(TenantOwned, Timestamped, Base):
    """A dated fact of a member's learning: a completion, a grade, progress.

    ``record_key`` identifies the fact within its source (for example
    ``course:42:completion``) so that a re-sync updates rather than duplicates it.
    """

    __tablename__ = "learning_records"
    __table_args__ = (
        UniqueConstraint("tenant_id", "member_id", "source", "record_key"),
        same_tenant_fk("member_id", "members"),
        same_tenant_fk("course_id", "courses"),
        CheckConstraint(
            "kind IN ('completion', 'activity_completion', 'grade', 'progress')", name="kind"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(index=True)
    course_id: Mapped[int | None] = mapped_column(index=True)
    source: Mapped[str] = mapped_column(String(64))
    record_key: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    completed: Mapped[bool | None]
    score: Mapped[float | None]
    grade: Mapped[str | None] = mapped_column(String(64))
    progress: Mapped[float | None]
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    recorded_at: Mapped[datetime | None]
