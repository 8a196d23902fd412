"""The navigation of every signed-in page: which links, and which one is the current place.

A context processor gives templates ``nav`` (``None`` when nobody is signed in);
``_member_links.html`` draws it. The programmes listed (a coordinator's dashboards)
and the course name come from :func:`programmes.navigation`, which applies the one
access rule; here only the request's endpoint is read, to mark the current place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, request
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError

import programmes
import records

from . import auth
from .views.programmes import current_actor

# The sections of the navigation, by the blueprint of the page's endpoint, and the one
# page of each that the link itself opens.
SECTIONS = {
    "programmes": ("programmes", "programmes.index"),
    "checkins": ("mentoring", "checkins.member"),
    "credentials": ("mentoring", None),
}
PAGES = {
    "lti.member_home": "home",
    "lti.coordinator_home": "home",
    "privacy.my_data": "my_data",
    "privacy.privacy": "privacy",
}
# Past this many, a coordinator's dashboards fold into one disclosure ("Dashboards"),
# so that the bar stays one line in an LMS frame.
MAX_DASHBOARD_LINKS = 1


@dataclass(frozen=True)
class Nav:
    """What ``_member_links.html`` needs: the home to link, the course, the dashboards,
    and where the page is."""

    home: str
    course_title: str | None
    dashboards: tuple[tuple[int, str], ...]
    place: str | None
    exact: bool
    programme_id: int | None

    @property
    def fold_dashboards(self) -> bool:
        return len(self.dashboards) > MAX_DASHBOARD_LINKS

    def mark(self, place: str, programme_id: int | None = None) -> Markup:
        """``aria-current`` for the link to ``place``: ``page`` on the page the link opens,
        ``true`` on another page of its section (a programme's page under "Programmes")."""
        if place != self.place or (programme_id is not None and programme_id != self.programme_id):
            return Markup("")
        return Markup(' aria-current="page"' if self.exact else ' aria-current="true"')


def _place(endpoint: str | None, view_args: dict[str, Any]) -> tuple[str | None, bool]:
    if endpoint is None:
        return None, False
    if endpoint in PAGES:
        return PAGES[endpoint], True
    if endpoint == "dashboard.show":
        return "dashboard", True
    blueprint = endpoint.split(".", 1)[0]
    if blueprint in SECTIONS:
        place, page = SECTIONS[blueprint]
        return place, endpoint == page
    return None, False


def current_nav() -> Nav | None:
    """The navigation for this request's page, or ``None`` when nobody is signed in."""
    member = auth.current_member()
    if member is None:
        return None
    try:
        found = programmes.navigation(records.get_session(), current_actor())
    except SQLAlchemyError:
        # An error page must still go out, with the fixed links at least.
        found = programmes.Navigation(course_title=None)
    view_args = request.view_args or {}
    place, exact = _place(request.endpoint, view_args)
    programme_id = view_args.get("programme_id")
    return Nav(
        home="lti.coordinator_home" if member.is_coordinator else "lti.member_home",
        course_title=found.course_title,
        dashboards=found.dashboards,
        place=place,
        exact=exact,
        programme_id=programme_id if isinstance(programme_id, int) else None,
    )


def init_app(app: Flask) -> None:
    """Give every template ``nav``."""

    @app.context_processor
    def _navigation() -> dict[str, Nav | None]:
        return {"nav": current_nav()}
