"""``tandem tenant add|list|set``: tenants without an LMS, and each tenant's privacy policy;
``tandem retention apply``: that policy carried out."""

from __future__ import annotations

import click

import members
from checkins import apply_retention
from members import TenantError

from .base import DryRun, app_transaction, build_app, fail, main


@main.group()
def tenant() -> None:
    """Tenants (associations): add one before any LMS, list them, set their policies."""


@tenant.command("add")
@click.argument("name")
@click.option("--slug", help="Short id used by --tenant options (default: made from NAME).")
def tenant_add(name: str, slug: str | None) -> None:
    """Add tenant NAME with no LMS yet: a directory connector or portal can come first."""
    app = build_app()
    try:
        with app_transaction(app) as session:
            added = members.add_tenant(session, name, slug=slug)
            slug = added.slug
    except TenantError as exc:
        fail(str(exc))
    click.echo(f"added tenant {slug!r} ({name.strip()}); next: tandem connector add ... "
               f"--tenant {slug}")  # fmt: skip


@tenant.command("list")
def tenant_list() -> None:
    """List tenants: slug, name, LMS issuer, members, retention, privacy contact."""
    app = build_app()
    with app_transaction(app) as session:
        rows = members.list_tenants(session)
    if not rows:
        click.echo("no tenants yet: tandem tenant add NAME")
    for row in rows:
        p = row.privacy
        click.echo(
            "\t".join(
                (
                    row.slug,
                    row.name,
                    row.issuer or "(no LMS)",
                    "active" if row.active else "removed",
                    f"{row.members} members",
                    f"closed pairs' notes {p.retain_closed_months} months",
                    f"audit {p.audit_retain_months} months",
                    p.privacy_contact or "(no privacy contact)",
                )
            )
        )


@tenant.command("set")
@click.argument("name")
@click.option(
    "--retain-closed-months",
    type=int,
    help="Delete private notes and free text of pairs closed longer ago than this (default 24).",
)
@click.option(
    "--audit-retain-months", type=int, help="Delete audit rows older than this (default 24)."
)
@click.option("--association-name", help="The association's name on the privacy page.")
@click.option("--privacy-contact", help="Who members ask about their data: an email or https URL.")
@click.option(
    "--default-locale",
    help="Language of pages and mail when neither the LMS nor the browser says (e.g. fr, fr-CA).",
)
def tenant_set(
    name: str,
    retain_closed_months: int | None,
    audit_retain_months: int | None,
    association_name: str | None,
    privacy_contact: str | None,
    default_locale: str | None,
) -> None:
    """Set tenant NAME's (slug or name) retention, privacy-page and language settings."""
    app = build_app()
    try:
        with app_transaction(app) as session:
            found = members.find_tenant(session, name)
            slug = found.slug
            now = members.set_tenant_settings(
                session, found,
                retain_closed_months=retain_closed_months,
                audit_retain_months=audit_retain_months,
                association_name=association_name,
                privacy_contact=privacy_contact,
                default_locale=default_locale,
            )  # fmt: skip
            language = members.tenant_default_locale(found) or "en"
    except TenantError as exc:
        fail(str(exc))
    click.echo(
        f"tenant {slug!r}: closed pairs' notes kept {now.retain_closed_months} months, audit "
        f"rows {now.audit_retain_months} months; privacy page names {now.association_name!r}, "
        f"contact {now.privacy_contact or '(none)'}; default language {language}"
    )


@main.group()
def retention() -> None:
    """Delete what each tenant's retention settings say is kept no longer."""


@retention.command("apply")
@click.option("--tenant", "name", help="Only this tenant (slug or name); default: all.")
@click.option("--dry-run", is_flag=True, help="Print what would go, by table; change nothing.")
def retention_apply(name: str | None, dry_run: bool) -> None:
    """Empty free text of pairs closed too long ago and delete old audit rows (nightly)."""
    app = build_app()
    try:
        with app_transaction(app) as session:
            tenant_id = members.find_tenant(session, name).id if name else None
            counts = apply_retention(session, tenant_id=tenant_id)
            if dry_run:
                raise DryRun(counts)
    except DryRun as run:
        counts = run.result
    except TenantError as exc:
        fail(str(exc))
    for table, n in sorted(counts.items()):
        click.echo(f"{table:<20} {n:>6}")
    total = sum(counts.values())
    if dry_run:
        click.echo(f"dry run: {total} row(s) would change; nothing was changed")
    else:
        click.echo(f"retention applied: {total} row(s) changed")
