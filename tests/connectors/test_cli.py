"""The command line: add (token encrypted, never printed), list, test, sync, member list/export."""

from __future__ import annotations

import json

import responses
from click.testing import CliRunner
from sqlalchemy import select

from lti_tool.cli import main
from records import ConnectorConfig, Database, Tenant
from tests.conftest import TEST_ENCRYPTION_KEY, TEST_SECRET_KEY

from .test_moodle import ENDPOINT, URL, moodle_site


def operator(database_url: str) -> CliRunner:
    """The command line as an operator runs it, with every key set."""
    env = {
        "TANDEM_DATABASE_URL": database_url,
        "TANDEM_SECRET_KEY": TEST_SECRET_KEY,
        "TANDEM_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
    }
    return CliRunner(env=env)


@responses.activate
def test_connector_add_list_test_sync_and_member_export(database: Database, database_url) -> None:
    with database.transaction() as session:
        session.add(Tenant(slug="assoc", name="Association"))
    runner = operator(database_url)
    added = runner.invoke(
        main, ["connector", "add", "moodle", "site", "--url", URL, "--token", "s3cret-tok"]
    )
    assert added.exit_code == 0, added.output
    assert "s3cret-tok" not in added.output
    with database.transaction() as session:
        stored = session.scalars(select(ConnectorConfig)).one()
        assert stored.secret_encrypted and "s3cret-tok" not in stored.secret_encrypted

    listed = runner.invoke(main, ["connector", "list"])
    assert "assoc/site  moodle" in listed.output and "s3cret" not in listed.output

    responses.add_callback(responses.POST, ENDPOINT, callback=moodle_site([]))
    tested = runner.invoke(main, ["connector", "test", "site"])
    assert tested.exit_code == 0 and "ready to sync" in tested.output

    dry = runner.invoke(main, ["sync", "site", "--dry-run"])
    assert dry.exit_code == 0 and "dry run: would have added" in dry.output
    assert json.loads(runner.invoke(main, ["member", "list", "--json"]).stdout) == []

    synced = runner.invoke(main, ["sync", "site"])
    assert synced.exit_code == 0, synced.output
    assert "sync site: added" in synced.output and "failed 0" in synced.output
    people = json.loads(runner.invoke(main, ["member", "list", "--json"]).stdout)
    assert {p["email"] for p in people} == {"ada@example.org", "Bo@Example.org"}
    ada = next(p for p in people if p["email"] == "ada@example.org")
    shown = runner.invoke(main, ["member", "export", str(ada["id"])])
    assert shown.exit_code == 0, shown.output
    exported = json.loads(shown.stdout)
    assert exported["identities"][0] == {
        "source": "moodle",
        "external_id": "7",
        "last_seen_at": exported["identities"][0]["last_seen_at"],
    }
    assert {r["kind"] for r in exported["learning_records"]} == {
        "completion",
        "activity_completion",
        "grade",
    }
    assert exported["enrolments"][0]["role"] == "student" and exported["programmes"] == []

    responses.reset()
    responses.add(
        responses.POST,
        ENDPOINT,
        json={"exception": "moodle_exception", "errorcode": "invalidtoken", "message": "x"},
    )
    failed = runner.invoke(main, ["sync", "site"])
    assert failed.exit_code == 1
    assert "Moodle refused the token (invalidtoken)" in failed.output
    assert "s3cret-tok" not in failed.output
    missing = runner.invoke(main, ["sync", "nope"])
    assert missing.exit_code == 1 and "no connector named 'nope'" in missing.output


def test_connector_add_to_a_missing_tenant_says_how_to_create_it(database_url) -> None:
    # Item 13: a directory may come before any LMS: the refusal names the command.
    runner = operator(database_url)
    args = ["connector", "add", "moodle", "site", "--url", URL, "--token", "t"]
    fresh = runner.invoke(main, args)
    assert fresh.exit_code == 1
    assert "`tandem tenant add NAME`" in fresh.output
    named = runner.invoke(main, [*args, "--tenant", "assoc"])
    assert named.exit_code == 1
    assert "no tenant 'assoc': create it with `tandem tenant add assoc`" in named.output


@responses.activate
def test_member_list_shows_accounts_and_read_only_commands_need_no_keys(
    database: Database, database_url
) -> None:
    # Item 14: each account (source, external id); item 6: progress counts courses.
    with database.transaction() as session:
        session.add(Tenant(slug="assoc", name="Association"))
    runner = operator(database_url)
    added = runner.invoke(
        main, ["connector", "add", "moodle", "site", "--url", URL, "--token", "t"]
    )
    assert added.exit_code == 0, added.output
    responses.add_callback(responses.POST, ENDPOINT, callback=moodle_site([]))
    synced = runner.invoke(main, ["sync", "site"])
    assert synced.exit_code == 0, synced.output
    assert "courses: 1 processed" in synced.stderr  # one course, not its 3 enrolments

    keyless = CliRunner(env={"TANDEM_DATABASE_URL": database_url, "TANDEM_SECRET_KEY": ""})
    listed = keyless.invoke(main, ["member", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    people = {p["email"]: p for p in json.loads(listed.stdout)}
    assert people["ada@example.org"]["accounts"] == [{"source": "moodle", "external_id": "7"}]
    plain = keyless.invoke(main, ["member", "list"])
    assert plain.exit_code == 0 and "moodle:7" in plain.output
    connectors = keyless.invoke(main, ["connector", "list"])
    assert connectors.exit_code == 0 and "assoc/site  moodle" in connectors.output
