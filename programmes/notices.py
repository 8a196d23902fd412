"""Mail about a match: the proposal on publish, its outcome, and a mentee leaving.

:func:`tell` is the one seam: publishing, answering and withdrawing call it in their own
transaction, and it queues one job (:data:`MATCH_NOTICES`, ids only) that mails every
member concerned, each in their own language, through :mod:`checkins.mailer`. It always
defers: a path without a job runtime fails loudly rather than skipping the mail.

Who is told, by kind (worked out when the job runs, from the match as it is then):

- ``match_proposed``: each side whose answer is still pending on a proposed match;
- ``match_accepted``: both sides, once both have accepted;
- ``match_declined``: both sides of a declined proposal (the decliner gets a receipt);
- ``mentee_withdrew``: the mentor of a mentee who left the programme.

Idempotent: each mail is claimed as a :class:`~records.SentReminder` row (unique per
tenant, kind, match, recipient and period) in the transaction that sends it, so a
retried job sends only what it has not sent yet, and the daily reminder run, which
claims proposals under the same key, never sends a proposal a second time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import jobs
import translations
from checkins.mailer import Mailer, SmtpSettings
from jobs.metrics import EMAILS_SENT
from members import tenant_default_locale
from records import Match, Member, Participant, Programme, SentReminder, Tenant

MATCH_NOTICES = "programmes.match_notices"
KINDS = ("match_proposed", "match_accepted", "match_declined", "mentee_withdrew")
# The daily reminder run claims proposals with this period: the same key, so each
# member hears of a proposal once, whichever of the two gets there first.
PERIODS = {
    "match_proposed": "proposed",
    "match_accepted": "accepted",
    "match_declined": "declined",
    "mentee_withdrew": "withdrew",
}
# Matches loaded per query (a match day may publish thousands of pairs).
CHUNK = 500


def tell(session: Session, tenant_id: int, kind: str, match_ids: Iterable[int]) -> bool:
    """Queue the mail of ``kind`` about ``match_ids`` in ``session``'s transaction.

    Returns whether a job was queued (nothing is queued for no matches).

    Raises:
        ValueError: an unknown kind.
        jobs.JobError: no job runtime can run it (never skipped silently).
    """
    if kind not in KINDS:
        raise ValueError(f"kind is {kind!r}; need one of {', '.join(KINDS)}")
    ids = sorted(set(match_ids))
    if not ids:
        return False
    return jobs.defer(session, MATCH_NOTICES, tenant_id=tenant_id, kind=kind, match_ids=ids)


@dataclass(frozen=True)
class Notice:
    """One mail to one member about one match."""

    tenant_id: int
    kind: str
    match_id: int
    programme_id: int
    programme: str
    recipient: Member
    partner: Member
    recipient_role: str
    made_by: str
    declined_by_recipient: bool = False
    # The tenant's default language, for a recipient whose own Tandem never learnt.
    fallback_locale: str | None = None

    @property
    def key(self) -> tuple[str, str, int, str]:
        return (self.kind, f"match:{self.match_id}", self.recipient.id, PERIODS[self.kind])


def _wanted(kind: str, match: Match, mentor: Participant, mentee: Participant) -> list[str]:
    """Which sides (``"mentor"``, ``"mentee"``) hear of ``kind`` about the match now."""
    sides = {"mentor": match.mentor_response, "mentee": match.mentee_response}
    if kind == "match_proposed":
        if match.status != "proposed":
            return []
        return [side for side, response in sides.items() if response == "pending"]
    if kind == "match_accepted":
        return ["mentor", "mentee"] if match.accepted_at is not None else []
    if kind == "match_declined":
        return ["mentor", "mentee"] if match.status == "declined" else []
    # mentee_withdrew
    return ["mentor"] if mentee.status == "withdrawn" else []


def due_notices(session: Session, tenant_id: int, kind: str, match_ids: list[int]) -> list[Notice]:
    """The notices of ``kind`` still to send about ``match_ids`` (all in ``tenant_id``).

    Members without an email address, or deactivated, are left out.
    """
    notices: list[Notice] = []
    for start in range(0, len(match_ids), CHUNK):
        notices.extend(_due_in_chunk(session, tenant_id, kind, match_ids[start : start + CHUNK]))
    return notices


def _due_in_chunk(
    session: Session, tenant_id: int, kind: str, match_ids: list[int]
) -> Iterator[Notice]:
    rows = session.execute(
        select(Match, Programme.name)
        .join(
            Programme,
            (Programme.id == Match.programme_id) & (Programme.tenant_id == Match.tenant_id),
        )
        .where(Match.tenant_id == tenant_id, Match.id.in_(match_ids))
        .order_by(Match.id)
    ).all()
    if not rows:
        return
    participant_ids = {
        pid for m, _ in rows for pid in (m.mentor_participant_id, m.mentee_participant_id)
    }
    participants = {
        p.id: p
        for p in session.scalars(
            select(Participant).where(
                Participant.tenant_id == tenant_id, Participant.id.in_(participant_ids)
            )
        )
    }
    members = {
        m.id: m
        for m in session.scalars(
            select(Member).where(
                Member.tenant_id == tenant_id,
                Member.id.in_({p.member_id for p in participants.values()}),
            )
        )
    }
    sent = set(
        session.execute(
            select(SentReminder.subject, SentReminder.recipient_member_id).where(
                SentReminder.tenant_id == tenant_id,
                SentReminder.kind == kind,
                SentReminder.period == PERIODS[kind],
                SentReminder.subject.in_([f"match:{m.id}" for m, _ in rows]),
            )
        ).all()
    )
    fallback = tenant_default_locale(session.get(Tenant, tenant_id))
    for match, programme_name in rows:
        mentor = participants[match.mentor_participant_id]
        mentee = participants[match.mentee_participant_id]
        people = {"mentor": (mentor, mentee), "mentee": (mentee, mentor)}
        for side in _wanted(kind, match, mentor, mentee):
            me, other = people[side]
            recipient, partner = members.get(me.member_id), members.get(other.member_id)
            if recipient is None or partner is None:
                continue
            if not recipient.active or not recipient.email:
                continue
            if (f"match:{match.id}", recipient.id) in sent:
                continue
            yield Notice(
                tenant_id=tenant_id,
                kind=kind,
                match_id=match.id,
                programme_id=match.programme_id,
                programme=programme_name,
                recipient=recipient,
                partner=partner,
                recipient_role=me.role,
                made_by=match.made_by,
                declined_by_recipient=getattr(match, f"{side}_response") == "declined",
                fallback_locale=fallback,
            )


def _texts(notice: Notice, t: translations.Translator) -> tuple[str, str]:
    """Subject and body of a notice, whole sentences in the recipient's language."""
    names = {"partner": notice.partner.name, "programme": notice.programme}
    if notice.kind == "match_proposed":
        if notice.made_by == "mentee" and notice.recipient_role == "mentor":
            subject = t.gettext("%(partner)s asks you to be their mentor", **names)
        elif notice.recipient_role == "mentee":
            subject = t.gettext("%(partner)s is proposed as your mentor", **names)
        elif notice.recipient_role == "mentor":
            subject = t.gettext("%(partner)s is proposed as your mentee", **names)
        else:
            subject = t.gettext("%(partner)s is proposed as your mentoring partner", **names)
        body = t.gettext(
            "You have a match proposal in %(programme)s. See why you were matched with "
            "%(partner)s, and accept or decline, on your Tandem page.",
            **names,
        )
    elif notice.kind == "match_accepted":
        subject = t.gettext("You and %(partner)s are now a mentoring pair", **names)
        body = t.gettext(
            "You and %(partner)s have both accepted your match in %(programme)s. Your next "
            "step is to agree how you will work together: open Tandem to write and sign "
            "your agreement.",
            **names,
        )
    elif notice.kind == "match_declined" and notice.declined_by_recipient:
        subject = t.gettext("You declined the match with %(partner)s", **names)
        body = t.gettext(
            "You declined the proposed match with %(partner)s in %(programme)s. "
            "The programme's coordinator can propose another match.",
            **names,
        )
    elif notice.kind == "match_declined":
        subject = t.gettext("Your proposed match with %(partner)s will not go ahead", **names)
        body = t.gettext(
            "The proposed match with %(partner)s in %(programme)s was declined, so it will "
            "not go ahead. The programme's coordinator can propose another match.",
            **names,
        )
    else:
        subject = t.gettext("%(partner)s has left %(programme)s", **names)
        body = t.gettext(
            "%(partner)s has withdrawn from %(programme)s. The programme's coordinator can "
            "tell you what happens next, and can match you with someone else.",
            **names,
        )
    return subject, body


