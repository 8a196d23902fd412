"""One-time sign-in links by email, for associations without single sign-on.

A link is valid for :data:`LINK_LIFETIME`, works once, and is bound to one member. Only
its hash is stored, so a copy of the database signs nobody in. Requests are counted per
address, known or not, so the answer never tells whether an address is a member's.

A link is also bound to the browser that asked for it (issue 12, finding 9): the web
layer gives that browser a random value in a cookie and the link keeps its hash. Opening
the link shows "You are signing in as NAME"; from the asking browser one press signs in,
from any other browser (the phone the mail was read on, or a victim's browser an
attacker posts their own link from) the page first says the link was asked for
elsewhere, and the press must carry a confirmation that only that page can give. A
refused link is spent, so that a refusal never leaves a working token behind.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy.orm import Session

import jobs
import translations
from members import PersonRecord, find_member, tenant_default_locale
from platforms import MEMBER
from records import Member, Portal, Tenant

from . import audit
from .errors import MemberRefused, SignInRefused, UnknownPortalError
from .members import refuse_inactive
from .outcome import PortalOutcome, signed_in
from .state import (
    EMAIL_LINK,
    EMAIL_RATE,
    add_value,
    count_in_window,
    exists_expired,
    get_value,
    pop_value,
)

LINK_LIFETIME = timedelta(minutes=15)
RATE_WINDOW = timedelta(minutes=15)
MAX_LINKS_PER_WINDOW = 3
_ADDRESS = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class SignInLink:
    """A link to mail: the token goes into the URL, never into the database."""

    token: str
    to: str
    name: str
    association: str
    # The member's language (last known locale, else the tenant's default).
    locale: str | None = None


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def normalise_address(address: str) -> str:
    """``address`` trimmed and lower-cased.

    Raises:
        SignInRefused: it does not look like an email address (this reveals nothing).
    """
    value = address.strip().lower()
    if len(value) > 320 or not _ADDRESS.match(value):
        raise SignInRefused(
            "Enter your email address, like name@example.org.", reason="bad_address"
        )
    return value


def _email_portal(portal: Portal) -> None:
    if portal.kind != "email_link":
        raise UnknownPortalError(
            "This portal signs members in through its own single sign-on.",
            reason="not_email_link",
            tenant_id=portal.tenant_id,
            portal_id=portal.id,
        )


@dataclass(frozen=True)
class LinkPreview:
    """What the link's page shows before anything is spent."""

    name: str
    same_browser: bool


SEND_SIGN_IN_LINK = "portals.send_sign_in_link"
TOKEN_PLACEHOLDER = "__TOKEN__"


def request_link(
    session: Session,
    portal: Portal,
    address: str,
    link_url: str,
    *,
    browser: str | None = None,
    remote_addr: str | None = None,
) -> bool:
    """Queue a sign-in link for the active member with ``address``; whether it is one.

    Nothing is sent here: a job (:data:`SEND_SIGN_IN_LINK`) makes the link and mails it,
    and an unknown address queues the same job (which finds nobody), so a known address
    answers as fast as an unknown one. ``link_url`` is the link's absolute URL with
    :data:`TOKEN_PLACEHOLDER` where the token goes. ``False`` when the address is unknown,
    belongs to a deactivated member, or asked too often: the caller shows the same page
    in every case. ``browser`` is the asking browser's random binding value: the job
    gets only its hash, which the link keeps.

    Raises:
        SignInRefused: ``address`` is not an email address.
    """
    _email_portal(portal)
    address = normalise_address(address)
    address_key = _digest(f"{portal.id}:{address}")
    if count_in_window(session, EMAIL_RATE, address_key, RATE_WINDOW) > MAX_LINKS_PER_WINDOW:
        audit.record(
            session,
            "portal.link_rate_limited",
            tenant_id=portal.tenant_id,
            portal_id=portal.id,
            detail={"address_hash": address_key[:16]},
            remote_addr=remote_addr,
        )
        return False
    member = find_member(
        session,
        portal.tenant_id,
        PersonRecord(source="email", external_id=address, email=address),
    )
    known = member is not None and member.active and bool(member.email)
    # Known or not, the same work: one job queued (ids only: the token is made by the
    # job, never stored in the queue; for an unknown address it finds nobody and ends)
    # and one audit row, so the answer takes as long either way.
    jobs.defer(
        session,
        SEND_SIGN_IN_LINK,
        tenant_id=portal.tenant_id,
        portal_id=portal.id,
        member_id=member.id if known and member is not None else None,
        link_url=link_url,
        browser_digest=_digest(browser) if browser else None,
    )
    audit.record(
        session,
        "portal.link_sent" if known else "portal.link_not_sent",
        tenant_id=portal.tenant_id,
        actor_member_id=member.id if known and member is not None else None,
        portal_id=portal.id,
        detail={} if known else {"address_hash": address_key[:16]},
        remote_addr=remote_addr,
    )
    return known


