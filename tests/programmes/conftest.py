"""A seeded demo programme and actors for programme service tests."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from checkins.demo import PREVIOUS_NAME
from programmes import Actor, seed_demo
from programmes.demo_data import _answers
from records import Member, Participant, Programme, Tenant


@dataclass
class Demo:
    tenant: Tenant
    programme: Programme
    coordinator: Actor
    mentors: list[Participant]
    mentees: list[Participant]

    def actor_for(self, participant: Participant) -> Actor:
        return Actor(tenant_id=self.tenant.id, member_id=participant.member_id)


def new_member(session: Session, tenant_id: int, name: str) -> Member:
    given, _, family = name.partition(" ")
    member = Member(tenant_id=tenant_id, given_name=given, family_name=family, display_name=name)
    session.add(member)
    session.flush()
    return member


def answers(role: str, seed: int = 1) -> dict:
    """Valid answers for a role, drawn like the demo's."""
    return _answers(random.Random(seed), role, "Test member")


@pytest.fixture
def demo(session: Session) -> Demo:
    tenant = seed_demo(session)
    coordinator = new_member(session, tenant.id, "Cora Ordinator")
    programme = session.scalars(
        select(Programme).where(Programme.tenant_id == tenant.id, Programme.name != PREVIOUS_NAME)
    ).one()
    participants = session.scalars(
        select(Participant).where(Participant.programme_id == programme.id).order_by(Participant.id)
    ).all()
    session.commit()
    return Demo(
        tenant=tenant,
        programme=programme,
        coordinator=Actor(tenant_id=tenant.id, member_id=coordinator.id, coordinator=True),
        mentors=[p for p in participants if p.role == "mentor"],
        mentees=[p for p in participants if p.role == "mentee"],
    )
