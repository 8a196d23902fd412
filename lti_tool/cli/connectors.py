"""``tandem connector add|list|test`` and ``tandem sync NAME`` (``tandem import`` is in imports)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

import records
from connectors import (
    DEFAULT_BATCH_SIZE,
    ConnectorError,
    SyncFailed,
    build_connector,
    phases_for,
    sync,
)
from connectors.configs import add_config, get_config, list_configs, resolve_tenant
from connectors.scheduled import queue_sync, running_since, set_schedule
from records import DecryptionError, SecretBox

from . import members  # noqa: F401  (registers `tandem member`)
from .base import app_transaction, build_app, fail, main, read_only_transaction

TENANT_OPTION = click.option("--tenant", "tenant_slug", help="Tenant slug (needed if several).")


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"cannot read {what} {path}: {exc.strerror}")
    except json.JSONDecodeError as exc:
        fail(f"{what} {path} is not JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}")
    if not isinstance(value, dict):
        fail(f"{what} {path} must hold a JSON object")
    return value


def _box(app: Any) -> SecretBox:
    return app.extensions["tandem.secrets"]


@main.group()
def connector() -> None:
    """Connect a member directory or LMS (Moodle, Canvas, a REST directory)."""


@connector.command("add")
@click.argument("kind", type=click.Choice(["moodle", "canvas", "rest"]))
@click.argument("name")
@click.option("--url", required=True, help="The site's base URL, e.g. https://moodle.example.org")
@click.option(
    "--token",
    envvar="TANDEM_CONNECTOR_TOKEN",
    help="Web-service token, API key or client secret (or TANDEM_CONNECTOR_TOKEN).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="JSON settings (required for rest: auth, pagination, field mapping...).",
)
@TENANT_OPTION
def connector_add(
    kind: str,
    name: str,
    url: str,
    token: str | None,
    config_file: Path | None,
    tenant_slug: str | None,
) -> None:
    """Store a connector; the token is encrypted at rest and never printed."""
    settings = _read_json(config_file, "config file") if config_file else {}
    if kind in ("moodle", "canvas") and not token:
        fail(f"{kind} needs --token (or TANDEM_CONNECTOR_TOKEN)")
    if kind == "rest":
        if not config_file:
            fail("rest needs --config FILE describing auth, pagination and the field mapping")
        try:
            # Build once to validate the file now rather than at the first sync.
            build_connector(kind, url, token, settings).close()
        except ConnectorError as exc:
            fail(f"config file {config_file}: {exc}")
    app = build_app()
    try:
        with app_transaction(app) as session:
            tenant = resolve_tenant(session, tenant_slug)
            add_config(
                session,
                _box(app),
                tenant.id,
                kind=kind,
                name=name,
                base_url=url,
                token=token,
                settings=settings,
            )
            slug = tenant.slug
    except ConnectorError as exc:
        fail(str(exc))
    click.echo(f"added {kind} connector {name!r} to tenant {slug} (token stored encrypted)")


@connector.command("list")
@TENANT_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def connector_list(tenant_slug: str | None, as_json: bool) -> None:
    """List connectors with their last run; never their secrets."""
    with read_only_transaction() as session:
        tenant_id = None
        if tenant_slug:
            try:
                tenant_id = resolve_tenant(session, tenant_slug).id
            except ConnectorError as exc:
                fail(str(exc))
        rows = list_configs(session, tenant_id)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no connectors yet: add one with `tandem connector add`")
    for row in rows:
        click.echo(
            f"{row['tenant']}/{row['name']}  {row['kind']}  {row['url'] or '-'}  "
            f"last run: {row['last_run'] or 'never'}  since: {row['since'] or '-'}"
        )


def _load(app: Any, tenant_slug: str | None, name: str, **http: Any) -> tuple[Any, Any, Any]:
    """The tenant, the config and a built connector, or a clean failure."""
    try:
        with app_transaction(app) as session:
            tenant = resolve_tenant(session, tenant_slug)
            config = get_config(session, tenant.id, name)
            assert config is not None
            secret = _box(app).decrypt(config.secret_encrypted) if config.secret_encrypted else None
            built = build_connector(
                config.kind, config.base_url or "", secret, config.settings or {}, **http
            )
            return tenant, config, built
    except (ConnectorError, DecryptionError) as exc:
        fail(str(exc))


@connector.command("test")
@click.argument("name")
@TENANT_OPTION
def connector_test(name: str, tenant_slug: str | None) -> None:
    """Check the token, functions, permissions and host; say plainly what is wrong."""
    app = build_app()
    _tenant, config, source = _load(app, tenant_slug, name, max_retries=1)
    try:
        check = getattr(source, "check", None)
        lines = check() if check else ["nothing to check"]
    except ConnectorError as exc:
        fail(f"{config.name}: {exc}")
    finally:
        source.close()
    for line in lines:
        click.echo(f"ok: {line}")
    click.echo(f"{config.name}: ready to sync")


class _Progress:
    """A one-line progress display on stderr (the summary alone goes to stdout)."""

    def __init__(self) -> None:
        self.phase: str | None = None

    def __call__(self, phase: str, done: int) -> None:
        if phase != self.phase and self.phase is not None:
            click.echo("", err=True)
        self.phase = phase
        click.echo(f"\r  {phase}: {done:,} processed", err=True, nl=False)

    def end(self) -> None:
        if self.phase is not None:
            click.echo("", err=True)


@main.command("sync")
@click.argument("name")
@click.option("--full", is_flag=True, help="Fetch everything; deactivate members not seen.")
@click.option("--dry-run", is_flag=True, help="Count only; write nothing but the run record.")
@click.option("--strict", is_flag=True, help="Stop at the first invalid row.")
@click.option(
    "--batch-size", default=DEFAULT_BATCH_SIZE, show_default=True, type=click.IntRange(1, 10_000)
)
@click.option("--queue", "queued", is_flag=True, help="Queue it for `tandem worker` instead.")
@TENANT_OPTION
def sync_command(
    name: str,
    full: bool,
    dry_run: bool,
    strict: bool,
    batch_size: int,
    tenant_slug: str | None,
    queued: bool,
) -> None:
    """Sync a connector: members, courses, enrolments, learning records.

    One sync of a connector at a time: a sync already queued or running (on any host)
    is reported, not doubled.
    """
    app = build_app()
    if queued:
        _queue_sync(app, tenant_slug, name, full=full)
        return
    tenant, config, source = _load(app, tenant_slug, name)
    with app_transaction(app) as session:
        since = running_since(session, tenant.id, config.id)
    if since is not None:
        source.close()
        fail(f"sync {name} is already running since {since:%H:%M} (UTC)")
    progress = _Progress()
    try:
        result = sync(
            records.get_database(app),
            tenant.id,
            config.id,
            source,
            full=full,
            dry_run=dry_run,
            strict=strict,
            batch_size=batch_size,
            match_email=bool((config.settings or {}).get("match_email", True)),
            phases=phases_for(config.kind, config.settings or {}),
            progress=progress,
        )
    except SyncFailed as exc:
        progress.end()
        done = exc.result
        fail(
            f"sync {name} failed: {exc} (kept: added {done.added}, updated {done.updated}; "
            "the cursor did not move, the next run resumes)"
        )
    progress.end()
    click.echo(f"sync {name}: {result.summary()}")
    for error in result.errors[:20]:
        click.echo(f"  failed {error['source_id']}: {error['reason']}", err=True)
    if len(result.errors) > 20:
        click.echo(f"  ... and {result.failed - 20} more (see the sync run record)", err=True)


def _queue_sync(app: Any, tenant_slug: str | None, name: str, *, full: bool) -> None:
    try:
        with app_transaction(app) as session:
            tenant = resolve_tenant(session, tenant_slug)
            config = get_config(session, tenant.id, name)
            assert config is not None
            since = queue_sync(session, tenant.id, config.id, full=full)
    except ConnectorError as exc:
        fail(str(exc))
    if since is not None:
        fail(f"sync {name} is already running since {since:%H:%M} (UTC)")
    click.echo(f"sync {name} queued; `tandem worker` runs it (`tandem jobs list` shows it)")


_UNITS = {"m": 60, "h": 3600, "d": 86400}


def _interval(value: str) -> int | None:
    value = value.strip().lower()
    if value == "off":
        return None
    number, unit = value[:-1], value[-1:]
    if unit not in _UNITS or not number.isdigit() or int(number) == 0:
        raise click.BadParameter(f"{value!r}: use a number and m, h or d (e.g. 6h), or off")
    return int(number) * _UNITS[unit]


@connector.command("schedule")
@click.argument("name")
@click.option("--every", required=True, help="How often: 30m, 6h, 1d; or off.")
@TENANT_OPTION
def connector_schedule(name: str, every: str, tenant_slug: str | None) -> None:
    """Sync NAME on a schedule kept in Tandem (a running `tandem worker` queues it).

    Cron calling `tandem sync NAME` remains an alternative.
    """
    seconds = _interval(every)
    app = build_app()
    try:
        with app_transaction(app) as session:
            tenant = resolve_tenant(session, tenant_slug)
            config = get_config(session, tenant.id, name)
            assert config is not None
            set_schedule(config, timedelta(seconds=seconds) if seconds else None)
    except ConnectorError as exc:
        fail(str(exc), 2)
    if seconds is None:
        click.echo(f"{name}: no scheduled syncs")
    else:
        click.echo(f"{name}: synced every {every.strip().lower()} by `tandem worker`")
