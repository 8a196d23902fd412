"""``tandem portal add|list|remove``: member portals as sign-in sources."""

from __future__ import annotations

import click

import portals
from portals import PortalError, PortalSettings
from records import Tenant

from ..urls import printable_url, url_context
from .base import app_transaction, build_app, fail, main


@main.group()
def portal() -> None:
    """Let members sign in through their association's member portal (no LMS needed)."""


def _split(values: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (values or "").split(",") if v.strip())


@portal.command("add")
@click.argument("name")
@click.option("--issuer", help="The portal's OpenID Connect issuer URL (discovery is read).")
@click.option("--client-id", help="The client id the portal gave Tandem.")
@click.option(
    "--client-secret",
    envvar="TANDEM_PORTAL_CLIENT_SECRET",
    help="The client secret (or set TANDEM_PORTAL_CLIENT_SECRET); stored encrypted.",
)
@click.option(
    "--token-auth",
    type=click.Choice(portals.TOKEN_AUTH_METHODS),
    help="How Tandem authenticates at the token endpoint; use what the portal registered "
    "for Tandem. Default: the first of these the portal's discovery offers.",
)
@click.option("--email-link", is_flag=True, help="No single sign-on: members get links by email.")
@click.option("--claim-member-number", help="The ID token claim holding the member number.")
@click.option("--tenant", "tenant_slug", help="The tenant's slug; created when new.")
@click.option("--coordinator-claim", help="A claim (e.g. groups) that marks coordinators.")
@click.option("--coordinator-values", help="Comma-separated values of that claim.")
@click.option(
    "--allow-self-registration",
    is_flag=True,
    help="Let people who are not (yet) in the member directory in as new members.",
)
@click.option(
    "--origin",
    "origins",
    multiple=True,
    help="An origin that may frame Tandem (the portal's site); repeat for several. "
    "Default: the issuer's origin.",
)
def portal_add(
    name: str,
    issuer: str | None,
    client_id: str | None,
    client_secret: str | None,
    token_auth: str | None,
    email_link: bool,
    claim_member_number: str | None,
    tenant_slug: str | None,
    coordinator_claim: str | None,
    coordinator_values: str | None,
    allow_self_registration: bool,
    origins: tuple[str, ...],
) -> None:
    """Register portal NAME, or update it; members start at /portal/NAME/login."""
    if email_link and (issuer or client_id or client_secret or token_auth):
        fail("--email-link takes no --issuer, --client-id, --client-secret or --token-auth")
    settings = PortalSettings(
        name=name.strip(),
        kind="email_link" if email_link else "oidc",
        issuer=issuer.strip() if issuer else None,
        client_id=client_id.strip() if client_id else None,
        client_secret=client_secret,
        tenant_slug=tenant_slug.strip() if tenant_slug else None,
        member_number_claim=claim_member_number,
        coordinator_claim=coordinator_claim,
        coordinator_values=_split(coordinator_values),
        allow_self_registration=allow_self_registration,
        origins=origins,
        token_auth_method=token_auth,
    )
    app = build_app()
    try:
        with app_transaction(app) as session:
            added = portals.add_portal(session, app.extensions["tandem.secrets"], settings)
            tenant = session.get(Tenant, added.tenant_id)
            slug = tenant.slug if tenant else "?"
            metadata = (
                portals.ProviderMetadata.from_dict(added.provider) if added.provider else None
            )
            with url_context(app):
                login = printable_url("portals.login", name=added.name)
                callback = printable_url("portals.callback", name=added.name)
                signed_out = printable_url("core.sign_out_page")
    except PortalError as exc:
        fail(str(exc))
    click.echo(f"portal {name!r} of tenant {slug!r}: members start at {login}")
    if metadata is not None:
        click.echo(f"register this redirect URI at the portal: {callback}")
        click.echo(
            f"register token endpoint authentication {metadata.token_auth_method} and ID token "
            f"signing algorithm {metadata.algorithm_to_register} at the portal "
            f"(Tandem also accepts: {', '.join(metadata.algorithms)})"
        )
        if metadata.end_session_endpoint:
            click.echo(f"register this post-logout redirect URI at the portal: {signed_out}")
    elif not app.config.get("TANDEM_SMTP_URL"):
        click.echo("warning: TANDEM_SMTP_URL is not set, so no sign-in link can be sent", err=True)


@portal.command("list")
def portal_list() -> None:
    """List portals: name, tenant, kind, issuer, client id, framing origins (no secrets)."""
    app = build_app()
    with app_transaction(app) as session:
        rows = [
            (
                p.name,
                t.slug,
                p.kind,
                p.issuer or "-",
                p.client_id or "-",
                ",".join(p.origins) or "-",
                "self-registration" if p.allow_self_registration else "directory only",
            )
            for p, t in portals.list_portals(session)
        ]
    if not rows:
        click.echo("no portals registered")
    for row in rows:
        click.echo("\t".join(row))


@portal.command("remove")
@click.argument("name")
def portal_remove(name: str) -> None:
    """Unregister portal NAME: its sign-ins stop; members and their identities stay."""
    app = build_app()
    try:
        with app_transaction(app) as session:
            portals.remove_portal(session, name)
    except PortalError as exc:
        fail(str(exc))
    click.echo(f"removed portal {name!r}; its members stay")