def compose(notice: Notice, base_url: str | None = None) -> EmailMessage:
    """The plain-text mail for one notice, in the recipient's language (no reasons given
    for a decline: those are for the coordinator)."""
    t = translations.for_member(notice.recipient, notice.fallback_locale)
    subject, body = _texts(notice, t)
    greeting = t.gettext("Hello %(name)s,", name=notice.recipient.name)
    parts = [greeting, body]
    if base_url:
        link = f"{base_url.rstrip('/')}/programmes/{notice.programme_id}"
        parts.append(t.gettext("Open Tandem: %(link)s", link=link))
    parts.append(t.gettext("-- Tandem mentoring"))
    message = EmailMessage()
    message["To"] = f"{notice.recipient.name} <{notice.recipient.email}>"
    message["Subject"] = f"[{notice.programme}] {subject}"
    message.set_content("\n\n".join(parts) + "\n")
    message["Content-Language"] = t.locale  # after set_content, which resets Content-*
    return message


def _claim(session: Session, notice: Notice) -> None:
    """Record the notice as sent, in the transaction that sends it.

    Raises:
        IntegrityError: another run (the daily reminders, a duplicate job) claimed it.
    """
    kind, subject, recipient_id, period = notice.key
    session.add(
        SentReminder(
            tenant_id=notice.tenant_id,
            kind=kind,
            subject=subject,
            period=period,
            recipient_member_id=recipient_id,
        )
    )
    session.flush()


@jobs.task(MATCH_NOTICES, failure_action="programmes.notice_failed")
def send_match_notices(
    ctx: jobs.JobContext, *, tenant_id: int, kind: str, match_ids: list[int]
) -> int:
    """Mail what is still due about the matches; returns how many mails went.

    Each mail is claimed and sent in a transaction of its own, committed once the SMTP
    server took it: a failure stops the job (retried with backoff) and the retry sends
    only the rest.
    """
    notices = due_notices(ctx.session, tenant_id, kind, list(match_ids))
    if not notices:
        return 0
    settings = SmtpSettings.from_url(ctx.settings.get("TANDEM_SMTP_URL"))
    base_url = ctx.settings.get("TANDEM_BASE_URL")
    sent = 0
    with Mailer(settings) as mailer:
        for notice in notices:
            # No savepoint: SQLite's driver would commit it on release. A claim that
            # loses the race rolls its own transaction back, and nothing is sent.
            try:
                with ctx.side_transaction() as session:
                    _claim(session, notice)
                    mailer.send(compose(notice, base_url))
            except IntegrityError:
                continue
            sent += 1
            EMAILS_SENT.labels(kind=kind).inc()
    return sent
