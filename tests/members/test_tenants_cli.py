"""``tandem tenant add|list|set``: a tenant before any LMS, and its privacy settings."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import Result
from sqlalchemy import select

from records import AuditEvent, ConnectorConfig, Database, Tenant

Cli = Callable[[list[str]], Result]


def test_add_a_tenant_without_an_lms_then_a_directory_connector(
    cli: Cli, database: Database
) -> None:
    added = cli(["tenant", "add", "Acme Mentoring Association"])
    assert added.exit_code == 0, added.output
    assert "added tenant 'acme-mentoring-association'" in added.output
    second = cli(["tenant", "add", "Beta Guild", "--slug", "beta"])
    assert second.exit_code == 0, second.output
    # The directory comes first: no platform is registered for either tenant.
    connector = cli(["connector", "add", "moodle", "site", "--url", "https://moodle.example.org",
                     "--token", "tok", "--tenant", "beta"])  # fmt: skip
    assert connector.exit_code == 0, connector.output
    listed = cli(["tenant", "list"])
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert lines[0].startswith("acme-mentoring-association\tAcme Mentoring Association\t(no LMS)")
    assert lines[1].startswith("beta\tBeta Guild\t(no LMS)\tactive\t0 members")
    assert "closed pairs' notes 24 months\taudit 24 months" in lines[1]
    with database.transaction() as session:
        beta = session.scalars(select(Tenant).where(Tenant.slug == "beta")).one()
        assert beta.issuer is None and beta.client_id is None
        assert session.scalars(select(ConnectorConfig.tenant_id)).one() == beta.id
        assert session.scalars(select(AuditEvent.action).where(
            AuditEvent.tenant_id == beta.id)).all() == ["tenant.added"]  # fmt: skip


def test_tenant_add_refuses_bad_input(cli: Cli, database: Database) -> None:
    assert cli(["tenant", "add", "Beta", "--slug", "beta"]).exit_code == 0
    for args, message in (
        (["tenant", "add", "Other", "--slug", "beta"], "there is already a tenant 'beta'"),
        (["tenant", "add", "Other", "--slug", "Bad Slug!"], "must be lowercase letters"),
        (["tenant", "add", "   "], "the tenant needs a name"),
        (["tenant", "add", "x" * 201], "over 200 characters"),
    ):
        result = cli(args)
        assert result.exit_code == 1, args
        assert result.output.startswith("tandem: ") and result.output.count("\n") == 1
        assert message in result.output, result.output
    with database.transaction() as session:
        assert session.scalars(select(Tenant.slug)).all() == ["beta"]
    # Same name twice is fine: the second gets its own slug.
    again = cli(["tenant", "add", "Beta"])
    assert again.exit_code == 0 and "'beta-2'" in again.output


def test_tenant_set_retention_and_privacy_page(cli: Cli, database: Database) -> None:
    assert cli(["tenant", "add", "Acme Institute", "--slug", "acme"]).exit_code == 0
    done = cli(["tenant", "set", "acme", "--retain-closed-months", "12", "--audit-retain-months",
                "36", "--association-name", "Acme Mentors", "--privacy-contact",
                "privacy@acme.example"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "kept 12 months, audit rows 36 months" in done.output
    # By name, too; other settings stay.
    by_name = cli(["tenant", "set", "Acme Institute", "--retain-closed-months", "24"])
    assert by_name.exit_code == 0, by_name.output
    with database.transaction() as session:
        acme = session.scalars(select(Tenant)).one()
        assert acme.settings == {
            "retain_closed_months": 24, "audit_retain_months": 36,
            "association_name": "Acme Mentors", "privacy_contact": "privacy@acme.example",
        }  # fmt: skip
    for args, message in (
        (["tenant", "set", "nope", "--retain-closed-months", "3"], "no tenant 'nope'"),
        (["tenant", "set", "acme", "--retain-closed-months", "0"], "out of range; need 1 to 240"),
        (["tenant", "set", "acme", "--audit-retain-months", "999"], "out of range"),
        (["tenant", "set", "acme", "--privacy-contact", "call Bob"], "neither an email"),
        (["tenant", "set", "acme", "--privacy-contact", "http://x.example"], "neither an email"),
        (["tenant", "set", "acme", "--association-name", " "], "1 to 200 characters"),
        (["tenant", "set", "acme"], "nothing to set"),
        # One bad value among good ones: nothing changes.
        (
            ["tenant", "set", "acme", "--retain-closed-months", "6", "--privacy-contact", "?"],
            "neither an email",
        ),
    ):
        result = cli(args)
        assert result.exit_code == 1 and message in result.output, (args, result.output)
    with database.transaction() as session:
        assert session.scalars(select(Tenant.settings)).one()["retain_closed_months"] == 24
