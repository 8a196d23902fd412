"""One LMS course is one course, whether a launch or a sync saw it first (issue 16 item 2)."""

from __future__ import annotations

import threading

import responses
from sqlalchemy import select

import records
from connectors import sync
from connectors.moodle import MoodleConnector
from platforms.enrolments import enrol, ensure_course
from records import ConnectorConfig, Course, Enrolment, LearningRecord, Programme
from tests.connectors.test_moodle import ENDPOINT, URL, moodle_site
from tests.support.lti_platform import LEARNER, Person

from .conftest import make_platform

# Ada is Moodle user 7 (the sync's fixture); Moodle's launch `sub` is the user id.
ADA = Person("7", "Ada", "Lovelace", "ada@example.org", roles=[LEARNER])


def _moodle_sync(app, mock_http, tenant_id: int, full: bool = False) -> None:  # type: ignore[no-untyped-def]
    mock_http.add_callback(responses.POST, ENDPOINT, callback=moodle_site([]))
    database = records.get_database(app)
    with database.transaction() as session:
        config = ConnectorConfig(
            tenant_id=tenant_id, name="site", kind="moodle", base_url=URL, settings={}, cursor={}
        )
        session.add(config)
        session.flush()
        config_id = config.id
    connector = MoodleConnector(URL, "tok", {"page_size": 2}, sleep=lambda s: None)
    result = sync(database, tenant_id, config_id, connector, full=full)
    assert result.status == "succeeded", result.errors


def _courses(app) -> list[Course]:  # type: ignore[no-untyped-def]
    with app.app_context(), records.get_database(app).transaction() as session:
        return list(session.scalars(select(Course)))


def test_a_moodle_launch_then_a_sync_share_one_course(app, client, mock_http) -> None:
    platform = make_platform(app, client, mock_http)
    platform.context = {"id": "42", "label": "MENT101", "title": "Mentoring essentials"}
    platform.launch(client, ADA)
    [launched] = _courses(app)
    with app.app_context(), records.get_database(app).transaction() as session:
        programme = Programme(tenant_id=platform.tenant_id, name="P", course_id=launched.id)
        session.add(programme)
    _moodle_sync(app, mock_http, platform.tenant_id)
    [course] = _courses(app)
    assert course.id == launched.id
    assert (course.source, course.external_id, course.lti_context_id) == ("moodle", "42", "42")
    with app.app_context(), records.get_database(app).transaction() as session:
        grades = session.scalars(select(LearningRecord).where(LearningRecord.kind == "grade"))
        # The mentor sees the mentee's learning in the programme's course.
        assert {g.course_id for g in grades} == {course.id}
        roles = {e.role for e in session.scalars(select(Enrolment))}
        assert {"member", "student"} <= roles


def test_a_sync_then_a_moodle_launch_share_one_course(app, client, mock_http) -> None:
    platform = make_platform(app, client, mock_http)
    _moodle_sync(app, mock_http, platform.tenant_id)
    [synced] = _courses(app)
    platform.context = {"id": "42", "label": "MENT101", "title": "Mentoring essentials"}
    platform.launch(client, ADA)
    [course] = _courses(app)
    assert course.id == synced.id and course.lti_context_id == "42"


def test_canvas_course_id_joins_an_earlier_launch_course_to_the_synced_one(
    app, client, mock_http
) -> None:
    canvas = make_platform(
        app, client, mock_http, issuer="https://canvas.instructure.com", client_id="10000000001",
        product="canvas",
    )  # fmt: skip
    opaque = "4dde05e8ca1973bcca9bffc13e1548820eee93a3"
    canvas.context = {"id": opaque, "label": "PM24", "title": "Peer mentoring 2024"}
    canvas.launch(client, ADA)  # before the registration sent canvas_course_id
    with app.app_context(), records.get_database(app).transaction() as session:
        [legacy] = session.scalars(select(Course)).all()
        assert (legacy.source, legacy.external_id) == ("lti", opaque)
        programme = Programme(tenant_id=canvas.tenant_id, name="P", course_id=legacy.id)
        synced = Course(tenant_id=canvas.tenant_id, source="canvas", external_id="500")
        session.add_all([programme, synced])
        session.flush()
        synced_id, programme_id = synced.id, programme.id
    auth = canvas.login(client)
    claims = canvas.claims(auth.nonce, ADA, custom={"canvas_course_id": "500"})
    assert canvas.post_launch(client, canvas.sign(claims), auth.state).status_code == 303
    [course] = _courses(app)
    assert course.id == synced_id and course.lti_context_id == opaque
    with app.app_context(), records.get_database(app).transaction() as session:
        assert session.get(Programme, programme_id).course_id == synced_id
        assert {e.course_id for e in session.scalars(select(Enrolment))} == {synced_id}