def issue_link(
    session: Session,
    tenant_id: int,
    portal_id: int,
    member_id: int | None,
    browser_digest: str | None = None,
) -> SignInLink | None:
    """A new one-time link for the member (the job's half); ``None`` for nobody (an
    unknown address) or a member gone since. ``browser_digest``: the hash of the asking
    browser's binding value, kept with the link."""
    if member_id is None:
        return None
    portal = session.get(Portal, portal_id)
    member = session.get(Member, member_id)
    if portal is None or portal.tenant_id != tenant_id or portal.kind != "email_link":
        return None
    if member is None or member.tenant_id != tenant_id or not member.active or not member.email:
        return None
    token = secrets.token_urlsafe(32)
    add_value(
        session,
        EMAIL_LINK,
        _digest(token),
        {
            "portal_id": portal.id,
            "tenant_id": tenant_id,
            "member_id": member.id,
            "browser": browser_digest,
        },
        LINK_LIFETIME,
    )
    tenant = session.get(Tenant, tenant_id)
    t = translations.for_member(member, tenant_default_locale(tenant))
    association = tenant.name if tenant is not None else t.gettext("your association")
    return SignInLink(
        token=token, to=member.email, name=member.name, association=association, locale=t.locale
    )


def link_message(link: SignInLink, link_url: str) -> EmailMessage:
    """The email carrying a sign-in link (``link_url`` as :func:`request_link` took it)."""
    url = link_url.replace(TOKEN_PLACEHOLDER, link.token)
    association = link.association
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    t = translations.for_locale(link.locale)
    message = EmailMessage()
    message["To"] = link.to
    message["Subject"] = t.gettext(
        "Your sign-in link for mentoring at %(association)s", association=association
    )
    greeting = t.gettext("Hello %(name)s,", name=link.name)
    lead = t.gettext(
        "Open this link to sign in to Tandem, the mentoring programme of %(association)s:",
        association=association,
    )
    warning = t.gettext(
        "It works once, within %(minutes)s minutes. If you did not ask for it, ignore this "
        "email: nobody can sign in without it.",
        minutes=minutes,
    )
    message.set_content(f"{greeting}\n\n{lead}\n\n{url}\n\n{warning}\n")
    # After the content: setting the content clears the Content-* headers.
    message["Content-Language"] = t.locale.replace("_", "-")
    return message


def _link_member(session: Session, portal: Portal, key: str, data: dict | None) -> Member:
    """The member a link's stored ``data`` signs in, after the checks every use makes.

    Raises:
        SignInRefused: the link is unknown, used, late, or for another portal.
        MemberRefused: its member is gone.
    """
    if data is None:
        late = bool(key) and exists_expired(session, EMAIL_LINK, key)
        raise SignInRefused(
            "This sign-in link has expired or was already used. Ask for a new one.",
            reason="link_expired" if late else "link_used_or_unknown",
            tenant_id=portal.tenant_id,
            portal_id=portal.id,
        )
    if data.get("portal_id") != portal.id:
        raise SignInRefused(
            "This sign-in link belongs to another portal.",
            reason="link_other_portal",
            tenant_id=portal.tenant_id,
            portal_id=portal.id,
        )
    member = session.get(Member, data.get("member_id"))
    if member is None or member.tenant_id != portal.tenant_id:
        raise MemberRefused(
            "This sign-in link no longer matches a member. Ask your association.",
            reason="member_gone",
            tenant_id=portal.tenant_id,
            portal_id=portal.id,
        )
    return member


def _same_browser(data: dict, browser: str | None) -> bool:
    bound = data.get("browser")
    return bool(bound and browser) and secrets.compare_digest(bound, _digest(browser or ""))


def preview_link(
    session: Session, portal: Portal, token: str, *, browser: str | None = None
) -> LinkPreview:
    """Who the link signs in, and whether this is the browser that asked for it; nothing
    is spent (a mail scanner fetching the link changes nothing).

    Raises:
        SignInRefused: the link is unknown, used, late, or for another portal.
        MemberRefused: its member is gone.
    """
    _email_portal(portal)
    key = _digest(token) if token else ""
    data = get_value(session, EMAIL_LINK, key) if key else None
    member = _link_member(session, portal, key, data)
    assert data is not None  # _link_member refused otherwise
    return LinkPreview(name=member.name, same_browser=_same_browser(data, browser))


def spend_link(session: Session, token: str) -> None:
    """Use a link up without signing in: after a refusal has rolled back the request's
    writes, the link must still be spent (a refused link is never left working)."""
    if token:
        pop_value(session, EMAIL_LINK, _digest(token))


def consume_link(
    session: Session,
    portal: Portal,
    token: str,
    *,
    browser: str | None = None,
    confirmed: bool = False,
    remote_addr: str | None = None,
) -> PortalOutcome:
    """Sign in with a link: it is used up, whatever happens next in this transaction.

    ``browser`` is the posting browser's binding value; from another browser than the
    one that asked, ``confirmed`` must say that the person confirmed on the link's page
    (the web layer checks that the confirmation came from that page in this browser).
    A caller that refuses must spend the link again after rolling back
    (:func:`spend_link`).

    Raises:
        SignInRefused: the link is unknown, used, late, for another portal, or posted
            from another browser without the page's confirmation.
        MemberRefused: its member is gone or deactivated.
    """
    _email_portal(portal)
    key = _digest(token) if token else ""
    data = pop_value(session, EMAIL_LINK, key) if key else None
    member = _link_member(session, portal, key, data)
    assert data is not None  # _link_member refused otherwise
    if not confirmed and not _same_browser(data, browser):
        raise SignInRefused(
            "This sign-in link was asked for in another browser. Ask for a new link here, "
            "or open the link from your email and confirm on the page it shows.",
            reason="link_other_browser",
            tenant_id=portal.tenant_id,
            portal_id=portal.id,
        )
    refuse_inactive(portal, member)
    return signed_in(session, portal, member, MEMBER, method="email_link", remote_addr=remote_addr)
