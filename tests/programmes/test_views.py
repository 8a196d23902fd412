"""Programme pages through the Flask test client: the views stay thin, errors are plain."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

import records
from checkins.demo import PREVIOUS_NAME
from programmes import seed_demo
from records import Match, Member, Participant, Programme
from tests.support.checkins_web import start_recorded_session

from .conftest import answers


@pytest.fixture
def seeded(app: Flask) -> dict:
    with app.app_context():
        session = records.get_session()
        tenant = seed_demo(session)
        coordinator = Member(tenant_id=tenant.id, display_name="Cora Ordinator")
        newcomer = Member(tenant_id=tenant.id, display_name="Nell Newcomer")
        session.add_all([coordinator, newcomer])
        session.commit()
        programme = session.scalars(select(Programme).where(Programme.name != PREVIOUS_NAME)).one()
        mentee = session.scalars(select(Participant).where(Participant.role == "mentee")).first()
        return {
            "tenant": tenant.id,
            "programme": programme.id,
            "coordinator": coordinator.id,
            "newcomer": newcomer.id,
            "mentee_member": mentee.member_id,
        }


def sign_in(client: FlaskClient, tenant_id: int, member_id: int, role: str = "member") -> str:
    """Stand in for a launch (tested in tests/lti): put ids in the session, return CSRF."""
    sid = start_recorded_session(client.application, tenant_id, member_id)
    with client.session_transaction() as s:
        s.update(
            sid=sid,
            tenant_id=tenant_id,
            member_id=member_id,
            role=role,
            course_id=None,
            programme_id=None,
            launch_id=None,
            origins=[],
            csrf="t0ken",
        )
    return "t0ken"


def _count(app: Flask, model: type, *where) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return records.get_session().scalar(select(func.count()).select_from(model).where(*where))


def test_pages_need_a_launch(client: FlaskClient, seeded: dict) -> None:
    assert client.get("/programmes").status_code == 401
    assert client.get(f"/programmes/{seeded['programme']}/match").status_code == 401


def test_members_cannot_open_match_day(client: FlaskClient, seeded: dict) -> None:
    sign_in(client, seeded["tenant"], seeded["mentee_member"])
    response = client.get(f"/programmes/{seeded['programme']}/match")
    assert response.status_code == 403
    assert "Only a coordinator" in response.get_data(as_text=True)


def test_member_enrols_through_the_form(app: Flask, client: FlaskClient, seeded: dict) -> None:
    csrf = sign_in(client, seeded["tenant"], seeded["newcomer"])
    page = client.get(f"/programmes/{seeded['programme']}").get_data(as_text=True)
    assert "Join as mentee" in page and "Which values matter most" in page
    given = answers("mentee")
    form = {"csrf_token": csrf, "role": "mentee"}
    for key, value in given.items():
        if key == "availability":
            form["availability__time_zone"] = value["time_zone"]
            form["availability"] = value["slots"]
        else:
            form[key] = value
    response = client.post(f"/programmes/{seeded['programme']}/enrol", data=form)
    assert response.status_code == 303
    followed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You are enrolled" in followed
    assert _count(app, Participant, Participant.member_id == seeded["newcomer"]) == 1


def test_invalid_enrolment_says_what_is_wrong_and_writes_nothing(
    app: Flask, client: FlaskClient, seeded: dict
) -> None:
    csrf = sign_in(client, seeded["tenant"], seeded["newcomer"])
    before = _count(app, Participant)
    response = client.post(
        f"/programmes/{seeded['programme']}/enrol",
        data={"csrf_token": csrf, "role": "mentor", "values": "integrity", "capacity": "0"},
        headers={"Referer": f"/programmes/{seeded['programme']}"},
    )
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Some answers need another look" in page
    assert "Please answer this question" in page
    assert _count(app, Participant) == before


def test_forms_without_the_session_token_are_refused(client: FlaskClient, seeded: dict) -> None:
    sign_in(client, seeded["tenant"], seeded["newcomer"])
    response = client.post(f"/programmes/{seeded['programme']}/enrol", data={"role": "mentee"})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_match_day_run_publish_accept(app: Flask, client: FlaskClient, seeded: dict) -> None:
    programme = seeded["programme"]
    csrf = sign_in(client, seeded["tenant"], seeded["coordinator"], role="coordinator")
    ran = client.post(
        f"/programmes/{programme}/match/run", data={"csrf_token": csrf, "objective": "fair"}
    )
    board = client.get(ran.headers["Location"]).get_data(as_text=True)
    assert "Draft ready: 26 new pairs" in board
    assert "you both speak English" in board
    assert _count(app, Match, Match.status == "draft") == 26

    published = client.post(f"/programmes/{programme}/match/publish", data={"csrf_token": csrf})
    assert "Published 26 pairs" in client.get(published.headers["Location"]).get_data(as_text=True)

    csrf = sign_in(client, seeded["tenant"], seeded["mentee_member"])
    page = client.get(f"/programmes/{programme}").get_data(as_text=True)
    assert "Your mentor:" in page and "Why you were matched" in page
    match_id = int(re.search(r'id="match-(\d+)"', page).group(1))
    client.post(f"/matches/{match_id}/respond", data={"csrf_token": csrf, "answer": "accept"})
    with app.app_context():
        match = records.get_session().get(Match, match_id)
        assert match.mentee_response == "accepted"


def test_publishing_an_empty_draft_is_a_plain_message(
    app: Flask, client: FlaskClient, seeded: dict
) -> None:
    csrf = sign_in(client, seeded["tenant"], seeded["coordinator"], role="coordinator")
    board_url = f"/programmes/{seeded['programme']}/match"
    response = client.post(
        f"{board_url}/publish", data={"csrf_token": csrf}, headers={"Referer": board_url}
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The draft is empty" in page
    assert _count(app, Match, Match.programme_id == seeded["programme"]) == 0


def test_coordinator_creates_from_template(app: Flask, client: FlaskClient, seeded: dict) -> None:
    csrf = sign_in(client, seeded["tenant"], seeded["coordinator"], role="coordinator")
    assert "Start a programme" in client.get("/programmes").get_data(as_text=True)
    response = client.post(
        "/programmes/new",
        data={
            "csrf_token": csrf,
            "template": "group",
            "name": "Circles 2027",
            "starts_on": "2027-02-01",
        },
    )
    assert response.status_code == 303
    assert _count(app, Programme, Programme.name == "Circles 2027", Programme.kind == "group") == 1


def test_another_tenants_programme_is_not_found(
    app: Flask, client: FlaskClient, seeded: dict
) -> None:
    with app.app_context():
        session = records.get_session()
        from records import Tenant

        other = Tenant(slug="other", name="Other")
        session.add(other)
        session.flush()
        outsider = Member(tenant_id=other.id, display_name="Out Sider")
        session.add(outsider)
        session.commit()
        ids = (other.id, outsider.id)
    sign_in(client, *ids, role="coordinator")
    assert client.get(f"/programmes/{seeded['programme']}/match").status_code == 404
    assert client.get(f"/programmes/{seeded['programme']}").status_code == 404


def test_settings_save_weights_and_refuse_bad_ones(
    app: Flask, client: FlaskClient, seeded: dict
) -> None:
    csrf = sign_in(client, seeded["tenant"], seeded["coordinator"], role="coordinator")
    url = f"/programmes/{seeded['programme']}/settings"
    assert "What counts in a match" in client.get(url).get_data(as_text=True)
    saved = client.post(url, data={"csrf_token": csrf, "weight_0": "3", "cadence_days": "21"})
    assert "Saved." in client.get(saved.headers["Location"]).get_data(as_text=True)
    refused = client.post(
        url, data={"csrf_token": csrf, "weight_0": "lots"}, headers={"Referer": url}
    )
    assert "Weights are numbers" in client.get(refused.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        programme = records.get_session().get(Programme, seeded["programme"])
        assert programme.questionnaire["rules"][0]["weight"] == 3
        assert programme.cadence_days == 21
