"""``tandem platform add|list|remove`` and ``tandem keys rotate``."""

from __future__ import annotations

import click

import platforms
from platforms import PlatformSettings, RegistrationError

from .base import app_transaction, build_app, fail, main
from .core import keys


@main.group()
def platform() -> None:
    """Register LMS platforms (LTI 1.3) by hand."""


@platform.command("add")
@click.option("--issuer", required=True, help="The platform's issuer (iss), e.g. its base URL.")
@click.option("--client-id", required=True, help="The client id the platform gave Tandem.")
@click.option(
    "--deployment-id",
    "deployment_ids",
    multiple=True,
    required=True,
    help="A deployment id; repeat for several.",
)
@click.option("--auth-login-url", required=True, help="The platform's OIDC authentication URL.")
@click.option("--auth-token-url", required=True, help="The platform's OAuth 2 token URL.")
@click.option("--key-set-url", required=True, help="The platform's public key set (JWKS) URL.")
@click.option("--name", default=None, help="A name to show for the platform.")
def platform_add(
    issuer: str,
    client_id: str,
    deployment_ids: tuple[str, ...],
    auth_login_url: str,
    auth_token_url: str,
    key_set_url: str,
    name: str | None,
) -> None:
    """Register a platform: one issuer and client id, with its deployments."""
    app = build_app()
    settings = PlatformSettings(
        issuer=issuer.strip(),
        client_id=client_id.strip(),
        auth_login_url=auth_login_url.strip(),
        auth_token_url=auth_token_url.strip(),
        key_set_url=key_set_url.strip(),
        deployment_ids=tuple(d.strip() for d in deployment_ids),
        name=name,
    )
    try:
        with app_transaction(app) as session:
            tenant = platforms.add_platform(session, settings)
            slug, count = tenant.slug, len(tenant.deployments)
    except RegistrationError as exc:
        fail(str(exc))
    click.echo(
        f"registered {issuer} (client id {client_id}) as tenant {slug!r}, {count} deployment(s)"
    )


@platform.command("list")
def platform_list() -> None:
    """List registered platforms: tenant, issuer, client id, deployments."""
    app = build_app()
    with app_transaction(app) as session:
        rows = [
            (
                t.slug,
                t.issuer,
                t.client_id,
                ",".join(d.deployment_id for d in t.deployments) or "-",
                "active" if t.active else "removed",
            )
            for t in platforms.list_platforms(session)
        ]
    if not rows:
        click.echo("no platforms registered")
    for row in rows:
        click.echo("\t".join(str(value) for value in row))


@platform.command("remove")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
def platform_remove(issuer: str, client_id: str) -> None:
    """Unregister a platform: its launches are refused; its members and programmes stay."""
    app = build_app()
    try:
        with app_transaction(app) as session:
            tenant = platforms.remove_platform(session, issuer, client_id)
            slug = tenant.slug
    except RegistrationError as exc:
        fail(str(exc))
    click.echo(f"removed {issuer} (client id {client_id}); tenant {slug!r} kept, inactive")


@keys.command("rotate")
def keys_rotate() -> None:
    """Make a new active RSA key for signing; the old one stays published for 7 days."""
    app = build_app()
    with app_transaction(app) as session:
        key = platforms.rotate_key(session, app.extensions["tandem.secrets"])
        kid = key.kid
    click.echo(f"new active key {kid}; retired keys stay in /lti/jwks for 7 days")
