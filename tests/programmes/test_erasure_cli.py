"""``tandem member erase`` and ``tandem member requests``: what an operator sees."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import Result
from sqlalchemy import func, select

from records import AuditEvent, Database, ErasureRequest, Identity, Member
from tests.programmes.test_erasure import MOODLE_ID, NAME, cells, seed
from tests.support.checkins_factory import make_world

Cli = Callable[[list[str]], Result]


def test_dry_run_prints_the_table_and_changes_nothing(cli: Cli, database: Database) -> None:
    with database.transaction() as session:
        world, person, _ = seed(session)
        person_id, slug = person.id, world.tenant.slug
    with database.transaction() as session:
        before = cells(session)
    run = cli(["member", "erase", str(person_id), "--dry-run"])
    assert run.exit_code == 0, run.output
    lines = run.output.splitlines()
    assert "identities                3" in lines
    assert any(line.startswith("total") for line in lines)
    assert lines[-1] == f"dry run: member {person_id} would be erased; nothing was changed"
    with database.transaction() as session:
        assert cells(session) == before

    done = cli(["member", "erase", "--source", f"moodle:{MOODLE_ID}", "--tenant", slug,
                "--operator", "Ada (DPO)"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert f"erased member {person_id}; ended pair(s)" in done.output
    with database.transaction() as session:
        assert session.get(Member, person_id).erased_at is not None
        assert session.scalar(select(func.count()).select_from(Identity).where(
            Identity.member_id == person_id)) == 0  # fmt: skip
        row = session.scalars(select(AuditEvent).where(AuditEvent.action == "member.erased")).one()
        assert row.detail["operator"] == "Ada (DPO)" and NAME not in str(row.detail)

    again = cli(["member", "erase", str(person_id)])
    assert again.exit_code == 0
    assert again.output.strip().endswith("nothing left to erase")
    exported = cli(["member", "export", str(person_id)])
    assert exported.exit_code == 0 and "Zephyrine" not in exported.output


def test_bad_input_gets_one_line_and_changes_nothing(cli: Cli, database: Database) -> None:
    with database.transaction() as session:
        _, person, _ = seed(session)
        other = make_world(session, slug="globex")
        person_id, other_member = person.id, other.coordinator.id
    with database.transaction() as session:
        before = cells(session)
    for args, message in (
        (["member", "erase", "999999", "--tenant", "acme"], "no member 999999 in this tenant"),
        (["member", "erase", str(other_member), "--tenant", "acme"],
         f"no member {other_member} in this tenant"),
        (["member", "erase", str(person_id), "--tenant", "globex"],
         f"no member {person_id} in this tenant"),
        (["member", "erase", "--source", "moodle", "--tenant", "acme"], "is not SOURCE:ID"),
        (["member", "erase", "--source", "moodle:1", "--tenant", "acme"],
         "no member with identity moodle:1"),
        (["member", "erase", "--tenant", "acme"], "give a member id or --source"),
        (["member", "erase", "1", "--tenant", "nope"], "no tenant 'nope'"),
    ):  # fmt: skip
        result = cli(args)
        assert result.exit_code == 1, (args, result.output)
        assert result.output.startswith("tandem: ") and result.output.count("\n") == 1
        assert message in result.output, result.output
    with database.transaction() as session:
        assert cells(session) == before


def test_requests_are_listed_for_the_operator(cli: Cli, database: Database) -> None:
    with database.transaction() as session:
        _, person, _ = seed(session)
        person_id = person.id
    listed = cli(["member", "requests", "--tenant", "acme"])
    assert listed.exit_code == 0
    assert f"{NAME}  requested" in listed.output and "note: " in listed.output
    assert f"tandem member erase {person_id} --tenant acme" in listed.output
    assert cli(["member", "erase", str(person_id), "--tenant", "acme"]).exit_code == 0
    assert cli(["member", "requests", "--tenant", "acme"]).output == "no pending erasure requests\n"
    with database.transaction() as session:
        assert session.scalars(select(ErasureRequest.status)).all() == ["done"]
