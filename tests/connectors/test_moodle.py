"""Moodle: users, courses, enrolments with roles, completion and grades; its errors."""

from __future__ import annotations

import time

import pytest
import responses
from sqlalchemy import select

from connectors import (
    AuthenticationError,
    FunctionNotAvailable,
    PermissionDenied,
    SyncFailed,
    sync,
)
from connectors.moodle import MoodleConnector, flatten
from records import Course, Database, Enrolment, Identity, LearningRecord, Member
from tests.support.remote import fixture, form_of

from .conftest import add_source, count, cursor, last_run, members

URL = "https://moodle.example.org"
ENDPOINT = f"{URL}/webservice/rest/server.php"


def moodle_site(calls: list[dict], errors: dict[str, str] | None = None, status: int = 200):
    """A responses callback dispatching on ``wsfunction`` like Moodle's server.php."""

    def callback(request):
        form = form_of(request)
        calls.append(form)
        function = form["wsfunction"]
        if errors and function in errors:
            return status, {}, _json(fixture("moodle", errors[function]))
        if function == "core_enrol_get_enrolled_users":
            page = "page1" if form.get("options[0][value]") == "0" else "page2"
            return 200, {}, _json(fixture("moodle", f"{function}.{page}"))
        return 200, {}, _json(fixture("moodle", function))

    return callback


def _json(value) -> str:
    import json

    return json.dumps(value)


def connector(**settings) -> MoodleConnector:
    return MoodleConnector(URL, "secret-token", {"page_size": 2, **settings}, sleep=lambda s: None)


def test_flatten_uses_brackets() -> None:
    assert flatten({"criteria": [{"key": "email", "value": "%"}], "flag": True}) == [
        ("criteria[0][key]", "email"),
        ("criteria[0][value]", "%"),
        ("flag", "1"),
    ]


@responses.activate
def test_sync_brings_members_courses_enrolments_and_learning(database: Database) -> None:
    calls: list[dict] = []
    responses.add_callback(responses.POST, ENDPOINT, callback=moodle_site(calls))
    source = add_source(database, "moodle")
    result = sync(database, source.tenant_id, source.connector_id, connector())

    assert result.status == "succeeded" and result.failed == 0
    people = members(database)
    # guest (id 1) and admin are never members; suspended Cy is not created.
    assert set(people) == {"ada@example.org", "bo@example.org"}
    assert people["ada@example.org"].member_number == "M-100"
    assert people["ada@example.org"].time_zone == "Europe/London"
    assert calls[0]["criteria[0][key]"] == "email" and calls[0]["wstoken"] == "secret-token"
    # paging: limitfrom 0 then 2, and the short second page ends it
    pages = [c["options[0][value]"] for c in calls if c["wsfunction"].startswith("core_enrol")]
    assert pages[:2] == ["0", "2"]
    with database.transaction() as session:
        assert session.scalars(select(Course.external_id)).all() == ["42"]
        roles = session.execute(
            select(Member.email, Enrolment.role).join(Member, Member.id == Enrolment.member_id)
        ).all()
        assert sorted(roles) == [
            ("Bo@Example.org", "editingteacher"),
            ("Bo@Example.org", "student"),
            ("ada@example.org", "student"),
        ]
        ada = people["ada@example.org"].id
        facts = {
            r.record_key: r
            for r in session.scalars(select(LearningRecord).where(LearningRecord.member_id == ada))
        }
    assert facts["course:42:completion"].completed is True
    activities = facts["course:42:activities"]
    # states 2 (pass) and 1 count as complete, 0 and 3 (fail) do not: integers, not booleans
    assert activities.progress == 50.0 and activities.detail["failed"] == 1
    assert facts["course:42:grade"].score == 82.5 and facts["course:42:grade"].grade == "82.50"
    assert cursor(database, source.connector_id)["since"]

    # Incremental re-run: Bo never accessed the course; Ada did long ago: nothing new.
    again = sync(database, source.tenant_id, source.connector_id, connector())
    assert (again.added, again.updated, again.deactivated) == (0, 0, 0)


def full_members_sync(database: Database, source):  # type: ignore[no-untyped-def]
    return sync(
        database,
        source.tenant_id,
        source.connector_id,
        connector(grades=False),
        full=True,
        phases=("members",),
    )


