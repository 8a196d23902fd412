"""Moodle as a source: users, courses with enrolments and roles, completion and grades."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from members import SYSTEM_USERNAMES, PersonRecord

from ..base import (
    CourseItem,
    CourseRecord,
    EnrolmentRecord,
    LearningFact,
    LearningItem,
    MemberItem,
    RecordProblem,
)
from ..errors import ConfigError, FunctionNotAvailable, MalformedResponse, NoData
from .client import CAPABILITIES, MoodleRequester

# Moodle's guest account is always user 1; the admin is "admin" unless renamed (then list
# it in settings["system_user_ids"]).
GUEST_USER_ID = 1
FRONT_PAGE_COURSE_ID = 1
# activity completion states (integers, not booleans)
INCOMPLETE, COMPLETE, COMPLETE_PASS, COMPLETE_FAIL = 0, 1, 2, 3


def _when(timestamp: Any) -> datetime | None:
    try:
        value = int(timestamp or 0)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(value, UTC) if value > 0 else None


class MoodleConnector:
    """Reads one Moodle site through its REST web services.

    Settings (all optional): ``user_criteria`` (``core_user_get_users`` criteria;
    default every user with an email), ``page_size`` (enrolled users per call, 200),
    ``learner_roles`` (role shortnames whose learning is fetched, ``["student"]``),
    ``grades`` (fetch course grades, true), ``system_user_ids`` (more accounts that are
    never members), ``source`` (identity source name, ``moodle``), ``timeout``,
    ``max_retries``.
    """

    lookback = timedelta(minutes=10)

    def __init__(
        self, base_url: str, token: str, settings: Mapping[str, Any] | None = None, **http: Any
    ) -> None:
        settings = dict(settings or {})
        self.settings = settings
        self.source: str = settings.get("source", "moodle")
        self.page_size = int(settings.get("page_size", 200))
        if self.page_size < 1:
            raise ConfigError("page_size must be at least 1")
        self.learner_roles = set(settings.get("learner_roles", ["student"]))
        self.fetch_grades = bool(settings.get("grades", True))
        self.system_ids = {str(i) for i in settings.get("system_user_ids", [])}
        self.system_ids.add(str(GUEST_USER_ID))
        # System accounts seen and left out on purpose (a full sync must not deactivate
        # them: the site admin may well launch Tandem).
        self.skipped_ids: set[str] = set()
        http.setdefault("timeout", float(settings.get("timeout", 30)))
        http.setdefault("max_retries", int(settings.get("max_retries", 4)))
        self.client = MoodleRequester(base_url, token, **http)

    # -- members ---------------------------------------------------------------

    def person(self, user: Mapping[str, Any]) -> PersonRecord | RecordProblem | None:
        """A Moodle user as a PersonRecord; ``None`` for system accounts."""
        user_id = user.get("id")
        if user_id in (None, ""):
            return RecordProblem(f"{self.source}:?", f"user without an id: {sorted(user)}")
        external_id = str(user_id)
        username = str(user.get("username") or "").lower()
        if external_id in self.system_ids or username in SYSTEM_USERNAMES:
            self.skipped_ids.add(external_id)
            return None
        time_zone = user.get("timezone")
        return PersonRecord(
            source=self.source,
            external_id=external_id,
            given_name=user.get("firstname") or None,
            family_name=user.get("lastname") or None,
            display_name=user.get("fullname") or None,
            email=user.get("email") or None,
            picture_url=user.get("profileimageurl") or None,
            member_number=(str(user["idnumber"]).strip() or None) if user.get("idnumber") else None,
            time_zone=time_zone if time_zone and time_zone != "99" else None,
            active=not user.get("suspended", False),
        )

    def iter_members(self, since: datetime | None = None) -> Iterator[MemberItem]:
        """Every user the criteria select (Moodle cannot page or filter by change)."""
        criteria = self.settings.get("user_criteria") or [{"key": "email", "value": "%"}]
        payload = self.client.call("core_user_get_users", criteria=criteria)
        users = payload.get("users") if isinstance(payload, dict) else None
        if not isinstance(users, list):
            raise MalformedResponse("core_user_get_users returned no 'users' list")
        for user in users:
            record = self.person(user)
            if record is not None:
                yield record

    # -- courses ---------------------------------------------------------------

    def _courses(self) -> list[dict[str, Any]]:
        courses = self.client.call("core_course_get_courses")
        if not isinstance(courses, list):
            raise MalformedResponse("core_course_get_courses did not return a list")
        return [
            c for c in courses if c.get("id") != FRONT_PAGE_COURSE_ID and c.get("format") != "site"
        ]

    def iter_enrolled_users(self, course_id: int) -> Iterator[dict[str, Any]]:
        """The course's enrolled users, a page at a time (the one function that pages)."""
        offset = 0
        while True:
            page = self.client.call(
                "core_enrol_get_enrolled_users",
                courseid=course_id,
                options=[
                    {"name": "limitfrom", "value": offset},
                    {"name": "limitnumber", "value": self.page_size},
                ],
            )
            if not isinstance(page, list):
                raise MalformedResponse("core_enrol_get_enrolled_users did not return a list")
            yield from page
            if len(page) < self.page_size:
                return
            offset += len(page)

    def iter_courses(self) -> Iterator[CourseItem]:
        """Each course, then one enrolment per (user, role)."""
        for course in self._courses():
            course_id = str(course["id"])
            yield CourseRecord(
                source=self.source,
                external_id=course_id,
                title=course.get("fullname") or "",
                short_name=course.get("shortname") or None,
                active=bool(course.get("visible", 1)),
            )
            for user in self.iter_enrolled_users(course["id"]):
                person = self.person(user)
                if person is None:
                    continue
                if isinstance(person, RecordProblem):
                    yield person
                    continue
                for role in user.get("roles") or []:
                    if not role.get("shortname"):
                        continue
                    yield EnrolmentRecord(
                        source=self.source,
                        course_external_id=course_id,
                        person=person,
                        role=str(role["shortname"]),
                        last_access_at=_when(user.get("lastcourseaccess")),
                    )

    # -- learning --------------------------------------------------------------

    def iter_learning_records(self, since: datetime | None) -> Iterator[LearningItem]:
        """Completion, activity completion and the course grade of each learner.

        Incremental runs fetch the learners who have been in the course since ``since``
        and those with a grade changed since then: a grade a teacher enters changes no
        ``lastcourseaccess``, but each grade item carries its own ``gradedategraded``
        (one ``gradereport_user_get_grade_items`` call for the whole course answers it).
        A course with completion tracking off (``enablecompletion`` 0) has no completion
        to ask for: Moodle would answer ``cannotviewreport`` to anyone.
        """
        for course in self._courses():
            course_id = course["id"]
            completion = bool(course.get("enablecompletion", 1))
            graded: set[str] | None = None
            for user in self.iter_enrolled_users(course_id):
                roles = {r.get("shortname") for r in user.get("roles") or []}
                if not roles & self.learner_roles:
                    continue
                person = self.person(user)
                if person is None or isinstance(person, RecordProblem):
                    continue
                accessed = _when(user.get("lastcourseaccess"))
                if since is not None and (accessed is None or accessed < since):
                    if graded is None:
                        graded = self._graded_since(course_id, since)
                    if person.external_id not in graded:
                        continue
                yield from self._learning(course_id, person.external_id, completion=completion)

    def _graded_since(self, course_id: int, since: datetime) -> set[str]:
        """The users of a course with a grade graded or submitted at ``since`` or later."""
        if not self.fetch_grades:
            return set()
        try:
            payload = self.client.call(
                "gradereport_user_get_grade_items", courseid=course_id, userid=0
            )
        except NoData:
            return set()
        changed: set[str] = set()
        for usergrade in payload.get("usergrades") or []:
            for item in usergrade.get("gradeitems") or []:
                times = (_when(item.get("gradedategraded")), _when(item.get("gradedatesubmitted")))
                if any(t is not None and t >= since for t in times):
                    changed.add(str(usergrade.get("userid")))
                    break
        return changed

    def _learning(
        self, course_id: int, user_id: str, *, completion: bool = True
    ) -> Iterator[LearningItem]:
        key = f"course:{course_id}"
        common = {
            "source": self.source,
            "person_external_id": user_id,
            "course_external_id": str(course_id),
        }
        if completion:
            yield from self._completion(course_id, user_id, key, common)
        if self.fetch_grades:
            yield from self._grade(course_id, user_id, common)

    def _completion(
        self, course_id: int, user_id: str, key: str, common: dict[str, Any]
    ) -> Iterator[LearningItem]:
        try:
            status = self.client.call(
                "core_completion_get_course_completion_status", courseid=course_id, userid=user_id
            )["completionstatus"]
            criteria = status.get("completions") or []
            done = [c for c in criteria if c.get("complete")]
            times = [t for c in done if (t := _when(c.get("timecompleted")))]
            yield LearningFact(
                **common,
                record_key=f"{key}:completion",
                kind="completion",
                completed=bool(status.get("completed")),
                detail={"criteria": len(criteria), "criteria_complete": len(done)},
                recorded_at=max(times) if status.get("completed") and times else None,
            )
        except NoData:
            pass
        except (KeyError, TypeError, AttributeError):
            yield RecordProblem(f"{self.source}:{user_id}", f"course {course_id}: bad completion")
        try:
            statuses = self.client.call(
                "core_completion_get_activities_completion_status",
                courseid=course_id,
                userid=user_id,
            )["statuses"]
            states = [int(s.get("state", 0)) for s in statuses]
            complete = states.count(COMPLETE) + states.count(COMPLETE_PASS)
            times = [t for s in statuses if (t := _when(s.get("timecompleted")))]
            if states:
                yield LearningFact(
                    **common,
                    record_key=f"{key}:activities",
                    kind="activity_completion",
                    completed=complete == len(states),
                    progress=round(100.0 * complete / len(states), 2),
                    detail={
                        "total": len(states),
                        "complete": complete,
                        "passed": states.count(COMPLETE_PASS),
                        "failed": states.count(COMPLETE_FAIL),
                    },
                    recorded_at=max(times) if times else None,
                )
        except NoData:
            pass
        except (KeyError, TypeError, ValueError, AttributeError):
            yield RecordProblem(f"{self.source}:{user_id}", f"course {course_id}: bad statuses")

    def _grade(
        self, course_id: int, user_id: str, common: dict[str, Any]
    ) -> Iterator[LearningItem]:
        try:
            payload = self.client.call(
                "gradereport_user_get_grade_items", courseid=course_id, userid=user_id
            )
        except NoData:
            return
        for usergrade in payload.get("usergrades") or []:
            for item in usergrade.get("gradeitems") or []:
                if item.get("itemtype") != "course" or item.get("graderaw") is None:
                    continue
                yield LearningFact(
                    **common,
                    record_key=f"course:{course_id}:grade",
                    kind="grade",
                    score=float(item["graderaw"]),
                    grade=item.get("gradeformatted") or None,
                    detail={
                        "percentage": item.get("percentageformatted"),
                        "max": item.get("grademax"),
                    },
                    recorded_at=_when(item.get("gradedategraded")),
                )

    # -- checks ----------------------------------------------------------------

    def check(self) -> list[str]:
        """Say what works, or raise the first thing that does not (for ``connector test``)."""
        info = self.client.call("core_webservice_get_site_info")
        lines = [f"token accepted: {info.get('sitename', 'Moodle')} as {info.get('username')}"]
        available = {f.get("name") for f in info.get("functions") or []}
        needed = [f for f in CAPABILITIES if f != "gradereport_user_get_grade_items"]
        if self.fetch_grades:
            needed.append("gradereport_user_get_grade_items")
        missing = [f for f in needed if f not in available]
        if missing:
            raise FunctionNotAvailable(
                "the token's external service lacks " + ", ".join(missing) + ": add them in "
                "Site administration > Server > Web services > External services"
            )
        lines.append(f"all {len(needed)} functions are in the token's service")
        courses = self._courses()
        lines.append(f"{len(courses)} courses visible")
        if courses:
            first = self.client.call(
                "core_enrol_get_enrolled_users",
                courseid=courses[0]["id"],
                options=[{"name": "limitnumber", "value": 1}],
            )
            lines.append(f"participants readable (course {courses[0]['id']}: {len(first)} shown)")
        return lines

    def close(self) -> None:
        self.client.close()
