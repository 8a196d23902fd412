"""Registering portals: ``tandem portal add|list|remove`` and lookups by name."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import Portal, SecretBox, Tenant

from .errors import PortalConfigError, UnknownPortalError
from .provider import ProviderMetadata, check_provider_url, discover

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
CLAIM_PATTERN = re.compile(r"^[A-Za-z0-9_:./\-]{1,100}$")


@dataclass(frozen=True)
class PortalSettings:
    """What an operator says about a portal (``tandem portal add``)."""

    name: str
    kind: str = "oidc"
    issuer: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    tenant_slug: str | None = None
    member_number_claim: str | None = None
    coordinator_claim: str | None = None
    coordinator_values: tuple[str, ...] = ()
    allow_self_registration: bool = False
    origins: tuple[str, ...] = field(default=())
    # client_secret_basic or client_secret_post; None takes the first the provider offers.
    token_auth_method: str | None = None


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url``.

    Raises:
        PortalConfigError: ``url`` is not an http(s) URL.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PortalConfigError(f"origin {url!r} must be an http(s) URL", reason="bad_origin")
    return f"{parts.scheme}://{parts.netloc}".lower()


def _check(settings: PortalSettings) -> None:
    if not NAME_PATTERN.match(settings.name):
        raise PortalConfigError(
            f"portal name {settings.name!r} must be 1-50 lowercase letters, digits or dashes",
            reason="bad_name",
        )
    if settings.kind == "oidc":
        for what, value in (
            ("--issuer", settings.issuer),
            ("--client-id", settings.client_id),
            ("--client-secret", settings.client_secret),
        ):
            if not value:
                raise PortalConfigError(f"an OpenID Connect portal needs {what}", reason="missing")
    elif settings.kind != "email_link":
        raise PortalConfigError(f"unknown portal kind {settings.kind!r}", reason="bad_kind")
    if settings.token_auth_method is not None and settings.kind != "oidc":
        raise PortalConfigError(
            "--token-auth is for OpenID Connect portals only", reason="bad_token_auth"
        )
    for what, claim in (
        ("--claim-member-number", settings.member_number_claim),
        ("--coordinator-claim", settings.coordinator_claim),
    ):
        if claim is not None and not CLAIM_PATTERN.match(claim):
            raise PortalConfigError(f"{what} {claim!r} is not a claim name", reason="bad_claim")
    if settings.coordinator_values and not settings.coordinator_claim:
        raise PortalConfigError(
            "--coordinator-values needs --coordinator-claim", reason="bad_claim"
        )
    if settings.coordinator_claim and not settings.coordinator_values:
        raise PortalConfigError(
            "--coordinator-claim needs --coordinator-values", reason="bad_claim"
        )


def _tenant(session: Session, slug: str | None) -> Tenant:
    if slug is None:
        tenants = session.scalars(select(Tenant).where(Tenant.active.is_(True)).limit(2)).all()
        if len(tenants) != 1:
            raise PortalConfigError(
                "name the tenant with --tenant SLUG (there is not exactly one)",
                reason="no_tenant",
            )
        return tenants[0]
    if not SLUG_PATTERN.match(slug):
        raise PortalConfigError(
            f"tenant slug {slug!r} must be lowercase letters, digits or dashes", reason="bad_slug"
        )
    tenant = session.scalars(select(Tenant).where(Tenant.slug == slug)).first()
    if tenant is None:
        # A portal-only association: no LMS registration, so no issuer or client id.
        tenant = Tenant(slug=slug, name=slug, issuer=None, client_id=None)
        session.add(tenant)
        session.flush()
    return tenant


def add_portal(
    session: Session,
    box: SecretBox,
    settings: PortalSettings,
    *,
    discover_provider: Callable[[str, str | None], ProviderMetadata] = discover,
) -> Portal:
    """Register a portal, or update the one of that name (re-reading its discovery).

    Raises:
        PortalConfigError: a setting is wrong, or the name belongs to another tenant.
        ProviderError: the issuer's discovery document is unreachable or unusable.
    """
    _check(settings)
    tenant = _tenant(session, settings.tenant_slug)
    portal = get_portal(session, settings.name, required=False)
    if portal is not None and portal.tenant_id != tenant.id:
        raise PortalConfigError(
            f"portal {settings.name!r} already belongs to another tenant", reason="name_taken"
        )
    origins = sorted({origin_of(o) for o in settings.origins})
    if settings.kind == "oidc":
        issuer = check_provider_url(settings.issuer or "", "the issuer")
        metadata = discover_provider(issuer, settings.token_auth_method).as_dict()
        # Without --origin, the portal's pages are assumed to live beside its provider.
        origins = origins or [origin_of(issuer)]
    else:
        issuer, metadata = None, {}
    if portal is None:
        portal = Portal(tenant_id=tenant.id, name=settings.name)
        session.add(portal)
    portal.kind = settings.kind
    portal.issuer = issuer
    portal.client_id = settings.client_id if settings.kind == "oidc" else None
    portal.client_secret_encrypted = (
        box.encrypt(settings.client_secret)
        if settings.kind == "oidc" and settings.client_secret
        else None
    )
    portal.provider = metadata
    portal.member_number_claim = settings.member_number_claim
    portal.coordinator_claim = settings.coordinator_claim
    portal.coordinator_values = list(settings.coordinator_values)
    portal.allow_self_registration = settings.allow_self_registration
    portal.origins = origins
    session.flush()
    return portal


def get_portal(session: Session, name: str, *, required: bool = True) -> Portal | None:
    """The portal called ``name``.

    Raises:
        UnknownPortalError: none is registered and ``required`` is set.
    """
    portal = (
        session.scalars(select(Portal).where(Portal.name == name)).first()
        if NAME_PATTERN.match(name)
        else None
    )
    if portal is None and required:
        raise UnknownPortalError(
            "This member portal is not connected to Tandem. Ask your association for the "
            "right link.",
            reason="unknown_portal",
        )
    return portal


def list_portals(session: Session) -> Sequence[tuple[Portal, Tenant]]:
    """Every portal with its tenant, by tenant slug and name."""
    return session.execute(
        select(Portal, Tenant)
        .join(Tenant, Tenant.id == Portal.tenant_id)
        .order_by(Tenant.slug, Portal.name)
    ).all()  # type: ignore[return-value]


def remove_portal(session: Session, name: str) -> Portal:
    """Unregister a portal; members it linked, and their identities, stay.

    Raises:
        UnknownPortalError: no portal of that name.
    """
    portal = get_portal(session, name)
    assert portal is not None
    session.delete(portal)
    session.flush()
    return portal
