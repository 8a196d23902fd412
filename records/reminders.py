"""The record of each reminder sent, so that ``tandem remind`` never sends one twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow
from .mixins import TenantOwned, same_tenant_fk

# match_proposed: a published or requested match waits for this member's answer.
# match_accepted / match_declined: both sides are told of a proposal's outcome;
# mentee_withdrew: a mentor is told that their mentee left the programme.
REMINDER_KINDS = (
    "checkin_due",
    "survey_open",
    "quiet_nudge",
    "match_proposed",
    "match_accepted",
    "match_declined",
    "mentee_withdrew",
)


class SentReminder(TenantOwned, Base):
    """One reminder sent to one member.

    ``subject`` names what it was about (``match:12``, ``match:12:day30``) and ``period``
    which occurrence (a due date, a survey name): the unique key is what stops a second
    cron run, or a run on another host, from sending it again.
    """

    __tablename__ = "sent_reminders"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id",
            "kind",
            "subject",
            "recipient_member_id",
            "period",
            name="uq_sent_reminders_once",
        ),
        same_tenant_fk("recipient_member_id", "members"),
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in REMINDER_KINDS) + ")", name="kind"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(100))
    period: Mapped[str] = mapped_column(String(32))
    recipient_member_id: Mapped[int] = mapped_column(index=True)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
