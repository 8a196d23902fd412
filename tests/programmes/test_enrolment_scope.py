"""Issue 12, finding 12: members enrol only in programmes of courses they are in (or
tenant-wide ones); the one rule is ``programmes.access.open_to_member``."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

import records
from records import AuditEvent, Course, Enrolment, Participant, Programme

from .conftest import answers
from .test_views import seeded, sign_in  # noqa: F401 (the fixture)


def _enrol_form(csrf: str) -> dict:
    form: dict = {"csrf_token": csrf, "role": "mentee"}
    for key, value in answers("mentee").items():
        if key == "availability":
            form["availability__time_zone"] = value["time_zone"]
            form["availability"] = value["slots"]
        else:
            form[key] = value
    return form


def _link_to_course(app: Flask, seeded: dict, *, enrol_newcomer: str | None) -> None:  # noqa: F811
    with app.app_context():
        session = records.get_session()
        course = Course(tenant_id=seeded["tenant"], source="lti", external_id="A", title="A")
        session.add(course)
        session.flush()
        session.get(Programme, seeded["programme"]).course_id = course.id
        if enrol_newcomer:
            session.add(Enrolment(tenant_id=seeded["tenant"], member_id=seeded["newcomer"],
                                  course_id=course.id, role="member", source="lti",
                                  status=enrol_newcomer))  # fmt: skip
        session.commit()


def _counts(app: Flask) -> tuple[int, int]:
    with app.app_context():
        session = records.get_session()
        return (
            session.scalar(select(func.count()).select_from(Participant)),
            session.scalar(select(func.count()).select_from(AuditEvent)),
        )


@pytest.mark.parametrize("enrolment", [None, "ended"])
def test_enrolling_in_another_courses_programme_is_refused(
    app: Flask,
    client: FlaskClient,
    seeded: dict,  # noqa: F811
    enrolment: str | None,
) -> None:
    _link_to_course(app, seeded, enrol_newcomer=enrolment)
    csrf = sign_in(client, seeded["tenant"], seeded["newcomer"])
    participants, audits = _counts(app)
    page = client.get(f"/programmes/{seeded['programme']}")
    assert page.status_code == 404 and "Join as mentee" not in page.text
    answer = client.post(f"/programmes/{seeded['programme']}/enrol", data=_enrol_form(csrf))
    assert answer.status_code == 404
    assert "Tandem could not do that" in answer.text
    # Two refusals, one audit row each, and no participant written.
    assert _counts(app) == (participants, audits + 2)
    # Nor is it listed.
    assert f'/programmes/{seeded["programme"]}"' not in client.get("/programmes").text


def test_a_member_of_the_course_still_enrols(
    app: Flask,
    client: FlaskClient,
    seeded: dict,  # noqa: F811
) -> None:
    _link_to_course(app, seeded, enrol_newcomer="active")
    csrf = sign_in(client, seeded["tenant"], seeded["newcomer"])
    assert f'/programmes/{seeded["programme"]}"' in client.get("/programmes").text
    answer = client.post(f"/programmes/{seeded['programme']}/enrol", data=_enrol_form(csrf))
    assert answer.status_code == 303


def test_existing_participants_keep_their_programme(
    app: Flask,
    client: FlaskClient,
    seeded: dict,  # noqa: F811
) -> None:
    _link_to_course(app, seeded, enrol_newcomer=None)
    sign_in(client, seeded["tenant"], seeded["mentee_member"])
    assert client.get(f"/programmes/{seeded['programme']}").status_code == 200
