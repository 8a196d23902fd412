"""Every programme kind, from its template through enrolment to a published draft."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from programmes import Actor, create_from_template, enrol, publish, run_matching
from programmes.demo_data import _answers
from programmes.templates import DIGITAL_SKILLS
from records import Match, Member, Tenant


def _people(session: Session, tenant_id: int, n: int) -> list[Actor]:
    members = [Member(tenant_id=tenant_id, display_name=f"Person {i}") for i in range(n)]
    session.add_all(members)
    session.flush()
    return [Actor(tenant_id=tenant_id, member_id=m.id) for m in members]


def _peer_answers(rng: random.Random) -> dict:
    # A peer answers both sides: what they want to learn and what they can offer.
    mentee, mentor = _answers(rng, "mentee", "Peer"), _answers(rng, "mentor", "Peer")
    return {**mentor, **mentee, "seniority": 3}


@pytest.mark.parametrize("template", ["one_to_one", "group", "reverse", "flash", "peer"])
def test_template_to_published_draft(session: Session, template: str) -> None:
    rng = random.Random(11)
    tenant = Tenant(slug="kinds", name="Kinds")
    session.add(tenant)
    session.flush()
    coordinator = Actor(tenant_id=tenant.id, member_id=None, coordinator=True)
    programme = create_from_template(session, coordinator, template)
    people = _people(session, tenant.id, 18)
    # Shared evening hours, so that flash sessions can find a slot.
    for number, actor in enumerate(people):
        if template == "peer":
            role, answers = "peer", _peer_answers(rng)
        else:
            role = "mentor" if number < 6 else "mentee"
            answers = _answers(rng, role, "Member")
        answers["availability"] = {"time_zone": "Europe/London", "slots": ["tue-18", "thu-19"]}
        answers["languages"] = ["English"]
        if template == "reverse":
            # Reverse mentoring asks about digital skills, not the career-skills list.
            skill = "can_offer" if role == "mentor" else "want_to_learn"
            answers[skill] = sorted(rng.sample(DIGITAL_SKILLS, k=3))
        capacity = 3 if role == "mentor" else None
        enrol(session, actor, programme.id, role, answers, capacity=capacity)

    summary = run_matching(session, coordinator, programme.id)
    drafts = session.scalars(select(Match).where(Match.status == "draft")).all()
    assert summary.proposed == len(drafts) > 0
    if template == "peer":
        sides = [m.mentor_participant_id for m in drafts] + [
            m.mentee_participant_id for m in drafts
        ]
        assert len(sides) == len(set(sides))  # nobody in two pairs
        assert summary.proposed == 9  # 18 peers, 9 pairs
    else:
        load = Counter(m.mentor_participant_id for m in drafts)
        assert max(load.values()) <= 3
        assert summary.proposed + summary.unmatched == 12
    if template == "group":
        assert all(m.group_key == f"mentor-{m.mentor_participant_id}" for m in drafts)
    if template == "flash":
        assert all(m.explanation[0]["rule"] == "slot" for m in drafts)
        assert all("one-off session" in m.explanation[0]["text"] for m in drafts)
    if template == "reverse":
        seniority = [f for m in drafts for f in m.explanation if f["question"] == "seniority"]
        assert seniority and all("you are" in f["text"] for f in seniority)
    assert publish(session, coordinator, programme.id) == len(drafts)
