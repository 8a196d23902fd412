"""Names and Role Provisioning Services: import a course's roster, page by page."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from members import link_member
from records import SecretBox, Tenant

from . import claims as c
from .access_tokens import access_token
from .enrolments import enrol
from .errors import ServiceError
from .http import call

MEMBERSHIP_MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
MAX_PAGES = 500
PROGRESS_EVERY = 200
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

    ``on_progress(seen)`` is called every :data:`PROGRESS_EVERY` members and at the end.

    Raises:
        ServiceError: the platform's token or membership endpoint failed.
    """
    token = access_token(session, box, tenant, [c.SCOPE_NRPS])
    seen = created = enrolled = 0
    for entry in iter_members(memberships_url, token):
        user_id = entry.get("user_id")
        if not isinstance(user_id, str) or not user_id:
            continue
        seen += 1
        record = c.person_from_claims(user_id, entry, product=product)
        result = link_member(session, tenant.id, record)
        created += result.created
        status = "active" if entry.get("status", "Active") == "Active" else "inactive"
        role = c.tandem_role(entry.get("roles") or [])
        enrolled += enrol(session, tenant.id, result.member.id, course_id, role, status=status)
        if on_progress is not None and seen % PROGRESS_EVERY == 0:
            on_progress(seen)
    if on_progress is not None:
        on_progress(seen)
    return RosterImport(seen=seen, created=created, enrolled=enrolled)
