"""Platform registrations: tenants with an issuer and client id, and their deployments."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

import outbound
from members import slug_for
from members.sessions import end_tenant_sessions
from records import Deployment, Tenant

from .errors import RegistrationError


@dataclass(frozen=True)
class PlatformSettings:
    """What an LMS admin hands over to register a platform."""

    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    deployment_ids: tuple[str, ...] = ()
    name: str | None = None
    auth_audience: str | None = None
    product: str | None = None  # "moodle", "canvas", ... when known


def _check_url(name: str, value: str) -> None:
    try:
        outbound.check_url(value)
    except outbound.URLRefused as exc:
        raise RegistrationError(f"{name}: {exc}", reason="url_refused") from exc


def _slug_for(session: Session, settings: PlatformSettings) -> str:
    base = settings.name or urlsplit(settings.issuer).netloc or settings.issuer
    return slug_for(session, base, fallback="platform")


def add_platform(
    session: Session, settings: PlatformSettings, *, restore_removed: bool = False
) -> Tenant:
    """Register a platform as a new tenant with its deployments.

    A tenant's identity never changes hands: the issuer and client id of an existing
    tenant, active or removed, are taken. Only the operator restores a removed one
    (``restore_removed``, from ``tandem platform add``); a dynamic registration never does.

    Raises:
        RegistrationError: a URL is refused, or the issuer and client id are taken.
    """
    if not settings.issuer.strip() or not settings.client_id.strip():
        raise RegistrationError("issuer and client id must not be empty")
    for name, url in (
        ("issuer", settings.issuer),
        ("auth login URL", settings.auth_login_url),
        ("auth token URL", settings.auth_token_url),
        ("key set URL", settings.key_set_url),
    ):
        _check_url(name, url)
    existing = find_registration(session, settings.issuer, settings.client_id)
    if existing is not None and existing.active:
        raise RegistrationError(
            f"issuer {settings.issuer!r} with client id {settings.client_id!r} is already "
            "registered",
            reason="taken",
        )
    if existing is not None and not restore_removed:
        raise RegistrationError(
            f"issuer {settings.issuer!r} with client id {settings.client_id!r} belonged to a "
            "removed platform and stays taken; only the operator can restore it "
            "(tandem platform add)",
            reason="removed_platform",
        )
    if existing is not None:
        # A removed registration comes back with its members and programmes.
        existing.active = True
        existing.auth_login_url = settings.auth_login_url
        existing.auth_token_url = settings.auth_token_url
        existing.auth_audience = settings.auth_audience
        existing.key_set_url = settings.key_set_url
        existing.key_set, existing.key_set_fetched_at = None, None
        add_deployments(session, existing, settings.deployment_ids)
        return existing
    tenant = Tenant(
        slug=_slug_for(session, settings),
        name=settings.name or urlsplit(settings.issuer).netloc or settings.issuer,
        issuer=settings.issuer,
        client_id=settings.client_id,
        auth_login_url=settings.auth_login_url,
        auth_token_url=settings.auth_token_url,
        auth_audience=settings.auth_audience,
        key_set_url=settings.key_set_url,
        settings={"product": settings.product} if settings.product else {},
    )
    session.add(tenant)
    session.flush()
    add_deployments(session, tenant, settings.deployment_ids)
    return tenant


def add_deployments(session: Session, tenant: Tenant, deployment_ids: Iterable[str]) -> None:
    """Add deployment ids to a tenant; ids it already has are left alone."""
    known = {d.deployment_id for d in tenant.deployments}
    for deployment_id in deployment_ids:
        if deployment_id and deployment_id not in known:
            tenant.deployments.append(Deployment(deployment_id=deployment_id))
            known.add(deployment_id)
    session.flush()


def find_registration(session: Session, issuer: str, client_id: str) -> Tenant | None:
    """The tenant registered for ``issuer`` and ``client_id``, active or removed."""
    return session.scalars(
        select(Tenant).where(Tenant.issuer == issuer, Tenant.client_id == client_id)
    ).first()


# Every login and launch asks these two: built once (bound parameters), so a request
# does not pay for building the statement and its cache key.
_FIND_TENANT = select(Tenant).where(
    Tenant.issuer == bindparam("issuer"),
    Tenant.client_id == bindparam("client_id"),
    Tenant.active.is_(True),
)
_HAS_DEPLOYMENT = select(Deployment.id).where(
    Deployment.tenant_id == bindparam("tenant_id"),
    Deployment.deployment_id == bindparam("deployment_id"),
)


def find_tenant(session: Session, issuer: str, client_id: str) -> Tenant | None:
    """The active tenant registered for ``issuer`` and ``client_id``, or ``None``."""
    return session.scalars(_FIND_TENANT, {"issuer": issuer, "client_id": client_id}).first()


def tenants_for_issuer(
    session: Session, issuer: str, deployment_id: str | None = None
) -> Sequence[Tenant]:
    """Up to two active tenants with this issuer (one issuer may register many client ids).

    With ``deployment_id``, only those that have that deployment.
    """
    query = select(Tenant).where(Tenant.issuer == issuer, Tenant.active.is_(True))
    if deployment_id:
        query = query.where(
            Tenant.id.in_(
                select(Deployment.tenant_id).where(Deployment.deployment_id == deployment_id)
            )
        )
    return session.scalars(query.order_by(Tenant.id).limit(2)).all()


def resolve_tenant(
    session: Session, issuer: str, client_id: str | None, deployment_id: str | None = None
) -> Sequence[Tenant]:
    """The active tenants a message from ``issuer`` may be for: the one answer, or two.

    The one rule for finding a registration (login and launch both use it): the client id
    when the platform names it; otherwise the issuer's only active registration; otherwise
    the one that has the named deployment. More than one left means the platform must
    name its client id; an empty answer means it is not registered.
    """
    if client_id:
        tenant = find_tenant(session, issuer, client_id)
        return [tenant] if tenant is not None else []
    tenants = tenants_for_issuer(session, issuer)
    if len(tenants) > 1 and deployment_id:
        return tenants_for_issuer(session, issuer, deployment_id)
    return tenants


def has_deployment(session: Session, tenant_id: int, deployment_id: str) -> bool:
    """Whether ``deployment_id`` is registered for the tenant."""
    found = session.scalars(
        _HAS_DEPLOYMENT, {"tenant_id": tenant_id, "deployment_id": deployment_id}
    ).first()
    return found is not None


def list_platforms(session: Session) -> Sequence[Tenant]:
    """Every tenant registered for LTI, oldest first."""
    return session.scalars(
        select(Tenant).where(Tenant.issuer.is_not(None)).order_by(Tenant.id)
    ).all()


def remove_platform(session: Session, issuer: str, client_id: str) -> Tenant:
    """Unregister a platform: the tenant is deactivated and its deployments removed.

    Its members, programmes and history stay (a registration can be re-added); launches
    from it are refused from now on, and its members' sessions end at once.

    Raises:
        RegistrationError: no such registration.
    """
    tenant = find_tenant(session, issuer, client_id)
    if tenant is None:
        raise RegistrationError(f"no platform with issuer {issuer!r} and client id {client_id!r}")
    session.execute(delete(Deployment).where(Deployment.tenant_id == tenant.id))
    session.expire(tenant, ["deployments"])
    tenant.active = False
    # Every request also checks the tenant is active; this drops the records as well.
    end_tenant_sessions(session, tenant.id)
    session.flush()
    return tenant


def origin_of(url: str | None) -> str | None:
    """``scheme://host[:port]`` of a URL, or ``None``."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def tenant_origins(tenant: Tenant) -> set[str]:
    """The web origins a tenant's pages may frame Tandem from."""
    urls = (tenant.issuer, tenant.auth_login_url, *tenant.settings.get("origins", ()))
    return {origin for origin in map(origin_of, urls) if origin}


def platform_origins(session: Session) -> set[str]:
    """The origins of every active registered platform (for ``frame-ancestors``)."""
    rows = session.execute(
        select(Tenant.issuer, Tenant.auth_login_url).where(
            Tenant.issuer.is_not(None), Tenant.active.is_(True)
        )
    ).all()
    return {origin for row in rows for origin in map(origin_of, row) if origin}


def origins_of_tenant(session: Session, tenant_id: int | None) -> set[str]:
    """The origins of one tenant's platform; empty for an unknown tenant."""
    tenant = session.get(Tenant, tenant_id) if tenant_id is not None else None
    return tenant_origins(tenant) if tenant is not None else set()


def login_origin(session: Session, tenant_id: int | None) -> str | None:
    """The origin of a tenant's OIDC authentication URL (where its storage frame lives)."""
    tenant = session.get(Tenant, tenant_id) if tenant_id is not None else None
    return origin_of(tenant.auth_login_url) if tenant is not None else None