@responses.activate
def test_full_reconcile_deactivates_missing_members_without_deleting(database: Database) -> None:
    responses.add_callback(responses.POST, ENDPOINT, callback=moodle_site([]))
    source = add_source(database, "moodle")
    sync(database, source.tenant_id, source.connector_id, connector(grades=False))
    responses.reset()
    users = fixture("moodle", "core_user_get_users")
    users["users"] = [u for u in users["users"] if u["id"] != 8]  # Bo left the site

    def callback(request):
        if form_of(request)["wsfunction"] == "core_user_get_users":
            return 200, {}, _json(users)
        return moodle_site([])(request)

    responses.add_callback(responses.POST, ENDPOINT, callback=callback)
    result = full_members_sync(database, source)
    assert result.deactivated == 1
    bo = members(database)["bo@example.org"]
    assert not bo.active and bo.deactivated_at is not None
    assert count(database, Identity) == 2  # kept, never deleted


@pytest.mark.parametrize(
    ("error", "kind", "message"),
    [
        ("error_invalidtoken", AuthenticationError, "Moodle refused the token (invalidtoken)"),
        (
            "error_accessexception",
            FunctionNotAvailable,
            "add core_user_get_users to the token's external service",
        ),
        ("error_nopermissions", PermissionDenied, "lacks moodle/user:viewdetails"),
    ],
)
@pytest.mark.parametrize("status", [200, 403])
@responses.activate
def test_moodle_errors_fail_cleanly_and_change_nothing(
    database: Database, error: str, kind: type, message: str, status: int
) -> None:
    # Errors arrive as HTTP 200 (and as real 4xx on sites with a plugin), debuginfo or not.
    responses.add_callback(
        responses.POST,
        ENDPOINT,
        callback=moodle_site([], errors={"core_user_get_users": error}, status=status),
    )
    source = add_source(database, "moodle")
    with pytest.raises(SyncFailed) as failure:
        sync(database, source.tenant_id, source.connector_id, connector())
    assert isinstance(failure.value.__cause__, kind)
    assert message in str(failure.value)
    assert "secret-token" not in str(failure.value)
    assert count(database, Member) == 0 and cursor(database, source.connector_id) == {}
    run = last_run(database)
    assert run.status == "failed" and message in run.message


def sync_with_completion_error(database: Database, error: str):  # type: ignore[no-untyped-def]
    responses.add_callback(
        responses.POST,
        ENDPOINT,
        callback=moodle_site([], errors={"core_completion_get_course_completion_status": error}),
    )
    source = add_source(database, "moodle")
    return sync(database, source.tenant_id, source.connector_id, connector())


@responses.activate
def test_no_completion_criteria_is_no_data(database: Database) -> None:
    result = sync_with_completion_error(database, "error_nocriteriaset")
    assert result.status == "succeeded"
    with database.transaction() as session:
        kinds = set(session.scalars(select(LearningRecord.kind)))
    assert kinds == {"activity_completion", "grade"}


@responses.activate
def test_check_names_missing_functions() -> None:
    info = fixture("moodle", "core_webservice_get_site_info")
    info["functions"] = [f for f in info["functions"] if "completion" not in f["name"]]
    responses.add(responses.POST, ENDPOINT, json=info)
    with pytest.raises(FunctionNotAvailable) as failure:
        connector().check()
    assert "core_completion_get_course_completion_status" in str(failure.value)
    assert "core_completion_get_activities_completion_status" in str(failure.value)


@responses.activate
def test_check_passes_on_a_good_site() -> None:
    responses.add_callback(responses.POST, ENDPOINT, callback=moodle_site([]))
    lines = connector().check()
    assert lines[0] == "token accepted: Example Moodle as tandem-sync"


# -- what a real Moodle does (issue 16) ---------------------------------------------------


@responses.activate
def test_missing_rest_capability_is_named_from_debuginfo() -> None:
    # Item 5: the token's user lacks webservice/rest:use; Moodle names it in debuginfo
    # under an accessexception that used to read as "add the function to the service".
    responses.add(responses.POST, ENDPOINT, json=fixture("moodle", "error_rest_use"))
    with pytest.raises(PermissionDenied) as failure:
        connector().check()
    message = str(failure.value)
    assert "lacks the capability webservice/rest:use" in message
    assert "missing capability: webservice/rest:use" in message
    assert "add core_webservice_get_site_info" not in message


def _courses_with_completion_off() -> list[dict]:
    courses = fixture("moodle", "core_course_get_courses")
    off = dict(courses[1], id=43, shortname="NOCOMP", fullname="No completion", enablecompletion=0)
    return [*courses, off]


