"""Match mail through the pages: publishing, answering and withdrawing queue it in the
request's transaction; the jobs send it (a real local SMTP server, both databases)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import records
from records import AuditEvent, Match, Member, Participant
from tests.support.jobs import run_jobs
from tests.support.smtp import Inbox, smtp_server

from . import test_views

# The programme pages' fixture (the demo tenant, a coordinator, a newcomer) and sign-in.
seeded, sign_in = test_views.seeded, test_views.sign_in


@pytest.fixture
def mail() -> Iterator[tuple[Inbox, str]]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def app_config(app_config: dict, mail: tuple[Inbox, str]) -> dict:
    return {**app_config, "TANDEM_SMTP_URL": mail[1], "TANDEM_BASE_URL": "https://tandem.test"}


def _subjects(inbox: Inbox, member: Member) -> list[str]:
    return [" ".join(m["Subject"].split()) for m in inbox.messages if member.email in m["To"]]


def test_publish_answer_and_withdraw_mail_the_people_concerned(
    app: Flask,
    client: FlaskClient,
    seeded: dict,
    mail: tuple[Inbox, str],
) -> None:
    inbox = mail[0]
    programme = seeded["programme"]
    csrf = sign_in(client, seeded["tenant"], seeded["coordinator"], role="coordinator")
    client.post(f"/programmes/{programme}/match/run", data={"csrf_token": csrf})
    client.post(f"/programmes/{programme}/match/publish", data={"csrf_token": csrf})
    run_jobs(app)
    assert len(inbox.messages) == 2 * 26
    assert all("/programmes/" in m.get_payload(decode=True).decode() for m in inbox.messages)

    with app.app_context():
        session = records.get_session()
        mentee = session.scalars(
            select(Participant).where(
                Participant.member_id == seeded["mentee_member"],
                Participant.programme_id == programme,
            )
        ).one()
        match = session.scalars(select(Match).where(Match.mentee_participant_id == mentee.id)).one()
        mentor_member = session.get(
            Member, session.get(Participant, match.mentor_participant_id).member_id
        )
        mentee_member = session.get(Member, mentee.member_id)
        match_id = match.id
    inbox.messages.clear()

    # Someone else's match: refused, and nobody is mailed.
    csrf = sign_in(client, seeded["tenant"], seeded["newcomer"])
    refused = client.post(f"/matches/{match_id}/respond", data={"csrf_token": csrf, "answer": "no"})
    assert refused.status_code in (403, 404)
    run_jobs(app)
    assert inbox.messages == []

    csrf = sign_in(client, seeded["tenant"], seeded["mentee_member"])
    client.post(f"/matches/{match_id}/respond", data={"csrf_token": csrf, "answer": "decline"})
    run_jobs(app)
    assert _subjects(inbox, mentee_member)[-1].endswith(
        f"You declined the match with {mentor_member.name}"
    )
    assert _subjects(inbox, mentor_member)[-1].endswith(
        f"Your proposed match with {mentee_member.name} will not go ahead"
    )
    assert len(inbox.messages) == 2

    # Another mentee leaves: their mentor hears of it.
    with app.app_context():
        session = records.get_session()
        other = session.scalars(
            select(Match).where(Match.programme_id == programme, Match.status == "proposed")
        ).first()
        leaving = session.get(Participant, other.mentee_participant_id)
        their_mentor = session.get(
            Member, session.get(Participant, other.mentor_participant_id).member_id
        )
        leaving_member = session.get(Member, leaving.member_id)
    inbox.messages.clear()
    csrf = sign_in(client, seeded["tenant"], leaving.member_id)
    page = client.post(f"/programmes/{programme}/withdraw", data={"csrf_token": csrf})
    assert page.status_code == 303
    run_jobs(app)
    left = [s for s in _subjects(inbox, their_mentor) if "has left" in s]
    assert len(left) == 1 and leaving_member.name in left[0]
    with app.app_context():
        failures = (
            records.get_session()
            .scalars(select(AuditEvent).where(AuditEvent.action == "programmes.notice_failed"))
            .all()
        )
    assert failures == []
