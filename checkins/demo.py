"""The demo tenant's previous cohort, so the dashboard and member pages have a story.

"Early-career mentoring 2026" has run for five months with the same questionnaire as
the demo programme: some pairs meet every month, two went quiet, two are at risk, three
have closed. Drawn with a fixed seed, so the demo is the same every time.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import (
    Agreement,
    CheckIn,
    Course,
    Credential,
    Enrolment,
    LearningRecord,
    Match,
    Milestone,
    Participant,
    Programme,
    SurveyResponse,
)

from .credentials import Signer, issue_credential
from .milestones import award_milestones
from .pairstats import recount_pairs
from .settings import DEFAULT_THEMES

PREVIOUS_NAME = "Early-career mentoring 2026"
RUNNING_DAYS = 152  # five months
# (kind, how many): the shape of the cohort.
PLAN = (("active", 5), ("quiet", 2), ("at_risk", 2), ("completed", 2), ("early", 1))
SUMMARIES = [
    "Mapped out the next two years and what a step into leadership would need.",
    "Role-played the difficult conversation with the team lead; felt better prepared.",
    "Went through the certification syllabus and picked the first module.",
    "Talked about saying no to extra work without damaging relationships.",
    "Reviewed the CV and LinkedIn profile; three concrete changes agreed.",
]


def _at(day: date, hour: int = 18) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def seed_previous_cohort(session: Session, tenant_id: int, *, seed: int = 2026) -> Programme | None:
    """Give the demo tenant a previous cohort; a no-op if it exists or there is no programme.

    The tenant's newest programme becomes its copy (``copied_from_id``), so its dashboard
    compares the two.
    """
    programmes = session.scalars(
        select(Programme).where(Programme.tenant_id == tenant_id).order_by(Programme.id)
    ).all()
    if not programmes or any(p.name == PREVIOUS_NAME for p in programmes):
        return None
    current = programmes[-1]
    rng = random.Random(seed)
    today = date.today()
    starts_on = today - timedelta(days=RUNNING_DAYS)
    previous = Programme(
        tenant_id=tenant_id,
        name=PREVIOUS_NAME,
        purpose=current.purpose,
        objectives=list(current.objectives),
        kind=current.kind,
        matching_mode=current.matching_mode,
        status="running",
        questionnaire=current.questionnaire,
        starts_on=starts_on,
        ends_on=starts_on + timedelta(days=182),
        cadence_days=28,
        default_capacity=2,
        settings={"themes": DEFAULT_THEMES},
    )
    session.add(previous)
    session.flush()
    current.copied_from_id = previous.id
    people = session.scalars(
        select(Participant)
        .where(Participant.tenant_id == tenant_id, Participant.programme_id == current.id)
        .order_by(Participant.id)
    ).all()
    mentors = [p for p in people if p.role == "mentor"]
    mentees = [p for p in people if p.role == "mentee"]
    n_pairs = sum(n for _, n in PLAN)
    if len(mentors) * 2 < n_pairs or len(mentees) < n_pairs:
        return previous
    course = Course(tenant_id=tenant_id, source="lti", external_id="demo-course-101",
                    title="Foundations of professional practice", short_name="FPP101")  # fmt: skip
    session.add(course)
    session.flush()
    kinds = [kind for kind, n in PLAN for _ in range(n)]
    themes = [t["theme"] for t in DEFAULT_THEMES]
    copies: dict[int, Participant] = {}  # a mentor has two mentees: one participant row
    for number, kind in enumerate(kinds):
        mentor_src, mentee_src = mentors[number // 2], mentees[number]
        pair = []
        for src in (mentor_src, mentee_src):
            if src.id in copies:
                pair.append(copies[src.id])
                continue
            participant = Participant(
                tenant_id=tenant_id, programme_id=previous.id, member_id=src.member_id,
                role=src.role, status="matched", answers=src.answers,
                capacity=2 if src.role == "mentor" else None,
                slots_taken=0, enrolled_at=_at(starts_on - timedelta(days=21)),
            )  # fmt: skip
            session.add(participant)
            copies[src.id] = participant
            pair.append(participant)
        session.flush()
        pair[0].slots_taken += 1
        accepted = _at(starts_on - timedelta(days=rng.randint(2, 9)))
        match = Match(
            tenant_id=tenant_id, programme_id=previous.id,
            mentor_participant_id=pair[0].id, mentee_participant_id=pair[1].id,
            score=round(rng.uniform(62, 94), 1), status="active",
            mentor_response="accepted", mentee_response="accepted",
            accepted_at=accepted, started_at=_at(starts_on),
        )  # fmt: skip
        session.add(match)
        session.flush()
        session.add(
            Agreement(
                tenant_id=tenant_id, match_id=match.id,
                goals=[{"goal": "Lead a client meeting on my own",
                        "by": (starts_on + timedelta(days=120)).isoformat()},
                       {"goal": "Pass the first certification module",
                        "by": (starts_on + timedelta(days=170)).isoformat()}],
                meeting_frequency="every four weeks, an hour", channel="video call",
                boundaries="Confidentiality: what we discuss stays between us\n"
                "Out of scope: disputes with my current employer",
                share_learning_history=number % 3 == 0,
                mentor_signed_at=_at(starts_on + timedelta(days=3)),
                mentee_signed_at=_at(starts_on + timedelta(days=2)),
            )
        )  # fmt: skip
        last_day = {
            "quiet": today - timedelta(days=68),
            "early": starts_on + timedelta(days=75),
            "completed": today - timedelta(days=6),
        }.get(kind, today - timedelta(days=5))
        day = starts_on + timedelta(days=rng.randint(3, 10))
        meeting = 0
        while day <= last_day:
            session.add(
                CheckIn(
                    tenant_id=tenant_id, match_id=match.id,
                    logged_by_participant_id=pair[meeting % 2].id, met_on=day,
                    duration_minutes=rng.choice([30, 45, 60, 60, 75, 90]),
                    format=rng.choice(["video", "video", "in_person", "phone"]),
                    topics=[themes[min(meeting, len(themes) - 1)]],
                    summary=SUMMARIES[meeting % len(SUMMARIES)],
                    private_notes="(private to the pair: never shown to the coordinator)",
                )
            )  # fmt: skip
            meeting += 1
            day += timedelta(days=rng.randint(21, 30))
        if kind in ("completed", "early"):
            match.status = "closed"
            match.ended_at = _at(last_day + timedelta(days=1))
            match.end_reason = "completed" if kind == "completed" else "early: mentee changed jobs"
        low = kind == "at_risk"
        baseline = rng.choice([2, 2, 3])
        session.add(SurveyResponse(tenant_id=tenant_id, participant_id=pair[1].id,
                                   survey="enrolment", confidence=baseline))  # fmt: skip
        stages = [("day30", 30), ("midpoint", 91)]
        for survey, offset in stages:
            opens = starts_on + timedelta(days=offset)
            if opens > today or (kind == "early" and survey == "midpoint"):
                continue
            for side, participant in enumerate(pair):
                if kind == "quiet" and survey == "midpoint":
                    continue  # the quiet pairs never answered: an unanswered pulse
                session.add(
                    SurveyResponse(
                        tenant_id=tenant_id, participant_id=participant.id, match_id=match.id,
                        survey=survey,
                        satisfaction=2 if low and side == 1 and survey == "midpoint"
                        else rng.choice([4, 4, 5]),
                        usefulness=rng.choice([3, 4, 5]),
                        confidence=(3 if survey == "day30" else 4) if side == 1 else 5,
                        comment="" if rng.random() < 0.5 else "Good conversations so far.",
                        answered_at=_at(opens + timedelta(days=rng.randint(0, 6)), 12),
                    )
                )  # fmt: skip
        if match.status == "closed":
            for participant in pair:
                session.add(
                    SurveyResponse(
                        tenant_id=tenant_id, participant_id=participant.id, match_id=match.id,
                        survey="end", satisfaction=5 if kind == "completed" else 3,
                        usefulness=4, confidence=4 if participant is pair[1] else 5,
                        goal_progress=80 if kind == "completed" else 40,
                        answered_at=match.ended_at + timedelta(days=2),
                    )
                )  # fmt: skip
        member_id = mentee_src.member_id
        session.add(Enrolment(tenant_id=tenant_id, member_id=member_id, course_id=course.id,
                              role="Learner", source="lti"))  # fmt: skip
        session.add(
            LearningRecord(
                tenant_id=tenant_id, member_id=member_id, course_id=course.id, source="lti",
                record_key=f"course:{course.id}:progress", kind="progress",
                progress=round(rng.uniform(0.2, 1.0), 2),
                grade=rng.choice(["B", "A-", "B+", None]), completed=rng.random() < 0.4,
                recorded_at=_at(today - timedelta(days=rng.randint(1, 20))),
            )
        )  # fmt: skip
    session.flush()
    # Written around the services, so the pairs' running figures are counted once here.
    recount_pairs(session, tenant_id, previous.id)
    return previous


def seed_milestones(session: Session, tenant_id: int) -> int:
    """Record the milestones the demo's previous cohort has reached; returns how many are new.

    The cohort is written around the services, so its milestones are awarded here, as
    the services would have as the pairs went along (idempotent: each is recorded once).
    """
    previous = session.scalars(
        select(Programme).where(Programme.tenant_id == tenant_id, Programme.name == PREVIOUS_NAME)
    ).first()
    if previous is None:
        return 0
    pairs = session.scalars(
        select(Match)
        .where(Match.tenant_id == tenant_id, Match.programme_id == previous.id)
        .order_by(Match.id)
    ).all()
    return sum(len(award_milestones(session, tenant_id, match)) for match in pairs)


def seed_credentials(session: Session, tenant_id: int, issuer_url: str, sign: Signer) -> int:
    """Give each member of the demo's previous cohort a credential for their signed
    agreement, so that the demo has one to download and verify; returns how many."""
    milestones = session.scalars(
        select(Milestone)
        .where(
            Milestone.tenant_id == tenant_id,
            Milestone.kind == "agreement_signed",
            Milestone.id.not_in(select(Credential.milestone_id)),
        )
        .order_by(Milestone.id)
    ).all()
    for milestone in milestones:
        issue_credential(
            session,
            tenant_id,
            milestone.member_id,
            milestone.id,
            show_name=True,
            issuer_url=issuer_url,
            sign=sign,
        )
    return len(milestones)
