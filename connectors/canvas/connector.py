"""Canvas as a source: account users, courses with enrolments, grades and progress."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from members import PersonRecord

from ..base import (
    CourseItem,
    CourseRecord,
    EnrolmentRecord,
    LearningFact,
    LearningItem,
    MemberItem,
    RecordProblem,
)
from ..errors import BadRequest, ConnectorError, NotFound, PermissionDenied
from .client import CanvasRequester

ROLES = {
    "StudentEnrollment": "student",
    "TeacherEnrollment": "teacher",
    "TaEnrollment": "ta",
    "DesignerEnrollment": "designer",
    "ObserverEnrollment": "observer",
}
STATES = ("active", "invited", "completed", "inactive")


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


class CanvasConnector:
    """Reads one Canvas account through the REST API.

    Settings: ``account_id`` (default ``self``... use the numeric id of the root account),
    ``system_user_ids`` (never members; the site admins are added when the token may list
    them), ``learner_roles`` (``["student"]``), ``progress`` (fetch module progress, true),
    ``source`` (``canvas``), ``timeout``, ``max_retries``.
    """

    lookback = timedelta(minutes=10)

    def __init__(
        self, base_url: str, token: str, settings: Mapping[str, Any] | None = None, **http: Any
    ) -> None:
        settings = dict(settings or {})
        self.settings = settings
        self.source: str = settings.get("source", "canvas")
        self.account = str(settings.get("account_id", "self"))
        self.learner_roles = set(settings.get("learner_roles", ["student"]))
        self.fetch_progress = bool(settings.get("progress", True))
        self.system_ids = {str(i) for i in settings.get("system_user_ids", [])}
        http.setdefault("timeout", float(settings.get("timeout", 30)))
        http.setdefault("max_retries", int(settings.get("max_retries", 4)))
        self.client = CanvasRequester(base_url, token, **http)
        self._admins_loaded = False

    def _load_site_admins(self) -> None:
        # Site admins are platform accounts, never members. Only a site-admin token may
        # list them; any other token simply cannot, and system_user_ids covers the gap.
        if self._admins_loaded:
            return
        self._admins_loaded = True
        try:
            for page in self.client.iter_pages("api/v1/accounts/site_admin/admins"):
                for admin in page:
                    user = admin.get("user") or {}
                    if user.get("id") is not None:
                        self.system_ids.add(str(user["id"]))
        except (PermissionDenied, NotFound, BadRequest):
            pass

    def person(self, user: Mapping[str, Any]) -> PersonRecord | RecordProblem | None:
        if user.get("id") is None:
            return RecordProblem(f"{self.source}:?", "user without an id")
        external_id = str(user["id"])
        if external_id in self.system_ids:
            return None
        sortable = str(user.get("sortable_name") or "")
        family, _, given = sortable.partition(", ")
        return PersonRecord(
            source=self.source,
            external_id=external_id,
            given_name=given or None,
            family_name=family if given else None,
            display_name=user.get("name") or user.get("short_name") or None,
            email=user.get("email") or None,
            picture_url=user.get("avatar_url") or None,
            member_number=str(user["sis_user_id"]) if user.get("sis_user_id") else None,
            time_zone=user.get("time_zone") or None,
        )

    def iter_members(self, since: datetime | None = None) -> Iterator[MemberItem]:
        """The account's users, sorted by id so bookmarks stay stable."""
        self._load_site_admins()
        for page in self.client.iter_pages(
            f"api/v1/accounts/{self.account}/users", {"include[]": ["email"], "sort": "id"}
        ):
            for user in page:
                record = self.person(user)
                if record is not None:
                    yield record

    def _iter_courses_raw(self) -> Iterator[dict[str, Any]]:
        for page in self.client.iter_pages(f"api/v1/accounts/{self.account}/courses"):
            yield from page

    def _iter_enrolments(self, course_id: Any) -> Iterator[dict[str, Any]]:
        for page in self.client.iter_pages(
            f"api/v1/courses/{course_id}/enrollments", {"state[]": list(STATES)}
        ):
            yield from page

    def iter_courses(self) -> Iterator[CourseItem]:
        self._load_site_admins()
        for course in self._iter_courses_raw():
            course_id = str(course["id"])
            yield CourseRecord(
                source=self.source,
                external_id=course_id,
                title=course.get("name") or "",
                short_name=course.get("course_code") or None,
                active=course.get("workflow_state") not in ("deleted", "completed"),
            )
            for enrolment in self._iter_enrolments(course_id):
                person = self.person(enrolment.get("user") or {"id": enrolment.get("user_id")})
                if person is None:
                    continue
                if isinstance(person, RecordProblem):
                    yield person
                    continue
                yield EnrolmentRecord(
                    source=self.source,
                    course_external_id=course_id,
                    person=person,
                    role=ROLES.get(enrolment.get("type", ""), str(enrolment.get("role", ""))),
                    status=str(enrolment.get("enrollment_state") or "active"),
                    last_access_at=_when(enrolment.get("last_activity_at")),
                )

    def iter_learning_records(self, since: datetime | None) -> Iterator[LearningItem]:
        """Grades from each learner's enrolment, completion and progress from modules."""
        for course in self._iter_courses_raw():
            course_id = str(course["id"])
            for enrolment in self._iter_enrolments(course_id):
                if ROLES.get(enrolment.get("type", "")) not in self.learner_roles:
                    continue
                user_id = str(enrolment.get("user_id") or (enrolment.get("user") or {}).get("id"))
                if user_id in self.system_ids:
                    continue
                changed = max(
                    filter(
                        None,
                        (
                            _when(enrolment.get("updated_at")),
                            _when(enrolment.get("last_activity_at")),
                        ),
                    ),
                    default=None,
                )
                if since is not None and (changed is None or changed < since):
                    continue
                yield from self._learning(course_id, user_id, enrolment)

    def _learning(
        self, course_id: str, user_id: str, enrolment: Mapping[str, Any]
    ) -> Iterator[LearningItem]:
        common = {
            "source": self.source,
            "person_external_id": user_id,
            "course_external_id": course_id,
        }
        grades = enrolment.get("grades") or {}
        score = grades.get("final_score", grades.get("current_score"))
        if score is not None or grades.get("final_grade") or grades.get("current_grade"):
            yield LearningFact(
                **common,
                record_key=f"course:{course_id}:grade",
                kind="grade",
                score=float(score) if score is not None else None,
                grade=grades.get("final_grade") or grades.get("current_grade"),
                detail={
                    "current_score": grades.get("current_score"),
                    "current_grade": grades.get("current_grade"),
                },
                recorded_at=_when(enrolment.get("updated_at")),
            )
        if not self.fetch_progress:
            return
        try:
            progress, _ = self.client.request_json(
                "GET", f"api/v1/courses/{course_id}/users/{user_id}/progress"
            )
        except BadRequest:
            # 400 for a course without module requirements: no data, not a failure.
            return
        except ConnectorError as exc:
            if isinstance(exc, PermissionDenied | NotFound):
                yield RecordProblem(f"{self.source}:{user_id}", f"course {course_id}: {exc}")
                return
            raise
        total = progress.get("requirement_count") or 0
        done = progress.get("requirement_completed_count") or 0
        if total:
            yield LearningFact(
                **common,
                record_key=f"course:{course_id}:progress",
                kind="progress",
                progress=round(100.0 * done / total, 2),
                detail={"requirements": total, "completed": done},
            )
        completed_at = _when(progress.get("completed_at"))
        yield LearningFact(
            **common,
            record_key=f"course:{course_id}:completion",
            kind="completion",
            completed=completed_at is not None,
            recorded_at=completed_at,
        )

    def check(self) -> list[str]:
        """Say what works, or raise the first thing that does not."""
        me, _ = self.client.request_json("GET", "api/v1/users/self")
        lines = [f"token accepted: acting as {me.get('name', me.get('id'))}"]
        account, _ = self.client.request_json("GET", f"api/v1/accounts/{self.account}")
        lines.append(f"account {account.get('id')}: {account.get('name', '')}")
        users, _ = self.client.request_json(
            "GET", f"api/v1/accounts/{self.account}/users", params={"per_page": 1}
        )
        lines.append(f"users readable ({len(users)} shown)")
        courses, _ = self.client.request_json(
            "GET", f"api/v1/accounts/{self.account}/courses", params={"per_page": 1}
        )
        lines.append(f"courses readable ({len(courses)} shown)")
        return lines

    def close(self) -> None:
        self.client.close()
