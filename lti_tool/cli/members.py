"""``tandem member list``, ``tandem member export ID`` and ``tandem member sign-out ID``."""

from __future__ import annotations

import json

import click

from connectors import ConnectorError
from connectors.configs import resolve_tenant
from members import end_member_sessions, export_member, list_members
from records import Member

from ..ids import MAX_ID
from .base import app_transaction, build_app, fail, main


@main.group()
def member() -> None:
    """Members and what Tandem holds about them."""


@member.command("list")
@click.option("--tenant", "tenant_slug", help="Tenant slug (needed if several).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--active", is_flag=True, help="Only active members.")
def member_list(tenant_slug: str | None, as_json: bool, active: bool) -> None:
    """List the tenant's members and the sources each is known in."""
    app = build_app()
    try:
        with app_transaction(app) as session:
            tenant = resolve_tenant(session, tenant_slug)
            rows = list_members(session, tenant.id, active_only=active)
    except ConnectorError as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        state = "" if row["active"] else "  (inactive)"
        click.echo(
            f"{row['id']:>6}  {row['name']}  {row['email'] or '-'}  "
            f"{','.join(row['sources'])}{state}"
        )


@member.command("export")
@click.argument("member_id", type=int)
@click.option("--tenant", "tenant_slug", help="Tenant slug (needed if several).")
def member_export(member_id: int, tenant_slug: str | None) -> None:
    """Print one member as JSON: identities, enrolments, learning records, programmes."""
    app = build_app()
    try:
        with app_transaction(app) as session:
            tenant = resolve_tenant(session, tenant_slug)
            exported = export_member(session, tenant.id, member_id)
    except ConnectorError as exc:
        fail(str(exc))
    if exported is None:
        fail(f"no member {member_id} in tenant {tenant.slug}")
    click.echo(json.dumps(exported, indent=2))


@member.command("sign-out")
@click.argument("member_id", type=click.IntRange(min=1))
@click.option("--tenant", "tenant_slug", help="Tenant slug (needed if several).")
def member_sign_out(member_id: int, tenant_slug: str | None) -> None:
    """End every session of a member at once, on every browser (e.g. a lost laptop)."""
    app = build_app()
    try:
        with app_transaction(app) as session:
            tenant = resolve_tenant(session, tenant_slug)
            found = member_id <= MAX_ID and session.get(Member, member_id)
            if not found or found.tenant_id != tenant.id:
                fail(f"no member {member_id} in tenant {tenant.slug}")
            ended = end_member_sessions(session, tenant.id, member_id)
    except ConnectorError as exc:
        fail(str(exc))
    click.echo(f"member {member_id}: ended {ended} session(s)")
