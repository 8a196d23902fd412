"""``tandem demo``, ``tandem serve``, ``tandem db ...`` and ``tandem keys encryption-key``."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import click
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

import outbound
import platforms
import records
from checkins.demo import seed_credentials, seed_milestones
from programmes import seed_demo
from programmes.demo_data import seed_readiness
from records import ConfigurationError, DecryptionError, Tenant, migrate
from records.rotation import rotate_secrets

from .. import config as tandem_config
from ..urls import external_url, url_context
from .base import EXIT_CONFIG, app_transaction, build_app, fail, main


def _reason(exc: SQLAlchemyError) -> str:
    """The driver's error class, which says what failed without echoing credentials."""
    return type(getattr(exc, "orig", None) or exc).__name__


def _database_url() -> str:
    url = tandem_config.config_from_env().get("TANDEM_DATABASE_URL")
    if url:
        return url
    folder = tandem_config.instance_path()
    folder.mkdir(parents=True, exist_ok=True)
    return tandem_config.default_database_url(folder)


def _engine(url: str):  # type: ignore[no-untyped-def]
    try:
        return records.make_engine(url)
    except ConfigurationError as exc:
        fail(str(exc), EXIT_CONFIG)


def _upgrade(engine) -> tuple[str | None, str | None]:  # type: ignore[no-untyped-def]
    try:
        before = migrate.current_revision(engine)
        migrate.upgrade(engine)
        return before, migrate.current_revision(engine)
    except SQLAlchemyError as exc:
        fail(f"cannot reach or migrate the database: {_reason(exc)}")


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the database (TANDEM_DATABASE_URL) to the newest schema; safe to run twice."""
    engine = _engine(_database_url())
    before, after = _upgrade(engine)
    where = engine.url.render_as_string(hide_password=True)
    if before == after:
        click.echo(f"{where}: already at revision {after}")
    else:
        click.echo(f"{where}: upgraded from {before or 'an empty database'} to {after}")
    engine.dispose()


@db.command("current")
def db_current() -> None:
    """Print the database's schema revision and the newest one the code knows."""
    engine = _engine(_database_url())
    try:
        current = migrate.current_revision(engine)
    except SQLAlchemyError as exc:
        fail(f"cannot reach the database: {_reason(exc)}")
    click.echo(f"current: {current or 'empty'}; head: {migrate.head_revision()}")
    engine.dispose()


@db.command("rotate-secrets")
def db_rotate_secrets() -> None:
    """Re-encrypt stored secrets under the first key of TANDEM_ENCRYPTION_KEY.

    Put the new key first (new,old), run this, then drop the old key.
    """
    app = build_app()
    try:
        with app_transaction(app) as session:
            count = rotate_secrets(session, app.extensions["tandem.secrets"])
    except DecryptionError as exc:
        fail(f"{exc}; nothing was changed")
    click.echo(f"re-encrypted {count} secret(s) under the first key")


@main.group()
def keys() -> None:
    """Key commands."""


@keys.command("encryption-key")
def keys_encryption_key() -> None:
    """Print a new key for TANDEM_ENCRYPTION_KEY."""
    click.echo(records.generate_key())


def _demo_settings(folder: Path) -> dict[str, str]:
    """Development secrets kept in the instance folder, so restarts can still decrypt."""
    path = folder / "demo-config.json"
    if path.exists():
        return json.loads(path.read_text())
    settings = {
        "SECRET_KEY": tandem_config.DEMO_SECRET_PREFIX + secrets.token_urlsafe(32),
        "TANDEM_ENCRYPTION_KEY": records.generate_key(),
    }
    path.write_text(json.dumps(settings, indent=2))
    path.chmod(0o600)
    return settings


def seed_full_demo(app: Flask, session: Session) -> Tenant:
    """Everything ``tandem demo`` shows (idempotent); returns the demo tenant.

    The programme and its members, readiness (some mentors ready and some not), the
    running cohort's milestones and each member's first one issued as a credential.
    The accessibility crawl starts from the same data, so it sees every kind of page.
    """
    tenant = seed_demo(session)
    seed_readiness(session, tenant)
    seed_milestones(session, tenant.id)
    box = app.extensions["tandem.secrets"]
    with url_context(app):
        issuer = external_url("credentials.issuer", tenant_id=tenant.id)
    seed_credentials(
        session, tenant.id, issuer, lambda claims: platforms.sign_claims(session, box, claims)
    )
    return tenant


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Set up the demo database, then exit.")
def demo(host: str, port: int, no_serve: bool) -> None:
    """Start Tandem on SQLite with a demo programme (development only)."""
    # The Demo LMS and any local Moodle answer over plain http on loopback: development.
    os.environ[outbound.INSECURE_SWITCH] = "1"
    folder = tandem_config.instance_path()
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'tandem-demo.sqlite3'}"
    engine = _engine(url)
    _upgrade(engine)
    engine.dispose()
    app = build_app(
        {
            **_demo_settings(folder),
            "TANDEM_DATABASE_URL": url,
            "TANDEM_DEMO": True,
            "INSTANCE_PATH": str(folder),
            "TANDEM_BASE_URL": f"http://{host}:{port}",
            # The demo runs on plain http at a loopback address: development only.
            "TANDEM_ALLOW_INSECURE_URLS": True,
            "TANDEM_JOBS_LOCAL": "thread",
        }
    )
    with app_transaction(app) as session:
        seed_full_demo(app, session)
    if no_serve:
        click.echo(f"demo database ready at {folder / 'tandem-demo.sqlite3'}")
        return
    click.echo(f"Tandem demo on http://{host}:{port}/  (Ctrl-C stops it)")
    app.run(host=host, port=port, debug=False, use_reloader=False)


@main.command()
@click.option("--bind", default="127.0.0.1:8000", show_default=True, help="Address to listen on.")
@click.option("--workers", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option("--timeout", default=60, show_default=True, type=int, help="Worker timeout (s).")
@click.option("--with-worker", is_flag=True, help="Also run queued jobs in each web worker.")
def serve(bind: str, workers: int, timeout: int, with_worker: bool) -> None:
    """Serve Tandem for real under gunicorn. Needs TANDEM_BASE_URL (https),
    TANDEM_SECRET_KEY and TANDEM_ENCRYPTION_KEY, and a database brought up to date with
    `tandem db upgrade`.

    On SQLite, jobs (roster imports, mail) run in a background thread of each web
    worker; on PostgreSQL, `tandem worker` runs them, or `--with-worker` here.
    """
    from ..server import TandemServer

    # SQLite has no queue: jobs run on a thread, so requests answer at once.
    app = build_app({"TANDEM_JOBS_LOCAL": "thread"})
    try:
        tandem_config.require_base_url(app.config)
    except ConfigurationError as exc:
        fail(str(exc), EXIT_CONFIG)
    database = records.get_database(app)
    try:
        current = migrate.current_revision(database.engine)
    except SQLAlchemyError as exc:
        fail(f"cannot reach the database: {_reason(exc)}")
    if current != migrate.head_revision():
        fail(
            f"the database is at revision {current or 'empty'}, the code needs "
            f"{migrate.head_revision()}: run `tandem db upgrade` first",
            EXIT_CONFIG,
        )
    database.engine.dispose()
    options = {"bind": bind, "workers": workers, "timeout": timeout, "preload_app": True}
    TandemServer(app, options, with_worker=with_worker).run()