@responses.activate
def test_a_course_without_completion_tracking_is_skipped_not_fatal(database: Database) -> None:
    # Item 7: completion off in course 43; Moodle answers cannotviewreport to anyone.
    calls: list[dict] = []
    site = moodle_site(calls)

    def callback(request):
        form = form_of(request)
        if form["wsfunction"] == "core_course_get_courses":
            calls.append(form)
            return 200, {}, _json(_courses_with_completion_off())
        if form["wsfunction"].startswith("core_completion") and form["courseid"] == "43":
            calls.append(form)
            return 200, {}, _json(fixture("moodle", "error_cannotviewreport"))
        return site(request)

    responses.add_callback(responses.POST, ENDPOINT, callback=callback)
    source = add_source(database, "moodle")
    result = sync(database, source.tenant_id, source.connector_id, connector())
    assert result.status == "succeeded", result.message
    asked = {(c["wsfunction"], c.get("courseid")) for c in calls}
    assert ("core_completion_get_course_completion_status", "43") not in asked
    assert ("gradereport_user_get_grade_items", "43") in asked  # grades still read
    with database.transaction() as session:
        keys = set(session.scalars(select(LearningRecord.record_key)))
    assert "course:43:grade" in keys and "course:42:completion" in keys
    assert not any(key.startswith("course:43:completion") for key in keys)


@responses.activate
def test_incremental_sync_picks_up_a_grade_entered_since(database: Database) -> None:
    # Item 4: Bo never visited the course; a teacher grades him after the last run.
    calls: list[dict] = []
    site = moodle_site(calls)
    regraded: dict = {"on": False}

    def callback(request):
        form = form_of(request)
        if form["wsfunction"] == "gradereport_user_get_grade_items" and regraded["on"]:
            calls.append(form)
            graded_at = int(time.time())
            bo = {
                "courseid": 42,
                "userid": 8,
                "userfullname": "Bo Chen",
                "gradeitems": [
                    {
                        "id": 100,
                        "itemname": None,
                        "itemtype": "course",
                        "graderaw": 40.0,
                        "gradeformatted": "40.00",
                        "grademin": 0,
                        "grademax": 100,
                        "percentageformatted": "40.00 %",
                        "gradedategraded": graded_at,
                        "gradedatesubmitted": None,
                    }
                ],
            }
            ada = fixture("moodle", "gradereport_user_get_grade_items")["usergrades"][0]
            usergrades = [ada, bo] if form["userid"] == "0" else [bo]
            return 200, {}, _json({"usergrades": usergrades, "warnings": []})
        return site(request)

    responses.add_callback(responses.POST, ENDPOINT, callback=callback)
    source = add_source(database, "moodle")
    sync(database, source.tenant_id, source.connector_id, connector())
    regraded["on"] = True
    calls.clear()
    again = sync(database, source.tenant_id, source.connector_id, connector())
    assert not again.full
    with database.transaction() as session:
        bo = session.scalars(select(Member).where(Member.email == "Bo@Example.org")).one()
        grade = session.scalars(
            select(LearningRecord).where(
                LearningRecord.member_id == bo.id, LearningRecord.kind == "grade"
            )
        ).one()
    assert grade.score == 40.0
    # One whole-course grade call found him; Ada (graded long ago, away) is not re-read.
    per_user = [c["userid"] for c in calls if c["wsfunction"] == "gradereport_user_get_grade_items"]
    assert per_user == ["0", "8"]


@responses.activate
def test_a_launched_system_account_survives_a_full_sync(database: Database) -> None:
    # Item 3: the site admin launched (linked to moodle identity 2); the connector skips
    # "admin" on purpose, and a full sync must not deactivate the member.
    from members import PersonRecord, link_member

    responses.add_callback(responses.POST, ENDPOINT, callback=moodle_site([]))
    source = add_source(database, "moodle")
    with database.transaction() as session:
        admin = PersonRecord(
            source="moodle", external_id="2", display_name="Admin User", email="a@example.org"
        )
        admin_id = link_member(session, source.tenant_id, admin).member.id
    result = full_members_sync(database, source)
    assert result.status == "succeeded"
    with database.transaction() as session:
        assert session.get(Member, admin_id).active


@responses.activate
def test_cannotviewreport_on_a_course_with_completion_on_is_a_permission_failure(
    database: Database,
) -> None:
    # Only where completion is on is cannotviewreport a missing permission.
    with pytest.raises(SyncFailed, match="lacks report/completion:view"):
        sync_with_completion_error(database, "error_cannotviewreport")
