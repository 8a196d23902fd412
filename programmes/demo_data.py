"""The demo association: one tenant, one programme, forty members with realistic answers.

`tandem demo` seeds it so that a newcomer can click through match day and check-ins
without an LMS. The answers are drawn with a fixed seed so the demo is the same every
time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from checkins.demo import seed_previous_cohort
from records import (
    Course,
    Identity,
    LearningRecord,
    Member,
    Participant,
    Programme,
    Tenant,
    utcnow,
)

from .access import operator_actor
from .readiness import ReadinessRule, set_readiness
from .templates import FORMATS, GOALS, LANGUAGES, SKILLS, STYLES, VALUES, template

DEMO_TENANT_SLUG = "demo"
DEMO_TENANT_NAME = "Demo Institute of Practitioners"
N_MENTORS = 14
N_MENTEES = 26

TIME_ZONES = ["Europe/London", "Europe/Dublin", "Europe/Paris", "Europe/Warsaw", "America/Toronto"]
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat"]

GIVEN = [
    "Amara", "Ben", "Chloe", "Dev", "Elin", "Farah", "Gareth", "Hana", "Idris", "Jade",
    "Kofi", "Lena", "Marek", "Nia", "Owen", "Priya", "Quentin", "Rosa", "Sami", "Tegan",
    "Uma", "Victor", "Wen", "Xavier", "Yusuf", "Zoe", "Aoife", "Bruno", "Carys", "Dmitri",
    "Esther", "Felix", "Grace", "Hugo", "Isla", "Jonas", "Kiran", "Lucia", "Malik", "Nora",
]  # fmt: skip
FAMILY = [
    "Okafor", "Hughes", "Martin", "Patel", "Roberts", "Haddad", "Jones", "Sato", "Khan",
    "Murphy", "Mensah", "Fischer", "Nowak", "Price", "Evans", "Sharma", "Dubois", "Garcia",
    "Ali", "Morgan", "Iyer", "Lefevre", "Zhang", "Moreau", "Aziz", "Walsh", "Byrne",
    "Costa", "Lloyd", "Ivanov", "Cohen", "Braun", "Adeyemi", "Laurent", "Campbell",
    "Berg", "Rao", "Romero", "Hussain", "Kelly",
]  # fmt: skip
MENTOR_HEADLINES = [
    "Head of Operations, 18 years", "Senior Consultant, 12 years", "Practice Lead, 15 years",
    "Director of Finance, 20 years", "Principal Engineer, 14 years", "Partner, 22 years",
    "Programme Manager, 11 years", "Chief Executive, 25 years",
]  # fmt: skip
MENTEE_HEADLINES = [
    "Graduate member, 1 year", "Associate, 3 years", "Team Lead, 5 years",
    "Returning member, 6 years", "Analyst, 2 years", "Student member",
]  # fmt: skip


def demo_questionnaire() -> dict:
    """The demo programme's questionnaire: the one-to-one template's."""
    return template("one_to_one")["questionnaire"]


def _availability(rng: random.Random) -> dict:
    evenings = rng.random() < 0.6
    hours = [18, 19, 20] if evenings else [8, 12, 13]
    days = rng.sample(DAYS[:5] if rng.random() < 0.8 else DAYS, k=rng.randint(2, 4))
    slots = sorted(f"{day}-{hour:02d}" for day in days for hour in rng.sample(hours, k=2))
    return {"time_zone": rng.choices(TIME_ZONES, weights=[8, 2, 2, 1, 1])[0], "slots": slots}


def _languages(rng: random.Random) -> list[str]:
    extra = rng.choices(LANGUAGES[1:], k=rng.choice([0, 0, 1, 1, 2]))
    return sorted({"English", *extra})


def _answers(rng: random.Random, role: str, headline: str) -> dict:
    # Skewed draws: a few values and skills are popular, as in real cohorts.
    weights = [len(VALUES) - i for i in range(len(VALUES))]
    answers: dict = {
        "values": sorted(set(rng.choices(VALUES, weights=weights, k=3))),
        "style": rng.choice(STYLES),
        "format": rng.choices(FORMATS, weights=[5, 2, 1, 3])[0],
        "availability": _availability(rng),
        "languages": _languages(rng),
    }
    if role == "mentor":
        answers["supports_goals"] = sorted(set(rng.sample(GOALS, k=rng.randint(2, 4))))
        answers["can_offer"] = sorted(set(rng.sample(SKILLS, k=rng.randint(3, 5))))
        answers["seniority"] = rng.choice([4, 4, 5, 5, 3])
        answers["about"] = f"{headline}. Happy to share what I wish I had known earlier."
    else:
        skill_weights = [1 + (i % 4) for i in range(len(SKILLS))]
        answers["goals"] = sorted(set(rng.choices(GOALS, k=2)))
        answers["want_to_learn"] = sorted(set(rng.choices(SKILLS, weights=skill_weights, k=3)))
        answers["seniority"] = rng.choice([1, 1, 2, 2, 3])
        answers["about"] = f"{headline}. Looking for a sounding board and honest feedback."
    return answers


def seed_demo(session: Session, *, seed: int = 2026) -> Tenant:
    """Create the demo tenant, programme and members; a no-op if they exist.

    Returns the demo tenant.
    """
    tenant = session.scalars(select(Tenant).where(Tenant.slug == DEMO_TENANT_SLUG)).first()
    if tenant is not None:
        return tenant
    rng = random.Random(seed)
    tenant = Tenant(slug=DEMO_TENANT_SLUG, name=DEMO_TENANT_NAME)
    session.add(tenant)
    session.flush()
    today = date.today()
    programme = Programme(
        tenant_id=tenant.id,
        name="Early-career mentoring 2027",
        purpose=(
            "Pair members in their first years of practice with experienced members, so "
            "that they grow in confidence, build a network and plan their next step."
        ),
        objectives=[
            "80% of mentees report higher confidence at close than at enrolment",
            "Every pair meets at least monthly for six months",
            "75% of pairs complete the programme",
        ],
        kind="one_to_one",
        matching_mode="assigned",
        status="enrolling",
        questionnaire=demo_questionnaire(),
        starts_on=today + timedelta(days=14),
        ends_on=today + timedelta(days=14 + 182),
        cadence_days=28,
        default_capacity=2,
    )
    session.add(programme)
    session.flush()
    for number in range(N_MENTORS + N_MENTEES):
        role = "mentor" if number < N_MENTORS else "mentee"
        given, family = GIVEN[number], FAMILY[number]
        headline = rng.choice(MENTOR_HEADLINES if role == "mentor" else MENTEE_HEADLINES)
        member = Member(
            tenant_id=tenant.id,
            given_name=given,
            family_name=family,
            display_name=f"{given} {family}",
            email=f"{given.lower()}.{family.lower()}@example.org",
            member_number=f"DIP-{1001 + number}",
            profile={"headline": headline},
        )
        session.add(member)
        session.flush()
        session.add(
            Identity(
                tenant_id=tenant.id, member_id=member.id, source="lti", external_id=f"demo-{number}"
            )
        )
        session.add(
            Participant(
                tenant_id=tenant.id,
                programme_id=programme.id,
                member_id=member.id,
                role=role,
                answers=_answers(rng, role, headline),
                capacity=rng.choice([1, 2, 2, 3]) if role == "mentor" else None,
                enrolled_at=utcnow(),
            )
        )
    session.flush()
    seed_previous_cohort(session, tenant.id)
    return tenant


@dataclass
class ProgrammeOverview:
    """What the demo home page shows of one programme."""

    name: str
    purpose: str
    kind_label: str
    mode_label: str
    cadence_days: int
    mentors: list[dict] = field(default_factory=list)
    mentees: list[dict] = field(default_factory=list)


@dataclass
class DemoOverview:
    tenant_name: str
    programmes: list[ProgrammeOverview]


KIND_LABELS = {
    "one_to_one": "One-to-one",
    "group": "Group",
    "peer": "Peer",
    "reverse": "Reverse",
    "flash": "Flash",
}
MODE_LABELS = {
    "assigned": "matched by the coordinator",
    "mentee_choice": "mentees choose",
    "hybrid": "mentees pick from a shortlist",
}


def demo_overview(session: Session) -> DemoOverview | None:
    """The demo tenant's programmes and their people, or ``None`` without a demo tenant."""
    tenant = session.scalars(select(Tenant).where(Tenant.slug == DEMO_TENANT_SLUG)).first()
    if tenant is None:
        return None
    programmes = session.scalars(
        select(Programme).where(Programme.tenant_id == tenant.id).order_by(Programme.id)
    ).all()
    rows = session.execute(
        select(Participant.programme_id, Participant.role, Member)
        .join(
            Member,
            (Member.id == Participant.member_id) & (Member.tenant_id == Participant.tenant_id),
        )
        .where(Participant.tenant_id == tenant.id, Participant.status != "withdrawn")
        .order_by(Member.family_name, Member.given_name)
    ).all()
    overviews = {
        p.id: ProgrammeOverview(
            name=p.name,
            purpose=p.purpose,
            kind_label=KIND_LABELS[p.kind],
            mode_label=MODE_LABELS[p.matching_mode],
            cadence_days=p.cadence_days,
        )
        for p in programmes
    }
    for programme_id, role, member in rows:
        person = {"name": member.name, "headline": member.profile.get("headline", "")}
        target = overviews[programme_id]
        (target.mentors if role == "mentor" else target.mentees).append(person)
    return DemoOverview(tenant_name=tenant.name, programmes=list(overviews.values()))


