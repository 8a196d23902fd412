"""``tandem import members FILE.csv --mapping MAP.json``: a spreadsheet through the sync path.

The whole file is validated before anything is written; with bad rows nothing is
imported unless ``--skip-bad-rows``. Imports are recorded under a stored ``csv``
connector (``--name``, default ``csv-import``), created on the first import, so each
one leaves a SyncRun with its counts and errors and shows in ``tandem connector list``.
"""

from __future__ import annotations

from pathlib import Path

import click

import records
from connectors import ConnectorError, SyncFailed, sync
from connectors.configs import add_config, get_config, resolve_tenant
from connectors.csvfile import CsvConnector, check_file, decode, load_mapping
from records import utcnow

from .base import app_transaction, build_app, fail, main
from .connectors import TENANT_OPTION, _box, _Progress, _read_json


@main.group("import")
def import_group() -> None:
    """Import members from a file."""


@import_group.command("members")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--mapping",
    "mapping_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="JSON: which column is which member field (see the README).",
)
@TENANT_OPTION
@click.option("--skip-bad-rows", is_flag=True, help="Import the good rows; list the bad ones.")
@click.option("--dry-run", is_flag=True, help="Count only; write nothing but the run record.")
@click.option(
    "--full",
    is_flag=True,
    help="The file lists every member: deactivate this source's members missing from it.",
)
@click.option(
    "--name",
    default="csv-import",
    show_default=True,
    help="The csv connector the import is recorded under.",
)
def import_members(
    file: Path,
    mapping_file: Path,
    tenant_slug: str | None,
    skip_bad_rows: bool,
    dry_run: bool,
    full: bool,
    name: str,
) -> None:
    """Import members from FILE (CSV) after validating every row."""
    settings = _read_json(mapping_file, "mapping file")
    try:
        mapping = load_mapping(settings)
    except ConnectorError as exc:
        fail(f"mapping file {mapping_file}: {exc}")
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    try:
        text = decode(data, mapping, file.name)
        check = check_file(text, mapping, file.name)
    except ConnectorError as exc:
        fail(f"{exc}; nothing imported")
    for bad in check.bad:
        click.echo(f"  line {bad.line}: {bad.reason}", err=True)
    if check.bad and not skip_bad_rows:
        fail(
            f"{file.name}: {len(check.bad)} of {check.rows} rows are bad; nothing imported "
            "(fix them, or pass --skip-bad-rows to import the other rows)"
        )

    app = build_app()
    try:
        with app_transaction(app) as session:
            tenant = resolve_tenant(session, tenant_slug)
            config = get_config(session, tenant.id, name, missing_ok=True)
            if config is None:
                config = add_config(
                    session,
                    _box(app),
                    tenant.id,
                    kind="csv",
                    name=name,
                    base_url=None,
                    token=None,
                    settings=settings,
                )
                # A file is always read whole, so the cursor only decides whether a run
                # reconciles. Without one the first import would count as full and
                # deactivate this source's members that another file brought in.
                config.cursor = {"since": utcnow().isoformat()}
            elif config.kind != "csv":
                fail(f"connector {name!r} is a {config.kind} connector; pick another --name")
            else:
                config.settings = settings  # the mapping the latest import used
            tenant_id, config_id = tenant.id, config.id
    except ConnectorError as exc:
        fail(str(exc))

    progress = _Progress()
    try:
        result = sync(
            records.get_database(app),
            tenant_id,
            config_id,
            CsvConnector(text, mapping, file.name),
            full=full,
            dry_run=dry_run,
            match_email=bool(settings.get("match_email", True)),
            phases=("members",),
            progress=progress,
        )
    except SyncFailed as exc:
        progress.end()
        fail(f"import of {file.name} failed: {exc} (kept: added {exc.result.added})")
    progress.end()
    click.echo(f"import {file.name}: {result.summary()}")
    linked = [e for e in result.errors if not e["source_id"].startswith("line ")]
    for error in linked[:20]:
        click.echo(f"  failed {error['source_id']}: {error['reason']}", err=True)
    if check.bad:
        click.echo(f"  skipped {len(check.bad)} bad rows (listed above)", err=True)
