"""The running relationship: agreements, check-ins, surveys and alerts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow
from .mixins import TenantOwned, Timestamped, same_tenant_fk

SURVEYS = ("enrolment", "day30", "midpoint", "close", "end")
# member_erased: a pair ended because one side's data was erased (the partner's
# coordinator is told).
ALERT_KINDS = (
    "quiet_pair",
    "at_risk",
    "unanswered_survey",
    "capacity",
    "member_flag",
    "member_erased",
)
ERASURE_REQUEST_STATUSES = ("pending", "done")


class Agreement(TenantOwned, Timestamped, Base):
    """What a pair agreed: goals, meeting frequency, channel, boundaries, and both signatures."""

    __tablename__ = "agreements"
    __table_args__ = (
        UniqueConstraint("match_id"),
        same_tenant_fk("match_id", "matches"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int]
    goals: Mapped[list[Any]] = mapped_column(default=list)
    meeting_frequency: Mapped[str] = mapped_column(String(200), default="")
    channel: Mapped[str] = mapped_column(String(200), default="")
    boundaries: Mapped[str] = mapped_column(Text, default="")
    share_learning_history: Mapped[bool] = mapped_column(default=False)
    mentor_signed_at: Mapped[datetime | None]
    mentee_signed_at: Mapped[datetime | None]


class CheckIn(TenantOwned, Timestamped, Base):
    """A meeting a pair logged. ``private_notes`` are the pair's alone."""

    __tablename__ = "checkins"
    __table_args__ = (
        same_tenant_fk("match_id", "matches"),
        same_tenant_fk("logged_by_participant_id", "participants"),
        CheckConstraint("duration_minutes > 0 AND duration_minutes <= 1440", name="duration_range"),
        # Covers the dashboard's per-pair count and last meeting, and check-ins by day.
        Index("ix_checkins_tenant_match_met_on", "tenant_id", "match_id", "met_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(index=True)
    logged_by_participant_id: Mapped[int]
    met_on: Mapped[date]
    duration_minutes: Mapped[int]
    format: Mapped[str] = mapped_column(String(32), default="video")
    topics: Mapped[list[Any]] = mapped_column(default=list)
    summary: Mapped[str] = mapped_column(Text, default="")
    private_notes: Mapped[str] = mapped_column(Text, default="")
    next_meeting_at: Mapped[datetime | None]


class SurveyResponse(TenantOwned, Base):
    """One person's answer to one survey (pulse, end evaluation, or enrolment baseline)."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        UniqueConstraint("participant_id", "survey", "match_id"),
        same_tenant_fk("participant_id", "participants"),
        same_tenant_fk("match_id", "matches"),
        CheckConstraint("survey IN (" + ", ".join(f"'{s}'" for s in SURVEYS) + ")", name="survey"),
        CheckConstraint("satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5", name="sat"),
        CheckConstraint("confidence IS NULL OR confidence BETWEEN 1 AND 5", name="conf"),
        CheckConstraint("usefulness IS NULL OR usefulness BETWEEN 1 AND 5", name="useful"),
        CheckConstraint("goal_progress IS NULL OR goal_progress BETWEEN 0 AND 100", name="goal"),
        # NULLs are distinct in a unique key, so the one above lets the enrolment survey
        # (no match) be answered twice; this one holds it to one answer per participant.
        Index(
            "uq_survey_responses_enrolment_once",
            "participant_id",
            "survey",
            unique=True,
            sqlite_where=text("match_id IS NULL"),
            postgresql_where=text("match_id IS NULL"),
        ),
        # Cover the dashboard: answers per pair, and answers per participant by survey.
        Index("ix_survey_responses_tenant_match_survey", "tenant_id", "match_id", "survey",
              "satisfaction"),
        Index("ix_survey_responses_tenant_participant_survey", "tenant_id", "participant_id",
              "survey", "confidence", "satisfaction"),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(index=True)
    match_id: Mapped[int | None] = mapped_column(index=True)
    survey: Mapped[str] = mapped_column(String(16))
    satisfaction: Mapped[int | None]
    usefulness: Mapped[int | None]
    confidence: Mapped[int | None]
    goal_progress: Mapped[int | None]
    comment: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)


class CheckinDay(TenantOwned, Base):
    """How many check-ins a programme's pairs logged for one day: the dashboard's chart.

    Kept by the service that logs check-ins, in the same transaction (an upsert on
    ``(programme_id, met_on)``), so that the chart reads a row per day, not per meeting.
    """

    __tablename__ = "checkin_days"
    __table_args__ = (
        UniqueConstraint("programme_id", "met_on"),
        same_tenant_fk("programme_id", "programmes"),
        CheckConstraint("checkins >= 0", name="checkins"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int]
    met_on: Mapped[date]
    checkins: Mapped[int] = mapped_column(default=0, server_default="0")


class SurveyTally(TenantOwned, Base):
    """A programme's answers to one survey, summed: the dashboard's survey figures.

    Sums and counts of satisfaction and confidence, and of each answer's confidence
    change from the person's enrolment baseline (counted when both exist, whichever came
    first). Kept by the service that records answers, in the same transaction.
    """

    __tablename__ = "survey_tallies"
    __table_args__ = (
        UniqueConstraint("programme_id", "survey"),
        same_tenant_fk("programme_id", "programmes"),
        CheckConstraint("survey IN (" + ", ".join(f"'{s}'" for s in SURVEYS) + ")", name="survey"),
        CheckConstraint(
            "answers >= 0 AND satisfaction_count >= 0 AND confidence_count >= 0"
            " AND change_count >= 0",
            name="counts",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int]
    survey: Mapped[str] = mapped_column(String(16))
    answers: Mapped[int] = mapped_column(default=0, server_default="0")
    satisfaction_sum: Mapped[int] = mapped_column(default=0, server_default="0")
    satisfaction_count: Mapped[int] = mapped_column(default=0, server_default="0")
    confidence_sum: Mapped[int] = mapped_column(default=0, server_default="0")
    confidence_count: Mapped[int] = mapped_column(default=0, server_default="0")
    change_sum: Mapped[int] = mapped_column(default=0, server_default="0")
    change_count: Mapped[int] = mapped_column(default=0, server_default="0")


class Alert(TenantOwned, Base):
    """Something a coordinator should look at: a quiet pair, an at-risk pair, a full mentor."""

    __tablename__ = "alerts"
    __table_args__ = (
        same_tenant_fk("programme_id", "programmes"),
        same_tenant_fk("match_id", "matches"),
        same_tenant_fk("raised_by_member_id", "members", ondelete=None),
        CheckConstraint("kind IN (" + ", ".join(f"'{k}'" for k in ALERT_KINDS) + ")", name="kind"),
        CheckConstraint("status IN ('open', 'resolved')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(index=True)
    match_id: Mapped[int | None] = mapped_column(index=True)
    raised_by_member_id: Mapped[int | None]
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]


class AuditEvent(Base):
    """Who did what, when. ``tenant_id`` is empty for events before a tenant is known
    (a launch from an unknown issuer, say)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(index=True)
    actor_member_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(100), index=True)
    subject_type: Mapped[str | None] = mapped_column(String(64))
    subject_id: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ErasureRequest(TenantOwned, Base):
    """A member's request to erase their mentoring data, until an operator carries it out.

    Coordinators see pending requests and may add a note; they cannot block one. Once
    done, the row keeps only ids and dates (the note is emptied with the member's data).
    """

    __tablename__ = "erasure_requests"
    __table_args__ = (
        same_tenant_fk("member_id", "members"),
        same_tenant_fk("noted_by_member_id", "members", ondelete=None),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in ERASURE_REQUEST_STATUSES) + ")",
            name="status",
        ),
        # One open request per member: asking twice changes nothing.
        Index(
            "uq_erasure_requests_pending_once",
            "tenant_id",
            "member_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    coordinator_note: Mapped[str] = mapped_column(Text, default="")
    noted_by_member_id: Mapped[int | None]
    done_at: Mapped[datetime | None]