def test_the_site_admin_who_launched_is_not_deactivated_by_a_full_sync(
    app, client, mock_http
) -> None:
    # Item 3: Moodle's admin (user 2) launches; the connector skips "admin" on purpose.
    from records import Member

    platform = make_platform(app, client, mock_http)
    admin = Person("2", "Admin", "User", "admin@example.org", roles=[LEARNER])
    platform.launch(client, admin)
    _moodle_sync(app, mock_http, platform.tenant_id, full=True)
    with app.app_context(), records.get_database(app).transaction() as session:
        member = session.scalars(select(Member).where(Member.email == "admin@example.org")).one()
        assert member.active


def test_two_first_launches_at_once_make_one_course(database) -> None:  # type: ignore[no-untyped-def]
    """A class told "open it now": the second launch waits for the first one's course
    and uses it, instead of failing on the duplicate (it was a 500)."""
    with database.transaction() as session:
        tenant = records.Tenant(slug="school", name="School")
        session.add(tenant)
        session.flush()
        tenant_id = tenant.id
    context = {"id": "ctx-1", "title": "Mentoring 101"}
    first = database.sessionmaker()
    first.begin()
    made = ensure_course(first, tenant_id, context)
    assert made is not None
    found: list[int] = []
    # The second launch looks before the first commits (and so finds nothing).
    second = threading.Thread(
        target=lambda: found.append(_ensure_in_its_own_transaction(database, tenant_id, context))
    )
    second.start()
    second.join(0.5)  # it is now waiting on the first launch's insert (or its lock)
    first.commit()
    first.close()
    second.join(10)
    assert found == [made.id]
    with database.transaction() as session:
        assert session.scalars(select(Course.id)).all() == [made.id]


def _ensure_in_its_own_transaction(database, tenant_id: int, context: dict) -> int:  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        course = ensure_course(session, tenant_id, context)
        assert course is not None
        return course.id


def test_two_first_launches_of_one_member_at_once_enrol_them_once(database) -> None:  # type: ignore[no-untyped-def]
    """A double click on the course's link: the second launch waits for the first one's
    enrolment and touches it, instead of failing on the duplicate (it was a 500 under
    the load benchmark)."""
    with database.transaction() as session:
        tenant = records.Tenant(slug="school", name="School")
        session.add(tenant)
        session.flush()
        member = records.Member(tenant_id=tenant.id, given_name="Ada")
        course = Course(tenant_id=tenant.id, source="lti", external_id="ctx-1", title="101")
        session.add_all([member, course])
        session.flush()
        ids = (tenant.id, member.id, course.id)
    first = database.sessionmaker()
    first.begin()
    assert enrol(first, *ids, "member", status="active", accessed=True) == 1
    made: list[int] = []
    second = threading.Thread(
        target=lambda: made.append(_enrol_in_its_own_transaction(database, ids))
    )
    second.start()
    second.join(0.5)  # it is now waiting on the first launch's insert (or its lock)
    first.commit()
    first.close()
    second.join(10)
    assert made == [0]
    with database.transaction() as session:
        enrolments = session.scalars(select(Enrolment)).all()
        assert [(e.member_id, e.status) for e in enrolments] == [(ids[1], "active")]


def _enrol_in_its_own_transaction(database, ids: tuple[int, int, int]) -> int:  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        return enrol(session, *ids, "member", status="active", accessed=True)
