"""Names and Role Provisioning Services: import a course's roster, page by page."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from members import link_members
from records import SecretBox, Tenant

from . import claims as c
from .access_tokens import access_token
from .enrolments import enrol_many
from .errors import ServiceError
from .http import call

MEMBERSHIP_MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
MAX_PAGES = 500
PAGE = 500  # members linked and enrolled together
# One link-value of a Link header: <url>; params. rel may be quoted or bare, any case.
_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]*)*)")
_REL = re.compile(r"""(?i)\brel\s*=\s*(?:"([^"]*)"|([^\s;,"]+))""")


@dataclass(frozen=True)
class RosterImport:
    """What an import did."""

    seen: int
    created: int
    enrolled: int


def next_page_url(link_header: str | None) -> str | None:
    """The ``rel="next"`` target of a ``Link`` header, or ``None``.

    Accepts ``rel=next`` unquoted, any case, and several rel values in one parameter.
    """
    for match in _LINK.finditer(link_header or ""):
        for rel in _REL.finditer(match.group(2)):
            values = (rel.group(1) or rel.group(2) or "").lower().split()
            if "next" in values:
                return match.group(1).strip()
    return None


def _pages(entries: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    page: list[dict[str, Any]] = []
    for entry in entries:
        page.append(entry)
        if len(page) == PAGE:
            yield page
            page = []
    if page:
        yield page


def iter_members(url: str, token: str) -> Iterator[dict[str, Any]]:
    """Yield the member entries of a membership container, following ``next`` links.

    Raises:
        ServiceError: a page failed or is not a membership container.
    """
    pages = 0
    next_url: str | None = url
    while next_url:
        pages += 1
        if pages > MAX_PAGES:
            raise ServiceError(f"{url}: more than {MAX_PAGES} pages of members")
        response = call(
            "GET",
            next_url,
            headers={"Authorization": f"Bearer {token}", "Accept": MEMBERSHIP_MEDIA_TYPE},
        )
        try:
            body = response.json()
        except ValueError as exc:
            raise ServiceError(f"{next_url} did not answer JSON") from exc
        members = body.get("members") if isinstance(body, dict) else None
        if not isinstance(members, list):
            raise ServiceError(f"{next_url} answered no members list")
        yield from (m for m in members if isinstance(m, dict))
        next_url = next_page_url(response.headers.get("Link"))


def import_roster(
    session: Session,
    box: SecretBox,
    tenant: Tenant,
    course_id: int,
    memberships_url: str,
    *,
    product: str | None,
    on_progress: Callable[[int], None] | None = None,
) -> RosterImport:
    """Create or link every member of the course's roster and enrol them, idempotently.

    ``on_progress(seen)`` is called after each page of members.

    Raises:
        ServiceError: the platform's token or membership endpoint failed.
    """
    token = access_token(session, box, tenant, [c.SCOPE_NRPS])
    seen = created = enrolled = 0
    # A page at a time: linking and enrolling a page is a few statements, not a few per
    # member (a 5,000-member course is ten pages of 500).
    for page in _pages(iter_members(memberships_url, token)):
        entries = [e for e in page if isinstance(e.get("user_id"), str) and e["user_id"]]
        people = [c.person_from_claims(e["user_id"], e, product=product) for e in entries]
        links = link_members(session, tenant.id, people)
        rows = []
        for entry, link in zip(entries, links, strict=True):
            if link.member_id is None:
                continue  # its member number belongs to someone else: left alone
            created += link.created
            status = "active" if entry.get("status", "Active") == "Active" else "inactive"
            rows.append((link.member_id, c.tandem_role(entry.get("roles") or []), status))
        enrolled += enrol_many(session, tenant.id, course_id, rows)
        seen += len(entries)
        if on_progress is not None:
            on_progress(seen)
    return RosterImport(seen=seen, created=created, enrolled=enrolled)
