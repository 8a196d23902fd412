"""Readiness: what a mentor or mentee must do before they can be matched.

A programme's rules (``settings["readiness"]``) say, separately for mentors and mentees,
which course Tandem knows must be complete and whether the side's guide must be read.
:func:`missing_requirements` is the one place readiness is decided: the roster that
matching, mentee choice and shortlists load (:func:`programmes.roster.load_roster`), a
coordinator's hand-made pair (:func:`require_ready`) and the member's page all ask it.
Nothing is cached: a completion that a sync or launch writes counts at the next look.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from statistics import median
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import (
    ConnectorConfig,
    Course,
    GuideRead,
    LearningRecord,
    Participant,
    Programme,
    record_event,
)
from records.recognition import GUIDE_ROLES

from .access import Actor, coordinated_programme
from .errors import ConflictError, InvalidInputError
from .guides import guide_reads


@dataclass(frozen=True)
class ReadinessRule:
    """What one side must do: complete a course (by id), read the guide, or both."""

    course_id: int | None = None
    guide: bool = False

    @property
    def empty(self) -> bool:
        return self.course_id is None and not self.guide


@dataclass(frozen=True)
class Requirement:
    """One thing a member still has to do, with where to do it.

    ``kind`` is ``course`` (``url`` is the LMS course page when Tandem knows it) or
    ``guide`` (the page links to the programme's guide for ``role``).
    """

    kind: str
    text: str
    role: str
    url: str | None = None


def readiness_rules(programme: Programme) -> dict[str, ReadinessRule]:
    """The programme's rules by side (``mentor``, ``mentee``); sides without one are left out."""
    raw = (programme.settings or {}).get("readiness") or {}
    rules = {}
    for role in GUIDE_ROLES:
        entry = raw.get(role) or {}
        course_id = entry.get("course_id")
        rule = ReadinessRule(
            course_id=int(course_id) if isinstance(course_id, int) else None,
            guide=bool(entry.get("guide")),
        )
        if not rule.empty:
            rules[role] = rule
    return rules


def course_url(course: Course, connectors: Iterable[ConnectorConfig]) -> str | None:
    """The course's page in its LMS, from the base URL of the connector that synced it."""
    for config in connectors:
        if (config.settings or {}).get("source", config.kind) != course.source:
            continue
        base = (config.base_url or "").rstrip("/")
        if not base.startswith("https://"):
            return None
        if config.kind == "moodle":
            return f"{base}/course/view.php?id={course.external_id}"
        if config.kind == "canvas":
            return f"{base}/courses/{course.external_id}"
    return None


def _courses(session: Session, tenant_id: int, ids: set[int]) -> dict[int, Course]:
    if not ids:
        return {}
    rows = session.scalars(select(Course).where(Course.tenant_id == tenant_id, Course.id.in_(ids)))
    return {c.id: c for c in rows}


def _done(
    session: Session, programme: Programme, rules: dict[str, ReadinessRule], course_ids: set[int]
) -> tuple[dict[tuple[int, int], datetime], dict[tuple[int, str], datetime]]:
    """Completions of the rules' courses by the programme's members, and guides read, with
    when each happened (completion date if the source gave one, else when Tandem heard)."""
    tenant_id = programme.tenant_id
    # Members of this programme only, as a subquery: no list of ids to bind, however
    # large the programme.
    in_programme = select(Participant.member_id).where(
        Participant.tenant_id == tenant_id, Participant.programme_id == programme.id
    )
    completed: dict[tuple[int, int], datetime] = {}
    if course_ids:
        for member_id, course_id, recorded, created in session.execute(
            select(
                LearningRecord.member_id,
                LearningRecord.course_id,
                LearningRecord.recorded_at,
                LearningRecord.created_at,
            ).where(
                LearningRecord.tenant_id == tenant_id,
                LearningRecord.course_id.in_(course_ids),
                LearningRecord.kind == "completion",
                LearningRecord.completed.is_(True),
                LearningRecord.member_id.in_(in_programme),
            )
        ):
            when = recorded or created
            key = (member_id, course_id)
            completed[key] = min(when, completed.get(key, when))
    read: dict[tuple[int, str], datetime] = {}
    if any(r.guide for r in rules.values()):
        read = {
            (member_id, role): read_at
            for member_id, role, read_at in session.execute(
                select(GuideRead.member_id, GuideRead.role, GuideRead.read_at).where(
                    GuideRead.tenant_id == tenant_id, GuideRead.programme_id == programme.id
                )
            )
        }
    return completed, read


def missing_requirements(
    session: Session, programme: Programme, participants: Iterable[Participant]
) -> dict[int, list[Requirement]]:
    """What each participant still has to do, by participant id (ready ones are left out).

    Three queries at most, whatever the number of participants: the rules' courses,
    completions of those courses by the programme's participants, and guides read.
    """
    rules = readiness_rules(programme)
    people = [p for p in participants if p.role in rules]
    if not people:
        return {}
    tenant_id = programme.tenant_id
    courses = _courses(
        session, tenant_id, {r.course_id for r in rules.values() if r.course_id is not None}
    )
    completed, read = _done(session, programme, rules, set(courses))
    connectors: list[ConnectorConfig] = []
    if courses:
        connectors = list(
            session.scalars(
                select(ConnectorConfig).where(
                    ConnectorConfig.tenant_id == tenant_id,
                    ConnectorConfig.kind.in_(("moodle", "canvas")),
                )
            )
        )
    urls = {course_id: course_url(c, connectors) for course_id, c in courses.items()}
    missing: dict[int, list[Requirement]] = {}
    for p in people:
        rule = rules[p.role]
        todo = []
        if rule.course_id is not None and (p.member_id, rule.course_id) not in completed:
            course = courses.get(rule.course_id)
            title = course.title if course is not None else f"course {rule.course_id}"
            url = urls.get(rule.course_id)
            todo.append(Requirement("course", f"Complete {title}", p.role, url))
        if rule.guide and (p.member_id, p.role) not in read:
            todo.append(Requirement("guide", f"Read the {p.role} guide", p.role))
        if todo:
            missing[p.id] = todo
    return missing


def describe(requirements: Iterable[Requirement]) -> str:
    """One line for the match-day page: ``not ready: complete X; read the mentor guide``."""
    texts = [r.text[0].lower() + r.text[1:] for r in requirements]
    return "not ready: " + "; ".join(texts)


def require_ready(session: Session, programme: Programme, participants: list[Participant]) -> None:
    """Refuse a pair with someone who is not ready yet.

    Raises:
        ConflictError: naming who is not ready and what they still have to do.
    """
    missing = missing_requirements(session, programme, participants)
    for p in participants:
        if p.id in missing:
            raise ConflictError(
                f"This {p.role} is {describe(missing[p.id])}: they cannot be matched yet."
            )


def known_courses(session: Session, actor: Actor) -> list[Course]:
    """The courses Tandem knows in the actor's tenant (from syncs and launches), by title."""
    return list(
        session.scalars(
            select(Course)
            .where(Course.tenant_id == actor.tenant_id, Course.active.is_(True))
            .order_by(Course.title, Course.id)
        )
    )


def set_readiness(
    session: Session, actor: Actor, programme_id: int, rules: Mapping[str, ReadinessRule]
) -> Programme:
    """Replace the programme's readiness rules (a coordinator's action).

    Raises:
        InvalidInputError: a side that is not mentor or mentee, or a course that is not
            one of the tenant's.
    """
    programme = coordinated_programme(session, actor, programme_id)
    problems: dict[str, str] = {}
    for role in rules:
        if role not in GUIDE_ROLES:
            problems[role] = "Rules are for mentors and mentees."
    wanted = {r.course_id for r in rules.values() if r.course_id is not None}
    found = _courses(session, actor.tenant_id, wanted)
    for role, rule in rules.items():
        if rule.course_id is not None and rule.course_id not in found:
            problems[f"{role}_course"] = "Pick one of the courses listed."
    if problems:
        raise InvalidInputError("The readiness rules need a change.", problems)
    stored: dict[str, Any] = {
        role: {"course_id": rule.course_id, "guide": rule.guide}
        for role, rule in rules.items()
        if not rule.empty
    }
    programme.settings = {**(programme.settings or {}), "readiness": stored}
    record_event(
        session,
        actor.tenant_id,
        "programme.readiness",
        actor_member_id=actor.member_id,
        subject=programme,
        detail=stored,
    )
    return programme


@dataclass(frozen=True)
class ReadinessForm:
    """The set-up page's readiness and guide section."""

    programme: Programme
    courses: list[Course]
    rules: dict[str, ReadinessRule]
    guides: dict[str, dict[str, str]]


def readiness_form(session: Session, actor: Actor, programme_id: int) -> ReadinessForm:
    """The programme (for a coordinator), the courses to pick from, its rules and guide texts."""
    programme = coordinated_programme(session, actor, programme_id)
    guides = (programme.settings or {}).get("guides") or {}
    return ReadinessForm(
        programme=programme,
        courses=known_courses(session, actor),
        rules=readiness_rules(programme),
        guides={role: dict(guides.get(role) or {}) for role in GUIDE_ROLES},
    )


@dataclass(frozen=True)
class ReadinessFigures:
    """The dashboard's readiness figures for one programme."""

    rules: dict[str, ReadinessRule]
    mentors: int
    mentors_ready: int
    mentees: int
    mentees_ready: int
    # Median days from enrolment to ready, over those who became ready under a rule.
    median_days_to_ready: float | None
    # Members who marked each side's guide read.
    guides_read: dict[str, int]

    @property
    def mentor_share(self) -> float | None:
        return self.mentors_ready / self.mentors if self.mentors else None


def readiness_figures(session: Session, actor: Actor, programme_id: int) -> ReadinessFigures:
    """Share of mentors (and mentees) ready, and how long becoming ready took."""
    programme = coordinated_programme(session, actor, programme_id)
    rules = readiness_rules(programme)
    people = session.scalars(
        select(Participant).where(
            Participant.tenant_id == programme.tenant_id,
            Participant.programme_id == programme.id,
            Participant.status != "withdrawn",
            Participant.role.in_(GUIDE_ROLES),
        )
    ).all()
    missing = missing_requirements(session, programme, people)
    completed, read = _done(
        session, programme, rules, {r.course_id for r in rules.values() if r.course_id}
    )
    days = []
    for p in people:
        rule = rules.get(p.role)
        if rule is None or p.id in missing:
            continue
        moments = []
        if rule.course_id is not None:
            moments.append(completed[(p.member_id, rule.course_id)])
        if rule.guide:
            moments.append(read[(p.member_id, p.role)])
        waited = max(moments) - p.enrolled_at
        days.append(max(0.0, waited.total_seconds() / 86400))
    count = {role: [p for p in people if p.role == role] for role in GUIDE_ROLES}
    return ReadinessFigures(
        rules=rules,
        mentors=len(count["mentor"]),
        mentors_ready=sum(1 for p in count["mentor"] if p.id not in missing),
        mentees=len(count["mentee"]),
        mentees_ready=sum(1 for p in count["mentee"] if p.id not in missing),
        median_days_to_ready=round(median(days), 1) if days else None,
        guides_read=guide_reads(session, programme.tenant_id, programme.id),
    )
