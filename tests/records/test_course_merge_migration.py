"""Migration 0013 merges the courses a launch and a sync stored twice (issue 16 item 2)."""

from __future__ import annotations

import json

from sqlalchemy import text

from records import make_engine, migrate

NOW = "2026-01-01 00:00:00"


def _seed(connection) -> None:  # type: ignore[no-untyped-def]
    def insert(table: str, **values: object) -> None:
        values = {"created_at": NOW, "updated_at": NOW, **values}
        names = ", ".join(values)
        marks = ", ".join(f":{name}" for name in values)
        connection.execute(text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), values)

    moodle = json.dumps({"product": "moodle"})
    insert("tenants", id=1, slug="moodle", name="Moodle", settings=moodle, active=True)
    insert("tenants", id=2, slug="canvas", name="Canvas", settings="{}", active=True)
    for member_id, tenant_id in ((1, 1), (2, 1), (3, 2)):
        insert(
            "members", id=member_id, tenant_id=tenant_id, given_name="", family_name="",
            display_name=f"M{member_id}", active=True, profile="{}",
        )  # fmt: skip
    # Tenant 1: the launch's copy (lti, 42) and the connector's (moodle, 42) of one course;
    # a launch-only course (lti, 77); tenant 2 keeps its opaque Canvas context as it is.
    for course_id, tenant_id, source, external_id in (
        (10, 1, "lti", "42"),
        (11, 1, "moodle", "42"),
        (12, 1, "lti", "77"),
        (20, 2, "lti", "opaque-context"),
        (21, 2, "canvas", "500"),
    ):
        insert(
            "courses", id=course_id, tenant_id=tenant_id, source=source,
            external_id=external_id, title=f"C{course_id}", active=True,
        )  # fmt: skip
    for enrolment_id, member_id, course_id, role, source in (
        (100, 1, 10, "member", "lti"),  # moves to 11
        (101, 1, 11, "student", "moodle"),
        (102, 2, 10, "student", "lti"),  # 11 already has it: dropped
        (103, 2, 11, "student", "moodle"),
    ):
        insert(
            "enrolments", id=enrolment_id, tenant_id=1, member_id=member_id,
            course_id=course_id, role=role, status="active", source=source,
        )  # fmt: skip
    insert(
        "programmes", id=1, tenant_id=1, name="On the launch copy", purpose="", objectives="[]",
        kind="one_to_one", matching_mode="assigned", status="enrolling", questionnaire="{}",
        cadence_days=28, default_capacity=1, settings="{}", course_id=10,
    )  # fmt: skip
    insert(
        "learning_records", id=1, tenant_id=1, member_id=1, source="moodle",
        record_key="course:42:grade", kind="grade", detail="{}", course_id=11, score=40.0,
    )  # fmt: skip


def test_duplicate_courses_are_merged_and_everything_repointed(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    migrate.upgrade(engine, "0009")
    with engine.begin() as connection:
        _seed(connection)
    migrate.upgrade(engine)
    with engine.connect() as connection:

        def rows(sql: str) -> list[tuple]:
            return [tuple(row) for row in connection.execute(text(sql))]

        assert rows(
            "SELECT id, tenant_id, source, external_id, lti_context_id FROM courses ORDER BY id"
        ) == [
            (11, 1, "moodle", "42", "42"),
            (12, 1, "moodle", "77", "77"),
            (20, 2, "lti", "opaque-context", "opaque-context"),
            (21, 2, "canvas", "500", None),
        ]
        assert rows("SELECT course_id FROM programmes") == [(11,)]
        assert rows("SELECT id, course_id FROM enrolments ORDER BY id") == [
            (100, 11),
            (101, 11),
            (103, 11),
        ]
        assert rows("SELECT course_id FROM learning_records") == [(11,)]
    migrate.downgrade(engine, "0009")
    migrate.upgrade(engine)
    engine.dispose()