READINESS_COURSE = "Mentor essentials"


def seed_readiness(session: Session, tenant: Tenant) -> Programme | None:
    """The demo's enrolling programme asks mentors to complete *Mentor essentials*; every
    other demo mentor has. A no-op once the course exists (or without the programme).

    Kept out of :func:`seed_demo` so that the demo data the tests know stays as it is.
    """
    if session.scalars(
        select(Course).where(Course.tenant_id == tenant.id, Course.title == READINESS_COURSE)
    ).first():
        return None
    programme = session.scalars(
        select(Programme)
        .where(Programme.tenant_id == tenant.id, Programme.status == "enrolling")
        .order_by(Programme.id.desc())
    ).first()
    if programme is None:
        return None
    course = Course(
        tenant_id=tenant.id,
        source="lti",
        external_id="demo-mentor-essentials",
        title=READINESS_COURSE,
        short_name="MENT100",
    )
    session.add(course)
    session.flush()
    mentors = session.scalars(
        select(Participant)
        .where(
            Participant.tenant_id == tenant.id,
            Participant.programme_id == programme.id,
            Participant.role == "mentor",
        )
        .order_by(Participant.id)
    ).all()
    for mentor in mentors[::2]:
        session.add(
            LearningRecord(
                tenant_id=tenant.id,
                member_id=mentor.member_id,
                course_id=course.id,
                source="lti",
                record_key=f"course:{course.external_id}:completion",
                kind="completion",
                completed=True,
                recorded_at=utcnow(),
            )
        )
    session.flush()
    return set_readiness(
        session,
        operator_actor(session, programme.id),
        programme.id,
        {"mentor": ReadinessRule(course_id=course.id)},
    )
