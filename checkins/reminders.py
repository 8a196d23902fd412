"""What reminders are due, and sending them exactly once each.

Three kinds: ``checkin_due`` (the cadence has passed since the last meeting),
``survey_open`` (a pulse or the end evaluation waits for this person) and ``quiet_nudge``
(the pair has gone quiet). Each sent reminder is a :class:`SentReminder` row, unique per
kind, subject, recipient and period, so a second run, or a run on another host, never
sends it again.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import translations
from members import tenant_default_locale
from records import (
    Match,
    Member,
    Participant,
    Programme,
    SentReminder,
    SurveyResponse,
    Tenant,
)

from .health import pair_states
from .settings import settings_of
from .surveys import SURVEY_TITLES, survey_opens_on

# The end evaluation is chased for this long after a pair closes, then left be.
END_SURVEY_DAYS = 30


@dataclass(frozen=True)
class Reminder:
    """One email to one member."""

    tenant_id: int
    kind: str
    subject: str
    period: str
    member_id: int
    email: str
    name: str
    programme: str
    title: str
    body: str
    # Where the email's link points, below the Tandem base URL.
    path: str = "/checkins/"
    # The recipient's language (their last known locale, else the tenant's default).
    locale: str = translations.DEFAULT_LOCALE

    @property
    def key(self) -> tuple[int, str, str, int, str]:
        return (self.tenant_id, self.kind, self.subject, self.member_id, self.period)


@dataclass
class RunReport:
    """What a run did."""

    due: list[Reminder] = field(default_factory=list)
    sent: list[Reminder] = field(default_factory=list)
    already_sent: int = 0
    failed: Reminder | None = None
    error: str | None = None
    no_email: int = 0


class _Recipients:
    """Names and emails of the members a run writes to, fetched in one query."""

    def __init__(self, session: Session, tenant_id: int, member_ids: set[int]) -> None:
        self.by_id = {
            m.id: m
            for m in session.scalars(
                select(Member).where(Member.tenant_id == tenant_id, Member.id.in_(member_ids))
            )
        }


def _texts(
    t: translations.Translator, kind: str, programme: str, partner: str, extra: str
) -> tuple[str, str]:
    """The title and body of a reminder, in the recipient's language."""
    if kind == "checkin_due":
        return (
            t.gettext("Time to meet %(partner)s", partner=partner),
            t.gettext(
                "It is time for your next mentoring conversation with %(partner)s in "
                "%(programme)s. Once you have met, log the check-in in Tandem (your private "
                "notes stay between the two of you).",
                partner=partner,
                programme=programme,
            ),
        )
    if kind == "quiet_nudge":
        return (
            t.gettext("Checking in: you and %(partner)s", partner=partner),
            t.gettext(
                "We have not seen a check-in from you and %(partner)s in %(programme)s for a "
                "while. If something is in the way, you can tell the coordinator privately "
                "from your Tandem page.",
                partner=partner,
                programme=programme,
            ),
        )
    survey = t.gettext(extra) if extra else extra
    return (
        t.gettext("%(survey)s: a short survey", survey=survey),
        t.gettext(
            "The '%(survey)s' survey of %(programme)s is open: four questions about how your "
            "mentoring is going. It helps the coordinator keep the programme useful.",
            survey=survey,
            programme=programme,
        ),
    )


def _tenant_locale(session: Session, tenant_id: int) -> str | None:
    return tenant_default_locale(session.get(Tenant, tenant_id))


def due_reminders(session: Session, today: date) -> list[Reminder]:
    """Every reminder due today across all tenants that has not been sent yet."""
    due: list[Reminder] = []
    for tenant_id in session.scalars(select(Tenant.id).where(Tenant.active).order_by(Tenant.id)):
        due.extend(_due_for_tenant(session, tenant_id, today))
        due.extend(_proposal_reminders(session, tenant_id))
    return due


