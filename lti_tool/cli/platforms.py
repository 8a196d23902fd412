"""``tandem platform add|list|remove|invite`` and ``tandem keys rotate``."""

from __future__ import annotations

import re
from datetime import timedelta

import click
from flask import url_for

import platforms
from platforms import PlatformSettings, RegistrationError

from ..urls import url_context
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
    """Register a platform: one issuer and client id, with its deployments.

    A removed platform's issuer and client id can only come back this way (restored with
    its members and programmes); dynamic registration never restores one.
    """
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
            restored = platforms.find_registration(session, settings.issuer, settings.client_id)
            tenant = platforms.add_platform(session, settings, restore_removed=True)
            slug, count = tenant.slug, len(tenant.deployments)
    except RegistrationError as exc:
        fail(str(exc))
    verb = "restored removed" if restored is not None else "registered"
    click.echo(f"{verb} {issuer} (client id {client_id}) as tenant {slug!r}, {count} deployment(s)")


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


_DURATION = re.compile(r"^(\d+)([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def _duration(value: str) -> timedelta:
    match = _DURATION.match(value.strip().lower())
    if match is None:
        raise click.BadParameter("give a number and d, h or m, e.g. 7d or 12h")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


@platform.command("invite")
@click.option("--name", default=None, help="A name to show for the platform it registers.")
@click.option(
    "--expires", default="7d", show_default=True, help="How long the link lives: 7d, 12h, 30m."
)
def platform_invite(name: str | None, expires: str) -> None:
    """Print a single-use registration URL for an LMS's LTI Dynamic Registration.

    Paste it into Moodle (Site administration > Plugins > External tool > Manage tools >
    Tool URL) or Canvas (Developer Keys > LTI Registration). It works once, until it
    expires; only its digest is stored.
    """
    lifetime = _duration(expires)
    app = build_app()
    base = (app.config.get("TANDEM_BASE_URL") or "").rstrip("/")
    if not base:
        fail("TANDEM_BASE_URL is not set: the invite must name the address LMSs reach Tandem at")
    try:
        with app_transaction(app) as session:
            token = platforms.create_invite(session, name=name, lifetime=lifetime)
    except ValueError as exc:
        fail(str(exc))
    with url_context(app):
        path = url_for("lti.register", invite=token)
    click.echo(f"{base}{path}")
    click.echo(f"single use, valid for {expires}", err=True)


@keys.command("rotate")
def keys_rotate() -> None:
    """Make a new active RSA key for signing; the old one stays published for 7 days."""
    app = build_app()
    with app_transaction(app) as session:
        key = platforms.rotate_key(session, app.extensions["tandem.secrets"])
        kid = key.kid
    click.echo(f"new active key {kid}; retired keys stay in /lti/jwks for 7 days")
