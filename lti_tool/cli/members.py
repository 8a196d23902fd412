"""``tandem member list|export|erase|requests|sign-out``."""

from __future__ import annotations

import getpass
import json

import click

import programmes
from connectors import ConnectorError
from connectors.configs import resolve_tenant
from members import end_member_sessions, list_members
from programmes import ErasureResult, ProgrammeError
from records import Member

from ..ids import MAX_ID
from .base import DryRun, app_transaction, build_app, fail, main, read_only_transaction


@main.group()
def member() -> None:
    """Members and what Tandem holds about them."""


@member.command("list")
@click.option("--tenant", "tenant_slug", help="Tenant slug (needed if several).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--active", is_flag=True, help="Only active members.")
def member_list(tenant_slug: str | None, as_json: bool, active: bool) -> None:
    """List the tenant's members and their accounts (source and external id)."""
    try:
        with read_only_transaction() as session:
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
            f"{', '.join(a['source'] + ':' + a['external_id'] for a in row['accounts'])}{state}"
        )


@member.command("export")
@click.argument("member_id", type=int)
@click.option("--tenant", "tenant_slug", help="Tenant slug (needed if several).")
def member_export(member_id: int, tenant_slug: str | None) -> None:
    """Print everything Tandem holds about one member as JSON (what their My data page
    downloads): profile, identities, courses, learning, programmes, pairs, meetings, notes,
    surveys, flags, erasure requests."""
    app = build_app()
    try:
        with app_transaction(app) as session:
            tenant = resolve_tenant(session, tenant_slug)
            exported = programmes.member_data(session, tenant.id, member_id)
    except ConnectorError as exc:
        fail(str(exc))
    except programmes.NotFoundError:
        fail(f"no member {member_id} in tenant {tenant.slug}")
    click.echo(json.dumps(exported, indent=2))


@member.command("erase")
@click.argument("member_id", type=int, required=False)
@click.option("--source", help="Find the member by an account instead: SOURCE:ID, e.g. moodle:42.")
@click.option("--tenant", "tenant_slug", help="Tenant slug (needed if several).")
@click.option("--dry-run", is_flag=True, help="Print what would go, by table; change nothing.")
@click.option(
    "--operator",
    default=None,
    help="Who carries it out, for the audit row (default: your login name).",
)
def member_erase(
    member_id: int | None,
    source: str | None,
    tenant_slug: str | None,
    dry_run: bool,
    operator: str | None,
) -> None:
    """Erase a member's data, irreversibly, in one transaction.

    Running pairs end first and the coordinator is told; partners then see "a former
    member", programme figures keep their counts, the evaluation keeps anonymous rows.
    """
    operator = operator or _login_name()
    app = build_app()
    try:
        with app_transaction(app) as session:
            tenant = resolve_tenant(session, tenant_slug)
            found = programmes.find_member_to_erase(
                session, tenant.id, member_id=member_id, source=source
            )
            member_id = found.id
            result = programmes.erase_member(session, tenant.id, found.id, operator=operator)
            if dry_run:
                raise DryRun(result)
    except DryRun as run:
        _print_counts(run.result)
        click.echo(f"dry run: member {member_id} would be erased; nothing was changed")
        return
    except programmes.AlreadyErasedError as exc:
        # Idempotent: erasing twice is not a failure.
        click.echo(f"tandem: {exc}")
        return
    except (ConnectorError, ProgrammeError) as exc:
        fail(str(exc))
    _print_counts(result)
    ended = f"; ended pair(s) {', '.join(map(str, result.ended_matches))} and told the " \
        "coordinator" if result.ended_matches else ""  # fmt: skip
    click.echo(f"erased member {member_id}{ended}")


def _login_name() -> str:
    try:
        return f"command line ({getpass.getuser()})"
    except (OSError, KeyError):  # no login name in some containers
        return "command line"


def _print_counts(result: ErasureResult) -> None:
    for table, n in sorted(result.counts.items()):
        click.echo(f"{table:<20} {n:>6}")
    click.echo(f"{'total':<20} {result.total:>6}")


@member.command("requests")
@click.option("--tenant", "tenant_slug", help="Tenant slug (needed if several).")
def member_requests(tenant_slug: str | None) -> None:
    """List pending erasure requests, with any coordinator's note."""
    app = build_app()
    try:
        with app_transaction(app) as session:
            tenant = resolve_tenant(session, tenant_slug)
            rows = programmes.pending_requests(session, tenant.id)
    except ConnectorError as exc:
        fail(str(exc))
    if not rows:
        click.echo("no pending erasure requests")
    for row in rows:
        note = f"  note: {row.coordinator_note}" if row.coordinator_note else ""
        click.echo(
            f"{row.member_id:>6}  {row.member_name}  requested {row.requested_at:%Y-%m-%d}{note}"
            f"  -> tandem member erase {row.member_id} --tenant {tenant.slug}"
        )


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