def _proposal_reminders(session: Session, tenant_id: int) -> Iterator[Reminder]:
    """One email per member per match that waits for their answer (published on match
    day, or a mentee's request to a mentor)."""
    sent = set(
        session.execute(
            select(SentReminder.subject, SentReminder.recipient_member_id).where(
                SentReminder.tenant_id == tenant_id, SentReminder.kind == "match_proposed"
            )
        ).all()
    )
    rows = session.execute(
        select(Match, Programme.name, Programme.id)
        .join(
            Programme,
            (Programme.id == Match.programme_id) & (Programme.tenant_id == Match.tenant_id),
        )
        .where(Match.tenant_id == tenant_id, Match.status == "proposed")
        .order_by(Match.id)
    ).all()
    if not rows:
        return
    participant_ids = {
        pid for m, _n, _p in rows for pid in (m.mentor_participant_id, m.mentee_participant_id)
    }
    member_of = dict(
        session.execute(
            select(Participant.id, Participant.member_id).where(
                Participant.tenant_id == tenant_id, Participant.id.in_(participant_ids)
            )
        ).all()
    )
    people = _Recipients(session, tenant_id, set(member_of.values())).by_id
    fallback = _tenant_locale(session, tenant_id)
    for match, programme_name, programme_id in rows:
        mentor = people.get(member_of.get(match.mentor_participant_id))
        mentee = people.get(member_of.get(match.mentee_participant_id))
        if mentor is None or mentee is None:
            continue
        subject = f"match:{match.id}"
        for member, partner, response, partner_role in (
            (mentor, mentee, match.mentor_response, "mentee"),
            (mentee, mentor, match.mentee_response, "mentor"),
        ):
            if response != "pending" or (subject, member.id) in sent:
                continue
            t = translations.for_member(member, fallback)
            if match.made_by == "mentee" and partner_role == "mentee":
                title = t.gettext("%(name)s asks you to be their mentor", name=partner.name)
            elif partner_role == "mentee":
                title = t.gettext("%(name)s is proposed as your mentee", name=partner.name)
            else:
                title = t.gettext("%(name)s is proposed as your mentor", name=partner.name)
            body = t.gettext(
                "In %(programme)s: %(proposal)s. See why you were matched, and accept or "
                "decline, on your Tandem page.",
                programme=programme_name,
                proposal=title,
            )
            yield Reminder(
                tenant_id, "match_proposed", subject, "proposed", member.id, member.email or "",
                member.name, programme_name, title, body, f"/programmes/{programme_id}",
                locale=t.locale,
            )  # fmt: skip


