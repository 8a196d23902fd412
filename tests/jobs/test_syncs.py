"""Connector syncs as jobs: one at a time per connector, schedules kept in Tandem."""

from __future__ import annotations

from datetime import timedelta

import pytest
import responses
from flask import Flask
from sqlalchemy import select

import jobs
import records
from connectors.scheduled import QUEUE_DUE, SCHEDULE_KEY, queue_sync
from records import ConnectorConfig, Member, SyncRun, Tenant, utcnow
from tests.connectors.test_moodle import ENDPOINT, URL, moodle_site
from tests.support.jobs import run_jobs


@pytest.fixture
def site(app: Flask, cli) -> int:  # type: ignore[no-untyped-def]
    with app.app_context(), records.get_database(app).transaction() as session:
        session.add(Tenant(slug="assoc", name="Association"))
    added = cli(["connector", "add", "moodle", "site", "--url", URL, "--token", "s3cret-tok"])
    assert added.exit_code == 0, added.output
    with app.app_context(), records.get_database(app).transaction() as session:
        return session.scalars(select(ConnectorConfig.id)).one()


def members(app: Flask) -> int:
    with app.app_context(), records.get_database(app).transaction() as session:
        return len(session.scalars(select(Member)).all())


@responses.activate
def test_a_second_sync_request_says_since_when_one_is_running(
    app: Flask, cli, site: int, backend: str
) -> None:
    responses.add_callback(responses.POST, ENDPOINT, callback=moodle_site([]))
    first = cli(["sync", "site", "--queue"])
    assert first.exit_code == 0, first.output
    assert "sync site queued" in first.output
    if backend == "postgresql":
        # Queued for the workers: a second request, queued or here, is told since when.
        for args in (["sync", "site", "--queue"], ["sync", "site"]):
            second = cli(args)
            assert second.exit_code == 1
            assert second.output.strip().startswith("tandem: sync site is already running since ")
            assert second.output.strip().endswith(" (UTC)")
        run_jobs(app)
    assert members(app) == 2  # the Moodle site's two users
    again = cli(["sync", "site", "--queue"])  # idle again: accepted
    assert again.exit_code == 0, again.output


@responses.activate
def test_a_shell_sync_in_progress_holds_off_queued_ones(app: Flask, site: int) -> None:
    with app.app_context(), records.get_database(app).transaction() as session:
        tenant_id = session.scalars(select(Tenant.id)).one()
        session.add(SyncRun(tenant_id=tenant_id, connector_id=site, started_at=utcnow()))
    with app.app_context(), records.get_database(app).transaction() as session:
        since = queue_sync(session, tenant_id, site)
    assert since is not None and utcnow() - since < timedelta(minutes=1)


def test_schedule_is_kept_and_due_syncs_are_queued(
    app: Flask, cli, site: int, backend: str
) -> None:
    assert cli(["connector", "schedule", "site", "--every", "6h"]).exit_code == 0
    with app.app_context(), records.get_database(app).transaction() as session:
        config = session.get(ConnectorConfig, site)
        assert config.settings[SCHEDULE_KEY] == 6 * 3600
    for bad, message in (("5x", "use a number and m, h or d"), ("10m", "at most every 0:15:00")):
        result = cli(["connector", "schedule", "site", "--every", bad])
        assert result.exit_code == 2 and message in result.output, result.output
    runtime = app.extensions["tandem.jobs"]
    if backend == "postgresql":
        assert jobs.run_job(runtime, QUEUE_DUE, {}) == 1  # never synced: due now
        assert jobs.run_job(runtime, QUEUE_DUE, {}) == 0  # already queued
        with app.app_context(), records.get_database(app).transaction() as session:
            assert [j.task for j in jobs.list_jobs(session)] == ["connectors.sync"]
    assert cli(["connector", "schedule", "site", "--every", "off"]).exit_code == 0
    assert jobs.run_job(runtime, QUEUE_DUE, {}) == 0
