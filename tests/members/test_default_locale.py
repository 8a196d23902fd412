"""``tandem tenant set NAME --default-locale``: the language a tenant's pages and mail fall
back to."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import Result
from sqlalchemy import func, select

from records import AuditEvent, Database, Tenant

Cli = Callable[[list[str]], Result]


def test_set_a_default_language_and_refuse_one_tandem_does_not_speak(
    cli: Cli, database: Database
) -> None:
    assert cli(["tenant", "add", "Association Québec", "--slug", "qc"]).exit_code == 0
    done = cli(["tenant", "set", "qc", "--default-locale", "fr-CA"])
    assert done.exit_code == 0, done.output
    assert "default language fr_CA" in done.output
    with database.transaction() as session:
        assert session.scalars(select(Tenant.settings)).one() == {"default_locale": "fr_CA"}
        audits = session.scalar(select(func.count()).select_from(AuditEvent))
    for value in ("de", "klingon", "fr_CA<script>", "x" * 100, ""):
        result = cli(["tenant", "set", "qc", "--default-locale", value])
        assert result.exit_code == 1, (value, result.output)
        assert "is not a language Tandem speaks: use one of en, fr" in result.output
        assert len(result.output.strip().splitlines()) == 1
    # A bad language among good settings changes nothing, and writes no audit row.
    mixed = cli(["tenant", "set", "qc", "--retain-closed-months", "6", "--default-locale", "de"])
    assert mixed.exit_code == 1
    with database.transaction() as session:
        assert session.scalars(select(Tenant.settings)).one() == {"default_locale": "fr_CA"}
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == audits
    back = cli(["tenant", "set", "qc", "--default-locale", "en"])
    assert back.exit_code == 0 and "default language en" in back.output
