"""Agreements: goals that are specific and time-bound, both signatures, consent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from checkins import (
    AgreementDraft,
    AlreadySigned,
    Conflict,
    InvalidInput,
    NotAllowed,
    NotFound,
    get_agreement,
    save_agreement,
    set_learning_history_consent,
    sign_agreement,
)
from records import Agreement, AuditEvent
from tests.support.checkins_factory import NOW, TODAY, World, make_world


def draft(**changes) -> AgreementDraft:
    values = dict(
        goals=[{"goal": "Lead a project meeting", "by": (TODAY + timedelta(days=60)).isoformat()}],
        meeting_frequency="every four weeks",
        channel="video call",
        confidentiality="what we say stays between us",
        out_of_scope="salary negotiations with my current employer",
    )
    values.update(changes)
    return AgreementDraft(**values)


def test_both_sign_and_the_pair_becomes_active(session: Session, world: World) -> None:
    pair = world.pair
    save_agreement(session, world.tenant.id, pair.match.id, pair.mentee.id, draft(), today=TODAY)
    sign_agreement(session, world.tenant.id, pair.match.id, pair.mentee.id, now=NOW)
    assert pair.match.status == "accepted"
    agreement = sign_agreement(session, world.tenant.id, pair.match.id, pair.mentor.id, now=NOW)
    session.commit()
    assert agreement.mentor_signed_at and agreement.mentee_signed_at
    assert pair.match.status == "active" and pair.match.started_at == NOW
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == [
        "agreement.saved", "agreement.signed", "agreement.signed", "match.activated"
    ]  # fmt: skip


def test_signing_twice_is_refused(session: Session, world: World) -> None:
    pair = world.pair
    save_agreement(session, world.tenant.id, pair.match.id, pair.mentee.id, draft(), today=TODAY)
    sign_agreement(session, world.tenant.id, pair.match.id, pair.mentee.id, now=NOW)
    session.commit()
    with pytest.raises(AlreadySigned, match="you signed this agreement on 15 June 2026"):
        sign_agreement(session, world.tenant.id, pair.match.id, pair.mentee.id, now=NOW)


@pytest.mark.parametrize(
    ("goals", "message"),
    [
        ([], "at least one goal"),
        ([{"goal": "Grow", "by": ""}], "needs a date"),
        ([{"goal": "Grow", "by": "2020-01-01"}], "in the past"),
        ([{"goal": "Grow", "by": "soon"}], "not a date"),
        ([{"goal": "", "by": "2027-01-01"}], "no text"),
    ],
)
def test_goals_must_be_specific_and_time_bound(
    session: Session, world: World, goals: list, message: str
) -> None:
    pair = world.pair
    with pytest.raises(InvalidInput, match=message):
        save_agreement(
            session, world.tenant.id, pair.match.id, pair.mentee.id, draft(goals=goals), today=TODAY
        )
    session.rollback()
    assert session.scalars(select(Agreement)).all() == []


def test_a_change_clears_signatures_and_a_signed_agreement_is_final(
    session: Session, world: World
) -> None:
    pair, tenant = world.pair, world.tenant.id
    save_agreement(session, tenant, pair.match.id, pair.mentee.id, draft(), today=TODAY)
    sign_agreement(session, tenant, pair.match.id, pair.mentee.id, now=NOW)
    agreement = save_agreement(
        session, tenant, pair.match.id, pair.mentor.id, draft(channel="phone"), today=TODAY
    )
    assert agreement.mentee_signed_at is None
    sign_agreement(session, tenant, pair.match.id, pair.mentee.id, now=NOW)
    sign_agreement(session, tenant, pair.match.id, pair.mentor.id, now=NOW)
    with pytest.raises(Conflict, match="can no longer be changed"):
        save_agreement(session, tenant, pair.match.id, pair.mentor.id, draft(), today=TODAY)


def test_signing_before_writing_is_refused(session: Session, world: World) -> None:
    with pytest.raises(Conflict, match="no agreement to sign"):
        sign_agreement(session, world.tenant.id, world.pair.match.id, world.pair.mentor.id)


def test_only_the_pair_sees_the_agreement(session: Session, world: World) -> None:
    pair, other = world.pairs
    save_agreement(session, world.tenant.id, pair.match.id, pair.mentee.id, draft(), today=TODAY)
    for outsider in (world.coordinator, world.outsider, other.mentor):
        with pytest.raises(NotAllowed):
            get_agreement(session, world.tenant.id, pair.match.id, outsider.id)


def test_only_the_mentee_consents_to_sharing_learning_history(
    session: Session, world: World
) -> None:
    pair, tenant = world.pair, world.tenant.id
    save_agreement(session, tenant, pair.match.id, pair.mentee.id, draft(), today=TODAY)
    with pytest.raises(NotAllowed, match="only the mentee"):
        set_learning_history_consent(session, tenant, pair.match.id, pair.mentor.id, True)
    agreement = set_learning_history_consent(session, tenant, pair.match.id, pair.mentee.id, True)
    assert agreement.share_learning_history is True


def test_another_tenant_cannot_reach_the_pair(session: Session, world: World) -> None:
    other = make_world(session, slug="globex")
    pair = world.pair
    # Globex's tenant id with Acme's match: not found, as if it did not exist.
    with pytest.raises(NotFound):
        save_agreement(
            session, other.tenant.id, pair.match.id, pair.mentee.id, draft(), today=TODAY
        )
    # Globex's member on Acme's match within Acme: not one of the pair.
    with pytest.raises(NotAllowed):
        get_agreement(session, world.tenant.id, pair.match.id, other.pair.mentee.id)