def _due_for_tenant(session: Session, tenant_id: int, today: date) -> Iterator[Reminder]:
    sent = set(
        session.execute(
            select(
                SentReminder.tenant_id,
                SentReminder.kind,
                SentReminder.subject,
                SentReminder.recipient_member_id,
                SentReminder.period,
            ).where(SentReminder.tenant_id == tenant_id)
        ).all()
    )
    programmes = session.scalars(
        select(Programme)
        .where(
            Programme.tenant_id == tenant_id,
            Programme.status.in_(("running", "matching", "enrolling")),
        )
        .order_by(Programme.id)
    ).all()
    fallback = _tenant_locale(session, tenant_id)
    for programme in programmes:
        states = pair_states(session, tenant_id, programme, today)
        if not states:
            continue
        answered = set(
            session.execute(
                select(Participant.member_id, SurveyResponse.match_id, SurveyResponse.survey)
                .join(Participant, Participant.id == SurveyResponse.participant_id)
                .where(
                    SurveyResponse.tenant_id == tenant_id, Participant.programme_id == programme.id
                )
            ).all()
        )
        ids = {s.mentor_member_id for s in states} | {s.mentee_member_id for s in states}
        people = _Recipients(session, tenant_id, ids).by_id
        settings = settings_of(programme)
        for state in states:
            pair = ((state.mentor_member_id, state.mentee_member_id),
                    (state.mentee_member_id, state.mentor_member_id))  # fmt: skip
            wanted: list[tuple[str, str, str, str]] = []  # kind, subject, period, extra
            if state.running and state.due_on is not None:
                if state.quiet:
                    wanted.append(
                        ("quiet_nudge", f"match:{state.match_id}", state.due_on.isoformat(), "")
                    )
                elif state.due_on <= today:
                    wanted.append(
                        ("checkin_due", f"match:{state.match_id}", state.due_on.isoformat(), "")
                    )
            surveys: list[str] = []
            if state.running:
                surveys = list(settings.pulse_surveys)
            elif (
                state.status == "closed"
                and state.ended_at
                and (today - state.ended_at.date() <= timedelta(days=END_SURVEY_DAYS))
            ):
                surveys = ["end"]
            for survey in surveys:
                opens = survey_opens_on(programme, state, survey)  # type: ignore[arg-type]
                if opens is not None and opens <= today:
                    wanted.append(
                        ("survey_open", f"match:{state.match_id}:{survey}", survey, survey)
                    )
            for kind, subject, period, survey in wanted:
                for member_id, partner_id in pair:
                    if survey and (member_id, state.match_id, survey) in answered:
                        continue
                    if (tenant_id, kind, subject, member_id, period) in sent:
                        continue
                    member, partner = people.get(member_id), people.get(partner_id)
                    if member is None or partner is None:
                        continue
                    t = translations.for_member(member, fallback)
                    title, body = _texts(t, kind, programme.name, partner.name,
                                         SURVEY_TITLES.get(survey, ""))  # fmt: skip
                    yield Reminder(
                        tenant_id, kind, subject, period, member_id, member.email or "",
                        member.name, programme.name, title, body, locale=t.locale,
                    )  # fmt: skip


def compose(reminder: Reminder, base_url: str | None = None) -> EmailMessage:
    """The email for one reminder (plain text; no notes, no survey answers)."""
    t = translations.for_locale(reminder.locale)
    message = EmailMessage()
    message["To"] = f"{reminder.name} <{reminder.email}>"
    message["Subject"] = f"[{reminder.programme}] {reminder.title}"
    url = f"{base_url.rstrip('/')}{reminder.path}" if base_url else None
    link = "\n\n" + t.gettext("Open Tandem: %(url)s", url=url) if url else ""
    greeting = t.gettext("Hello %(name)s,", name=reminder.name)
    signature = t.gettext("-- Tandem mentoring")
    message.set_content(f"{greeting}\n\n{reminder.body}{link}\n\n{signature}\n")
    # After the content: setting the content clears the Content-* headers.
    message["Content-Language"] = t.locale.replace("_", "-")
    return message


class Sender:
    """What :func:`send_due` needs of a mailer."""

    def send(self, message: EmailMessage) -> None:  # pragma: no cover - protocol
        raise NotImplementedError


def send_due(
    transaction: Callable[[], AbstractContextManager[Session]],
    mailer: Sender,
    today: date,
    *,
    base_url: str | None = None,
) -> RunReport:
    """Send every due reminder, each in its own transaction.

    A reminder is claimed (its row inserted) before it is sent and committed after: a
    failure rolls back only that one and stops the run; those sent before stay recorded
    and the rest go next time. A reminder another run claimed first is skipped.

    ``transaction`` opens a session in a transaction (committed on success), e.g.
    :meth:`records.Database.transaction`.
    """
    report = RunReport()
    with transaction() as session:
        report.due = due_reminders(session, today)
    for reminder in report.due:
        if not reminder.email:
            report.no_email += 1
            continue
        try:
            with transaction() as session:
                session.add(
                    SentReminder(
                        tenant_id=reminder.tenant_id,
                        kind=reminder.kind,
                        subject=reminder.subject,
                        period=reminder.period,
                        recipient_member_id=reminder.member_id,
                    )
                )
                session.flush()
                mailer.send(compose(reminder, base_url))
        except IntegrityError:
            report.already_sent += 1
            continue
        except (smtplib.SMTPException, OSError) as exc:
            report.failed = reminder
            report.error = f"{type(exc).__name__}: {exc}"
            break
        report.sent.append(reminder)
    return report
