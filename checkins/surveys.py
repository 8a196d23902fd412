"""Pulse surveys (day 30, mid-point, close), the end evaluation and the enrolment baseline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from records import Match, Participant, Programme, SurveyResponse, utcnow
from translations import N_

from . import audit
from .errors import AlreadyAnswered, InvalidInput, NotAllowed, NotFound
from .pairs import get_programme, pair_side
from .pairstats import count_answer, count_survey_answer
from .progress import ProgressPoster, post_milestone
from .settings import PULSES, pulse_opens_on, settings_of

SURVEY_TITLES = {
    "enrolment": N_("Before you start"),
    "day30": N_("One month in"),
    "midpoint": N_("Half-way"),
    "close": N_("Nearly done"),
    "end": N_("End of programme evaluation"),
}
# Which questions each survey asks; the others stay empty.
SURVEY_QUESTIONS = {
    "enrolment": ("confidence",),
    "day30": ("satisfaction", "usefulness", "confidence", "comment"),
    "midpoint": ("satisfaction", "usefulness", "confidence", "comment"),
    "close": ("satisfaction", "usefulness", "confidence", "comment"),
    "end": ("satisfaction", "usefulness", "confidence", "goal_progress", "comment"),
}
MAX_COMMENT = 2000


@dataclass(frozen=True)
class SurveyAnswer:
    """One person's answers; ``None`` for a question the survey does not ask."""

    satisfaction: int | None = None
    usefulness: int | None = None
    confidence: int | None = None
    goal_progress: int | None = None
    comment: str = ""


@dataclass(frozen=True)
class OpenSurvey:
    """A survey the member may answer now."""

    survey: str
    match_id: int | None
    opens_on: date

    @property
    def title(self) -> str:
        return SURVEY_TITLES[self.survey]


def _check(survey: str, answer: SurveyAnswer) -> None:
    asked = SURVEY_QUESTIONS[survey]
    for name, low, high in (
        ("satisfaction", 1, 5),
        ("usefulness", 1, 5),
        ("confidence", 1, 5),
        ("goal_progress", 0, 100),
    ):
        value = getattr(answer, name)
        if name not in asked:
            if value is not None:
                raise InvalidInput(f"the {survey} survey does not ask for {name}")
            continue
        if value is None:
            raise InvalidInput(f"{name.replace('_', ' ')} is unanswered: pick {low} to {high}")
        if not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput(f"{name.replace('_', ' ')} {value!r}: need {low} to {high}")
    if len(answer.comment) > MAX_COMMENT:
        raise InvalidInput(f"the comment is over {MAX_COMMENT} characters")
    if answer.comment and "comment" not in asked:
        raise InvalidInput(f"the {survey} survey has no free-text question")


def survey_opens_on(programme: Programme, match: Match, survey: str) -> date | None:
    """When ``survey`` opens for ``match``: pulses by schedule, ``end`` when the pair closed."""
    if survey == "end":
        return match.ended_at.date() if match.status == "closed" and match.ended_at else None
    return pulse_opens_on(programme, match, survey)


def _existing(
    session: Session, tenant_id: int, participant_id: int, survey: str, match_id: int | None
) -> SurveyResponse | None:
    query = select(SurveyResponse).where(
        SurveyResponse.tenant_id == tenant_id,
        SurveyResponse.participant_id == participant_id,
        SurveyResponse.survey == survey,
    )
    query = query.where(
        SurveyResponse.match_id.is_(None)
        if match_id is None
        else SurveyResponse.match_id == match_id
    )
    return session.scalars(query).first()


