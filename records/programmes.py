"""Programmes, their participants and the matches between them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow
from .mixins import TenantOwned, Timestamped, same_tenant_fk, tenant_key

PROGRAMME_KINDS = ("one_to_one", "group", "peer", "reverse", "flash")
MATCHING_MODES = ("assigned", "mentee_choice", "hybrid")
PROGRAMME_STATUSES = ("draft", "enrolling", "matching", "running", "closed")
PARTICIPANT_ROLES = ("mentor", "mentee", "peer")
PARTICIPANT_STATUSES = ("enrolled", "matched", "withdrawn")
# draft: on the coordinator's match-day board, invisible to members.
# proposed: published (or requested by a mentee), waiting for both sides to accept.
MATCH_STATUSES = ("draft", "proposed", "accepted", "active", "declined", "closed", "rematched")
RESPONSES = ("pending", "accepted", "declined")
# The pair's running counts (see Match): never negative.
PAIR_COUNTS = (
    "checkin_count",
    "checkin_minutes",
    "day30_answers",
    "midpoint_answers",
    "close_answers",
    "end_answers",
)


def _in(column: str, values: tuple[str, ...]) -> CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=column)


class Programme(TenantOwned, Timestamped, Base):
    """A mentoring programme: purpose, kind, matching mode, questionnaire and timeline."""

    __tablename__ = "programmes"
    __table_args__ = (
        tenant_key("programmes"),
        same_tenant_fk("course_id", "courses", ondelete=None),
        same_tenant_fk("copied_from_id", "programmes", ondelete=None),
        _in("kind", PROGRAMME_KINDS),
        _in("matching_mode", MATCHING_MODES),
        _in("status", PROGRAMME_STATUSES),
        CheckConstraint("cadence_days > 0", name="cadence_positive"),
        CheckConstraint("default_capacity > 0", name="capacity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text, default="")
    objectives: Mapped[list[Any]] = mapped_column(default=list)
    kind: Mapped[str] = mapped_column(String(16), default="one_to_one")
    matching_mode: Mapped[str] = mapped_column(String(16), default="assigned")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    questionnaire: Mapped[dict[str, Any]] = mapped_column(default=dict)
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    cadence_days: Mapped[int] = mapped_column(default=28)
    default_capacity: Mapped[int] = mapped_column(default=1)
    course_id: Mapped[int | None]
    lti_context_id: Mapped[str | None] = mapped_column(String(255))
    lineitem_url: Mapped[str | None] = mapped_column(String(1000))
    copied_from_id: Mapped[int | None]
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Participant(TenantOwned, Timestamped, Base):
    """A member in a programme as mentor, mentee or peer, with their answers."""

    __tablename__ = "participants"
    __table_args__ = (
        tenant_key("participants"),
        UniqueConstraint("programme_id", "member_id"),
        same_tenant_fk("programme_id", "programmes"),
        same_tenant_fk("member_id", "members"),
        _in("role", PARTICIPANT_ROLES),
        _in("status", PARTICIPANT_STATUSES),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        # The database's own guard: no mentor's slots are ever over-taken, whatever
        # two requests race for the last one.
        CheckConstraint(
            "slots_taken >= 0 AND (capacity IS NULL OR slots_taken <= capacity)",
            name="slots_within_capacity",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(index=True)
    member_id: Mapped[int] = mapped_column(index=True)
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="enrolled")
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    capacity: Mapped[int | None]
    # How many of `capacity` are taken; guarded by a row lock when a mentee takes a slot.
    slots_taken: Mapped[int] = mapped_column(default=0)
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]


class Match(TenantOwned, Timestamped, Base):
    """A mentor and a mentee (or two peers) paired in a programme.

    A group is several matches sharing a mentor and a ``group_key``.
    """

    __tablename__ = "matches"
    __table_args__ = (
        tenant_key("matches"),
        same_tenant_fk("programme_id", "programmes"),
        ForeignKeyConstraint(
            ["tenant_id", "mentor_participant_id"],
            ["participants.tenant_id", "participants.id"],
            ondelete="CASCADE",
            name="fk_mentor_same_tenant_participants",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "mentee_participant_id"],
            ["participants.tenant_id", "participants.id"],
            ondelete="CASCADE",
            name="fk_mentee_same_tenant_participants",
        ),
        _in("status", MATCH_STATUSES),
        _in("mentor_response", RESPONSES),
        _in("mentee_response", RESPONSES),
        CheckConstraint("mentor_participant_id <> mentee_participant_id", name="distinct_sides"),
        CheckConstraint("score >= 0 AND score <= 100", name="score_range"),
        # The dashboard's pairs of a programme by status.
        Index("ix_matches_tenant_programme_status", "tenant_id", "programme_id", "status"),
        *(CheckConstraint(f"{name} >= 0", name=name) for name in PAIR_COUNTS),
        CheckConstraint(
            "min_satisfaction IS NULL OR min_satisfaction BETWEEN 1 AND 5", name="min_satisfaction"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(index=True)
    mentor_participant_id: Mapped[int] = mapped_column(index=True)
    mentee_participant_id: Mapped[int] = mapped_column(index=True)
    score: Mapped[float] = mapped_column(default=0.0)
    explanation: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    made_by: Mapped[str] = mapped_column(String(16), default="engine")
    locked: Mapped[bool] = mapped_column(default=False)
    group_key: Mapped[str | None] = mapped_column(String(64))
    mentor_response: Mapped[str] = mapped_column(String(16), default="pending")
    mentee_response: Mapped[str] = mapped_column(String(16), default="pending")
    published_at: Mapped[datetime | None]
    # Mentee choice: the mentor answers by then, or the request lapses.
    respond_by: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(Text)
    # The pair's running figures, kept by the services that log check-ins and answer
    # surveys in the same transaction (checkins.pairstats), so that the dashboard
    # reads one row per pair instead of every check-in and answer.
    checkin_count: Mapped[int] = mapped_column(default=0, server_default="0")
    checkin_minutes: Mapped[int] = mapped_column(default=0, server_default="0")
    last_checkin_on: Mapped[date | None]
    # The lowest satisfaction given in a pulse survey (day30, midpoint, close).
    min_satisfaction: Mapped[int | None]
    day30_answers: Mapped[int] = mapped_column(default=0, server_default="0")
    midpoint_answers: Mapped[int] = mapped_column(default=0, server_default="0")
    close_answers: Mapped[int] = mapped_column(default=0, server_default="0")
    end_answers: Mapped[int] = mapped_column(default=0, server_default="0")
