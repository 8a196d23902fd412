"""Guides for mentors and mentees: shipped with Tandem, replaced or extended per programme.

The shipped guides are Markdown files beside this module. A coordinator's text is
Markdown too; every guide is rendered by :func:`render_markdown`, the one place that
turns Markdown into HTML, with raw HTML off and an allow-list sanitiser after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from records import GuideRead, Programme, record_event
from records.recognition import GUIDE_ROLES

from .access import Actor, coordinated_programme, get_programme
from .errors import InvalidInputError, NotFoundError

GUIDE_MODES = ("shipped", "extend", "replace")
MAX_GUIDE_CHARS = 20_000
# What Markdown produces and a guide needs; anything else (script, style, iframe, event
# attributes, javascript: links) is dropped by the sanitiser.
ALLOWED_TAGS = {
    "a",
    "blockquote",
    "br",
    "code",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"https", "http", "mailto"}


@cache
def _markdown() -> MarkdownIt:
    # CommonMark with raw HTML off: "<script>" in the text comes out as text.
    return MarkdownIt("commonmark", {"html": False})


def render_markdown(text: str) -> Markup:
    """Markdown to HTML that is safe to put in a page (no script can get through)."""
    html = _markdown().render(text)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)


@cache
def shipped_guide(role: str) -> str:
    """The Markdown of Tandem's own guide for a side."""
    return (files(__package__) / "guides" / f"{role}.md").read_text(encoding="utf-8")


@dataclass(frozen=True)
class GuidePage:
    """A guide as the member (or coordinator) sees it."""

    programme: Programme
    role: str
    html: Markup
    mode: str
    markdown: str
    read: bool


def _check_role(role: str) -> None:
    if role not in GUIDE_ROLES:
        raise NotFoundError("There is a mentor guide and a mentee guide, nothing else.")


def _own_text(programme: Programme, role: str) -> tuple[str, str]:
    entry = ((programme.settings or {}).get("guides") or {}).get(role) or {}
    mode = entry.get("mode") if entry.get("mode") in GUIDE_MODES else "shipped"
    return mode, str(entry.get("markdown") or "")


def guide_markdown(programme: Programme, role: str) -> str:
    """The guide's Markdown in this programme: shipped, shipped plus the coordinator's, or
    the coordinator's alone."""
    mode, own = _own_text(programme, role)
    if mode == "replace" and own.strip():
        return own
    if mode == "extend" and own.strip():
        return shipped_guide(role) + "\n\n## From your programme\n\n" + own
    return shipped_guide(role)


def guide_page(session: Session, actor: Actor, programme_id: int, role: str) -> GuidePage:
    """The programme's guide for a side, and whether the acting member marked it read."""
    _check_role(role)
    programme = get_programme(session, actor, programme_id)
    read = (
        actor.member_id is not None
        and session.scalar(
            select(GuideRead.id).where(
                GuideRead.tenant_id == actor.tenant_id,
                GuideRead.programme_id == programme.id,
                GuideRead.member_id == actor.member_id,
                GuideRead.role == role,
            )
        )
        is not None
    )
    mode, own = _own_text(programme, role)
    return GuidePage(
        programme, role, render_markdown(guide_markdown(programme, role)), mode, own, read
    )


def mark_guide_read(session: Session, actor: Actor, programme_id: int, role: str) -> bool:
    """Record that the acting member read the programme's guide for a side.

    Returns ``True`` when this is news, ``False`` when it was already marked (a second
    click, or two tabs racing: the unique key keeps one row).
    """
    _check_role(role)
    programme = get_programme(session, actor, programme_id)
    if actor.member_id is None:
        raise InvalidInputError("Only a member can mark a guide read.")
    key = (
        GuideRead.tenant_id == actor.tenant_id,
        GuideRead.programme_id == programme.id,
        GuideRead.member_id == actor.member_id,
        GuideRead.role == role,
    )
    if session.scalar(select(GuideRead.id).where(*key)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(
                GuideRead(
                    tenant_id=actor.tenant_id,
                    programme_id=programme.id,
                    member_id=actor.member_id,
                    role=role,
                )
            )
    except IntegrityError:
        return False
    record_event(
        session,
        actor.tenant_id,
        "guide.read",
        actor_member_id=actor.member_id,
        subject=programme,
        detail={"role": role},
    )
    return True


def set_guide(
    session: Session, actor: Actor, programme_id: int, role: str, mode: str, markdown: str
) -> Programme:
    """A coordinator keeps, extends or replaces a side's guide with their own Markdown.

    Raises:
        InvalidInputError: an unknown mode, text too long, or "replace" with no text.
    """
    _check_role(role)
    programme = coordinated_programme(session, actor, programme_id)
    problems = {}
    if mode not in GUIDE_MODES:
        problems["mode"] = f"Choose one of: {', '.join(GUIDE_MODES)}."
    if len(markdown) > MAX_GUIDE_CHARS:
        problems["markdown"] = f"Keep the guide under {MAX_GUIDE_CHARS} characters."
    if mode in ("extend", "replace") and not markdown.strip():
        problems["markdown"] = "Write the text that extends or replaces the guide."
    if problems:
        raise InvalidInputError("The guide needs a change.", problems)
    guides = dict((programme.settings or {}).get("guides") or {})
    guides[role] = {"mode": mode, "markdown": markdown}
    programme.settings = {**(programme.settings or {}), "guides": guides}
    record_event(
        session,
        actor.tenant_id,
        "programme.guide",
        actor_member_id=actor.member_id,
        subject=programme,
        detail={"role": role, "mode": mode},
    )
    return programme


def guide_reads(session: Session, tenant_id: int, programme_id: int) -> dict[str, int]:
    """How many members marked each side's guide read, for the dashboard."""
    rows = session.execute(
        select(GuideRead.role, func.count())
        .where(GuideRead.tenant_id == tenant_id, GuideRead.programme_id == programme_id)
        .group_by(GuideRead.role)
    )
    counts = dict.fromkeys(GUIDE_ROLES, 0)
    counts.update({role: n for role, n in rows})
    return counts
