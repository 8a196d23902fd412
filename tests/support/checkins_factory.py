"""A tenant with a running programme and pairs, for the check-in tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from records import Match, Member, Participant, Programme, Tenant

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


@dataclass
class Pair:
    match: Match
    mentor: Member
    mentee: Member
    mentor_participant: Participant
    mentee_participant: Participant


@dataclass
class World:
    tenant: Tenant
    programme: Programme
    coordinator: Member
    pairs: list[Pair] = field(default_factory=list)
    outsider: Member | None = None

    @property
    def pair(self) -> Pair:
        return self.pairs[0]


def make_member(session: Session, tenant: Tenant, name: str, **extra) -> Member:
    given, _, family = name.partition(" ")
    member = Member(
        tenant_id=tenant.id,
        given_name=given,
        family_name=family,
        display_name=name,
        email=f"{given.lower()}.{family.lower()}@example.org",
        **extra,
    )
    session.add(member)
    session.flush()
    return member


def make_pair(
    session: Session,
    tenant: Tenant,
    programme: Programme,
    mentor_name: str,
    mentee_name: str,
    *,
    status: str = "accepted",
    accepted_at: datetime | None = None,
) -> Pair:
    mentor = make_member(session, tenant, mentor_name)
    mentee = make_member(session, tenant, mentee_name)
    parts = []
    for member, role in ((mentor, "mentor"), (mentee, "mentee")):
        participant = Participant(
            tenant_id=tenant.id,
            programme_id=programme.id,
            member_id=member.id,
            role=role,
            status="matched",
            capacity=2 if role == "mentor" else None,
            slots_taken=1 if role == "mentor" else 0,
            enrolled_at=(accepted_at or NOW) - timedelta(days=10),
        )
        session.add(participant)
        parts.append(participant)
    session.flush()
    match = Match(
        tenant_id=tenant.id,
        programme_id=programme.id,
        mentor_participant_id=parts[0].id,
        mentee_participant_id=parts[1].id,
        status=status,
        mentor_response="accepted",
        mentee_response="accepted",
        accepted_at=accepted_at or NOW - timedelta(days=5),
    )
    session.add(match)
    session.flush()
    return Pair(match, mentor, mentee, parts[0], parts[1])


def make_world(
    session: Session,
    *,
    slug: str = "acme",
    settings: dict | None = None,
    n_pairs: int = 1,
    starts_on: date | None = None,
) -> World:
    tenant = Tenant(
        slug=slug, name=f"{slug.title()} Institute", issuer=f"https://{slug}.example", client_id="c"
    )
    session.add(tenant)
    session.flush()
    programme = Programme(
        tenant_id=tenant.id,
        name=f"{slug.title()} mentoring",
        status="running",
        starts_on=starts_on or TODAY - timedelta(days=40),
        ends_on=(starts_on or TODAY - timedelta(days=40)) + timedelta(days=180),
        cadence_days=28,
        settings=settings or {},
    )
    session.add(programme)
    session.flush()
    coordinator = make_member(session, tenant, f"Cora {slug.title()}coord")
    world = World(tenant, programme, coordinator)
    names = [("Maya Mentor", "Milo Mentee"), ("Nora North", "Ned Newman"), ("Omar Oak", "Olga Orr")]
    for i in range(n_pairs):
        mentor, mentee = names[i % len(names)]
        world.pairs.append(
            make_pair(session, tenant, programme, f"{mentor}{i or ''}", f"{mentee}{i or ''}")
        )
    world.outsider = make_member(session, tenant, "Otto Outsider")
    session.flush()
    return world
