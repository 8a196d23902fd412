"""Deep linking as a real Moodle does it: a full programme, the course's list, a safe return.

Issue 16 item 1 (the placed programme is made as "Start a programme" makes it; the list
of existing programmes follows the coordinator's access rule) and issue 12 finding 8
(the return URL must be https on the platform's registered origin).
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

import records
from records import Course, Programme
from tests.support.lti_platform import INSTITUTION_ADMIN, INSTRUCTOR, Person

from .conftest import row_counts
from .test_advantage import deep_link_jwt, picker

DL_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"


def _programme_in_other_course(app, platform) -> int:  # type: ignore[no-untyped-def]
    with app.app_context(), records.get_database(app).transaction() as session:
        course = Course(
            tenant_id=platform.tenant_id, source="lti", external_id="course-999", title="Other"
        )
        session.add(course)
        session.flush()
        programme = Programme(
            tenant_id=platform.tenant_id,
            name="Another course's programme",
            course_id=course.id,
            starts_on=date(2027, 1, 1),
        )
        session.add(programme)
        session.flush()
        return programme.id


def test_a_placed_programme_is_made_from_a_template_with_dates_and_questions(
    app, client, platform
) -> None:
    page, csrf = picker(client, platform)
    text = page.get_data(as_text=True)
    # The picker offers what "Start a programme" offers.
    assert 'name="template"' in text and 'name="starts_on"' in text and 'name="name"' in text
    response = client.post(
        "/lti/deep-link",
        data={
            "csrf_token": csrf,
            "template": "one_to_one",
            "name": "Spring mentoring",
            "starts_on": "2027-03-01",
        },
    )
    assert response.status_code == 200
    [item] = deep_link_jwt(response, platform)[DL_ITEMS]
    with app.app_context(), records.get_database(app).transaction() as session:
        programme = session.scalars(select(Programme)).one()
        assert programme.name == "Spring mentoring" == item["title"]
        assert programme.starts_on == date(2027, 3, 1)
        assert programme.ends_on is not None and programme.ends_on > programme.starts_on
        assert programme.questionnaire.get("questions"), "placed programmes have questions"
        assert programme.status == "enrolling" and programme.course_id is not None
        assert programme.lti_context_id == "course-101"


def test_a_placement_with_a_bad_template_or_date_writes_nothing(app, client, platform) -> None:
    _, csrf = picker(client, platform)
    before = row_counts(app)
    for data in ({"template": "nope", "name": "X"}, {"template": "peer", "starts_on": "soon"}):
        response = client.post("/lti/deep-link", data={"csrf_token": csrf, **data})
        assert response.status_code == 400
    assert row_counts(app) == before


def test_the_picker_lists_only_programmes_this_coordinator_may_place(app, client, platform):
    other_id = _programme_in_other_course(app, platform)
    page, csrf = picker(client, platform)
    assert "Another course&#39;s programme" not in page.get_data(as_text=True)
    refused = client.post("/lti/deep-link", data={"csrf_token": csrf, "programme_id": other_id})
    assert refused.status_code == 400
    # An institution administrator may place any programme of the platform.
    admin = Person("admin-1", "Ida", "Admin", "ida@example.edu", roles=[INSTITUTION_ADMIN])
    platform.launch(client, admin, message_type="LtiDeepLinkingRequest")
    page = client.get("/lti/deep-link")
    assert "Another course&#39;s programme" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "return_url",
    [
        "javascript:alert(document.domain)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "https://attacker.example/deep_link_return",
        "https://moodle.example.edu@attacker.example/x",
        "https://moodle.example.edu.attacker.example/x",
        "http://moodle.example.edu/deep_link_return",
        "//attacker.example/x",
    ],
)
def test_a_return_url_off_the_platform_is_refused(
    app, client, platform, return_url, monkeypatch
) -> None:
    platform.deep_link_return_url = return_url
    # The test platform is on loopback http: launch under the switch, place without it.
    _, csrf = picker(client, platform)
    monkeypatch.delenv("TANDEM_ALLOW_INSECURE_URLS")  # as in production
    before = row_counts(app)
    response = client.post(
        "/lti/deep-link", data={"csrf_token": csrf, "template": "peer", "name": "P"}
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "return address" in text
    assert "javascript:" not in text and "attacker" not in text
    assert row_counts(app) == before  # no programme made


def test_http_return_url_only_under_the_development_switch(
    app, client, mock_http, monkeypatch
) -> None:
    from .conftest import make_platform

    monkeypatch.setenv("TANDEM_ALLOW_INSECURE_URLS", "1")
    platform = make_platform(app, client, mock_http, issuer="http://moodle.localhost:8080")
    _, csrf = picker(client, platform)
    response = client.post(
        "/lti/deep-link", data={"csrf_token": csrf, "template": "peer", "name": "P"}
    )
    assert response.status_code == 200
    assert 'action="http://moodle.localhost:8080/deep_link_return"' in response.get_data(
        as_text=True
    )
    _, csrf = picker(client, platform)
    monkeypatch.delenv("TANDEM_ALLOW_INSECURE_URLS")
    response = client.post(
        "/lti/deep-link", data={"csrf_token": csrf, "template": "peer", "name": "Q"}
    )
    assert response.status_code == 400


def test_coordinator_of_course_sees_own_and_unlinked(app, client, platform) -> None:
    teacher = Person("teacher-2", "Tim", "Teach", "tim@example.edu", roles=[INSTRUCTOR])
    with app.app_context(), records.get_database(app).transaction() as session:
        session.add(Programme(tenant_id=platform.tenant_id, name="Unlinked one"))
    platform.launch(client, teacher, message_type="LtiDeepLinkingRequest")
    assert "Unlinked one" in client.get("/lti/deep-link").get_data(as_text=True)