def answer_survey(
    session: Session,
    tenant_id: int,
    member_id: int,
    survey: str,
    answer: SurveyAnswer,
    *,
    match_id: int | None = None,
    programme_id: int | None = None,
    today: date | None = None,
    poster: ProgressPoster | None = None,
) -> SurveyResponse:
    """Record one answer. Pair surveys take ``match_id``; the enrolment baseline takes
    ``programme_id``. A pair survey's answer moves the pair's running figures (answers
    per survey, lowest pulse satisfaction) in the same transaction.

    Raises:
        InvalidInput: an unknown survey, a value out of range or unasked, a missing answer.
        AlreadyAnswered: this person answered this survey already.
        Conflict: the survey is not open yet for this pair.
        NotFound, NotAllowed: not the member's pair or programme.
    """
    if survey not in SURVEY_QUESTIONS:
        raise InvalidInput(f"survey {survey!r}; need one of {', '.join(SURVEY_QUESTIONS)}")
    _check(survey, answer)
    today = today or utcnow().date()
    side = None
    if survey == "enrolment":
        if programme_id is None:
            raise InvalidInput("the enrolment survey needs the programme")
        get_programme(session, tenant_id, programme_id)
        participant = session.scalars(
            select(Participant).where(
                Participant.tenant_id == tenant_id,
                Participant.programme_id == programme_id,
                Participant.member_id == member_id,
            )
        ).first()
        if participant is None:
            raise NotAllowed("you are not enrolled in this programme")
        match_id = None
    else:
        if match_id is None:
            raise InvalidInput(f"the {survey} survey is about a pair: say which match")
        side = pair_side(session, tenant_id, match_id, member_id)
        participant = side.me
        opens = survey_opens_on(side.programme, side.match, survey)
        if survey in PULSES and survey not in settings_of(side.programme).pulse_surveys:
            raise NotFound(f"this programme does not run the {survey} survey")
        if opens is None or opens > today:
            from .errors import Conflict

            when = f"opens on {opens:%d %B %Y}" if opens else "is not open for this pair"
            raise Conflict(f"the {SURVEY_TITLES[survey].lower()} survey {when}")
    if _existing(session, tenant_id, participant.id, survey, match_id) is not None:
        raise AlreadyAnswered(f"you have answered the {SURVEY_TITLES[survey].lower()} survey")
    response = SurveyResponse(
        tenant_id=tenant_id,
        participant_id=participant.id,
        match_id=match_id,
        survey=survey,
        satisfaction=answer.satisfaction,
        usefulness=answer.usefulness,
        confidence=answer.confidence,
        goal_progress=answer.goal_progress,
        comment=answer.comment.strip(),
    )
    # A savepoint: a concurrent second answer hits the unique key, and the caller's
    # transaction must survive to report it.
    try:
        with session.begin_nested():
            session.add(response)
    except IntegrityError:
        raise AlreadyAnswered(
            f"you have answered the {SURVEY_TITLES[survey].lower()} survey"
        ) from None
    if side is not None:
        count_answer(side.match, survey, answer.satisfaction)
        session.flush()
    count_survey_answer(session, response, participant.programme_id)
    audit.record(
        session, tenant_id, "survey.answered",
        actor_member_id=member_id, subject_type="SurveyResponse", subject_id=response.id,
        detail={"survey": survey, "match_id": match_id},
    )  # fmt: skip
    if side is not None and survey == "end":
        post_milestone(session, tenant_id, side.match, [side.me], poster, "evaluation")
    return response


def open_surveys(
    session: Session, tenant_id: int, member_id: int, match_id: int, today: date | None = None
) -> list[OpenSurvey]:
    """The pair surveys the member may answer now (opened and not yet answered)."""
    side = pair_side(session, tenant_id, match_id, member_id)
    return surveys_open_to(session, tenant_id, side.me.id, side.match, side.programme, today)


# Built once: every member's home asks it for each of their pairs.
_ANSWERED = select(SurveyResponse.survey).where(
    SurveyResponse.tenant_id == bindparam("tenant_id"),
    SurveyResponse.participant_id == bindparam("participant_id"),
    SurveyResponse.match_id == bindparam("match_id"),
)


def surveys_open_to(
    session: Session,
    tenant_id: int,
    participant_id: int,
    match: Match,
    programme: Programme,
    today: date | None = None,
) -> list[OpenSurvey]:
    """:func:`open_surveys` for a side of a pair its caller has loaded and checked (the
    member's home, which has the member's matches and programmes in hand): one query."""
    today = today or utcnow().date()
    answered = set(
        session.scalars(
            _ANSWERED,
            {"tenant_id": tenant_id, "participant_id": participant_id, "match_id": match.id},
        )
    )
    names = (
        ["end"]
        if match.status == "closed"
        else list(settings_of(programme).pulse_surveys)
        if match.status in ("accepted", "active")
        else []
    )
    out = []
    for name in names:
        opens = survey_opens_on(programme, match, name)
        if opens is not None and opens <= today and name not in answered:
            out.append(OpenSurvey(name, match.id, opens))
    return out


def pulse_due(programme: Programme, match: Match, survey: str, today: date) -> bool:
    """The pulse has been open longer than the programme's window (so unanswered counts)."""
    opens = pulse_opens_on(programme, match, survey)
    return (
        opens is not None
        and opens + timedelta(days=settings_of(programme).survey_window_days) <= today
    )
