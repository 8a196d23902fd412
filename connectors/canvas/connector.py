"""Canvas as a source: account users, courses with enrolments, grades and progress."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from functools import partial
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
from .client import DEFAULT_WORKERS, CanvasRequester

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
    ``source`` (``canvas``), ``timeout``, ``max_retries``, ``workers`` (requests in
    flight at once, 4; 1 sends one at a time).
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
        http.setdefault("workers", int(settings.get("workers", DEFAULT_WORKERS)))
        self.client = CanvasRequester(base_url, token, **http)
        # Account admins and the token's user: not members unless enrolled as learners.
        self.staff_ids: set[str] = set()
        # Platform accounts seen and left out on purpose (a full sync keeps their members).
        self.skipped_ids: set[str] = set()
        self._admins_loaded = False

    def _load_site_admins(self) -> None:
        # Platform accounts are never members: site admins always, and the account's
        # admins and the token's own user unless they are enrolled as learners (then the
        # enrolment makes them members). Only some tokens may list admins; any other
        # simply cannot, and system_user_ids covers the gap.
        if self._admins_loaded:
            return
        self._admins_loaded = True
        for path, into in (
            ("api/v1/accounts/site_admin/admins", self.system_ids),
            (f"api/v1/accounts/{self.account}/admins", self.staff_ids),
        ):
            try:
                for page in self.client.iter_pages(path):
                    for admin in page:
                        user = admin.get("user") or {}
                        if user.get("id") is not None:
                            into.add(str(user["id"]))
            except (PermissionDenied, NotFound, BadRequest):
                pass
        try:
            me, _ = self.client.request_json("GET", "api/v1/users/self")
        except (PermissionDenied, NotFound, BadRequest):
            me = None
        if isinstance(me, dict) and me.get("id") is not None:
            self.staff_ids.add(str(me["id"]))

    def person(
        self, user: Mapping[str, Any], *, learner: bool = False
    ) -> PersonRecord | RecordProblem | None:
        """A Canvas user as a PersonRecord; ``None`` for platform accounts.

        ``learner``: the user comes with a learner enrolment, which makes an account
        admin or the token's user a member after all.
        """
        if user.get("id") is None:
            return RecordProblem(f"{self.source}:?", "user without an id")
        external_id = str(user["id"])
        if external_id in self.system_ids or (external_id in self.staff_ids and not learner):
            self.skipped_ids.add(external_id)
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
            f"api/v1/accounts/{self.account}/users",
            {"include[]": ["email"], "sort": "id"},
            read_ahead=True,
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
        """Each course, then its enrolments (the next courses' are fetched meanwhile)."""
        self._load_site_admins()
        courses = list(self._iter_courses_raw())
        fetched = self.client.iter_ahead(
            partial(self._enrolments_of, str(course["id"])) for course in courses
        )
        for course, enrolments in zip(courses, fetched, strict=True):
            course_id = str(course["id"])
            yield CourseRecord(
                source=self.source,
                external_id=course_id,
                title=course.get("name") or "",
                short_name=course.get("course_code") or None,
                active=course.get("workflow_state") not in ("deleted", "completed"),
            )
            for enrolment in enrolments:
                role = ROLES.get(enrolment.get("type", ""), str(enrolment.get("role", "")))
                person = self.person(
                    enrolment.get("user") or {"id": enrolment.get("user_id")},
                    learner=role in self.learner_roles,
                )
                if person is None:
                    continue
                if isinstance(person, RecordProblem):
                    yield person
                    continue
                yield EnrolmentRecord(
                    source=self.source,
                    course_external_id=course_id,
                    person=person,
                    role=role,
                    status=str(enrolment.get("enrollment_state") or "active"),
                    last_access_at=_when(enrolment.get("last_activity_at")),
                )

    def _enrolments_of(self, course_id: str) -> list[dict[str, Any]]:
        return list(self._iter_enrolments(course_id))

    def iter_learning_records(self, since: datetime | None) -> Iterator[LearningItem]:
        """Grades from each learner's enrolment, completion and progress from modules.

        One course's learning is fetched as a unit (its enrolments, then every
        student's progress in one ``bulk_user_progress`` listing), a few courses at once.
        """
        courses = [str(course["id"]) for course in self._iter_courses_raw()]
        for items in self.client.iter_ahead(
            partial(self._course_learning, course_id, since) for course_id in courses
        ):
            yield from items

    def _course_learning(self, course_id: str, since: datetime | None) -> list[LearningItem]:
        learners: list[tuple[str, dict[str, Any]]] = []
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
            learners.append((user_id, enrolment))
        progress: dict[str, Any] = {}
        if self.fetch_progress and learners:
            progress = self._progress(course_id, [user_id for user_id, _ in learners])
        items: list[LearningItem] = []
        for user_id, enrolment in learners:
            items.extend(self._learning(course_id, user_id, enrolment, progress.get(user_id)))
        return items

    def _progress(self, course_id: str, user_ids: list[str]) -> dict[str, Any]:
        """Each learner's module progress: a dict, or a ConnectorError to report.

        ``bulk_user_progress`` answers for every student at once; a Canvas without it
        (404) or a token that may not use it (401/403) falls back to one request each.
        """
        found: dict[str, Any] = {}
        try:
            for page in self.client.iter_pages(f"api/v1/courses/{course_id}/bulk_user_progress"):
                for entry in page:
                    if isinstance(entry, dict) and isinstance(entry.get("progress"), dict):
                        found[str(entry.get("id"))] = entry["progress"]
            return found
        except BadRequest:
            return {}  # a course without module requirements: no data, not a failure
        except (NotFound, PermissionDenied):
            pass
        for user_id in user_ids:
            try:
                found[user_id], _ = self.client.request_json(
                    "GET", f"api/v1/courses/{course_id}/users/{user_id}/progress"
                )
            except BadRequest:
                return {}  # as above
            except (PermissionDenied, NotFound) as exc:
                found[user_id] = exc
        return found

    def _learning(
        self, course_id: str, user_id: str, enrolment: Mapping[str, Any], progress: Any
    ) -> Iterator[LearningItem]:
        common = {
            "source": self.source,
            "person_external_id": user_id,
            "course_external_id": course_id,
        }
        grades = enrolment.get("grades") or {}
        # What Canvas shows members and teachers is the current score (graded work only);
        # the final score counts ungraded work as zero: kept beside it.
        score = grades.get("current_score")
        grade = grades.get("current_grade")
        if score is not None or grade or grades.get("final_score") is not None:
            yield LearningFact(
                **common,
                record_key=f"course:{course_id}:grade",
                kind="grade",
                score=float(score) if score is not None else None,
                grade=grade or None,
                detail={
                    "final_score": grades.get("final_score"),
                    "final_grade": grades.get("final_grade"),
                },
                recorded_at=_when(enrolment.get("updated_at")),
            )
        if isinstance(progress, ConnectorError):
            yield RecordProblem(f"{self.source}:{user_id}", f"course {course_id}: {progress}")
            return
        if not isinstance(progress, dict):
            return
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
