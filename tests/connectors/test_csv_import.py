"""``tandem import members FILE.csv --mapping MAP.json``: the whole file validated first.

Each bad input says what is wrong (line numbers for rows) and leaves the database exactly
as it was; ``--skip-bad-rows`` imports the rest and records the bad rows on the run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import func, select

from connectors import InvalidFile
from connectors.csvfile import CsvConnector, check_file, decode, load_mapping
from records import ConnectorConfig, Database, Identity, Member, SyncRun, Tenant
from tests.support.remote import FIXTURES

GOOD = (FIXTURES / "csv" / "members.csv").read_bytes()
HEADER = b"Member ID,Membership No,Email,First name,Last name,Status\r\n"
MAPPING = FIXTURES / "csv" / "mapping.json"

Cli = Callable[[list[str]], Result]


@pytest.fixture
def tenant(database: Database) -> int:
    with database.transaction() as session:
        tenant = Tenant(slug="assoc", name="Association")
        session.add(tenant)
        session.flush()
        return tenant.id


def state(database: Database) -> dict[str, int]:
    """Row counts of everything an import may write."""
    with database.transaction() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Member, Identity, SyncRun, ConnectorConfig)
        }


def write(tmp_path: Path, data: bytes, name: str = "in.csv") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_a_clean_file_is_imported_through_the_sync_path(
    cli: Cli, database: Database, tenant: int
) -> None:
    with database.transaction() as session:
        # Someone another source brought in earlier: the member number links them.
        session.add(Member(tenant_id=tenant, display_name="Bo N.", member_number="M-101"))
    done = cli(
        ["import", "members", str(FIXTURES / "csv" / "members.csv"), "--mapping", str(MAPPING)]
    )
    assert done.exit_code == 0, done.output
    assert "import members.csv: added 2, updated 1" in done.stdout
    with database.transaction() as session:
        people = {m.email: m for m in session.scalars(select(Member))}
        assert set(people) == {"ada@example.org", "bo@example.org", "dee@example.org"}
        assert people["bo@example.org"].display_name == "Bo N."  # linked, not duplicated
        assert people["ada@example.org"].given_name == "Ada"
        run = session.scalars(select(SyncRun)).one()
        assert (run.status, run.added, run.updated, run.failed) == ("succeeded", 2, 1, 0)
        config = session.get(ConnectorConfig, run.connector_id)
        assert (config.kind, config.name) == ("csv", "csv-import")
        sources = set(session.scalars(select(Identity.source)))
        assert sources == {"csv"}

    again = cli(
        ["import", "members", str(FIXTURES / "csv" / "members.csv"), "--mapping", str(MAPPING)]
    )
    assert again.exit_code == 0 and "added 0, updated 0, deactivated 0" in again.stdout


BAD_INPUTS = {
    "wrong encoding": (
        HEADER + "A-1,M-1,zoe@example.org,Zoë,Ng,active\r\n".encode("cp1252"),
        "in.csv is not utf-8: byte 0xeb on line 2 cannot be decoded",
    ),
    "missing header": (
        b"A-1,M-100,ada@example.org,Ada,Lovelace,active\r\n",
        "in.csv has no header row: line 1 names none of the mapped columns",
    ),
    "missing column": (
        b"Member ID,Membership No,First name,Last name,Status\r\nA-1,M-1,Ada,L,active\r\n",
        "in.csv lacks column 'Email' (for email); its header has 'Member ID',",
    ),
    "bad email": (
        HEADER + b"A-1,M-1,ada@example.org,Ada,L,active\r\nA-2,M-2,bo@,Bo,N,active\r\n",
        "line 3: 'bo@' in 'Email' is not an email address",
    ),
    "duplicate id": (
        HEADER + b"A-1,M-1,ada@example.org,Ada,L,active\r\nA-1,M-2,bo@example.org,Bo,N,\r\n",
        "line 3: id 'A-1' in 'Member ID' repeats line 2",
    ),
    "empty file": (b"", "in.csv is empty"),
    "only blank lines": (b"\r\n  \r\n", "in.csv is empty"),
    "header but no rows": (HEADER, "in.csv has a header but no member rows"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_each_bad_input_is_reported_and_nothing_is_written(
    case: str, cli: Cli, database: Database, tenant: int, tmp_path: Path
) -> None:
    data, message = BAD_INPUTS[case]
    before = state(database)
    done = cli(["import", "members", write(tmp_path, data), "--mapping", str(MAPPING)])
    assert done.exit_code == 1, done.output
    assert message in done.stderr
    assert "nothing imported" in done.stderr
    assert state(database) == before


def test_every_bad_row_is_listed_by_line_and_skip_bad_rows_imports_the_rest(
    cli: Cli, database: Database, tenant: int, tmp_path: Path
) -> None:
    data = HEADER + (
        b"A-1,M-1,ada@example.org,Ada,L,active\r\n"
        b'A-2,M-2,"bo@example.org",Bo,"N\r\nwith a line break",active\r\n'  # lines 3-4: fine
        b"A-3,M-3,,Cy,H,active\r\n"  # line 5: no email
        b"A-4,M-4,dee@example.org,Dee,O,maybe\r\n"  # line 6: unknown status
        b"A-5,M-5,eli@example.org,Eli\r\n"  # line 7: too few fields
        b"A-6,M-1,fay@example.org,Fay,B,active\r\n"  # line 8: member number repeats line 2
    )
    path = write(tmp_path, data)
    before = state(database)
    refused = cli(["import", "members", path, "--mapping", str(MAPPING)])
    assert refused.exit_code == 1 and state(database) == before
    lines = [line.strip() for line in refused.stderr.splitlines()]
    assert lines[:4] == [
        "line 5: no value in 'Email' (email is required)",
        "line 6: 'maybe' in 'Status' is neither active (1, true, yes, y, active, current) "
        "nor inactive (0, false, no, n, inactive, lapsed, archived, deleted)",
        "line 7: 4 fields where the header has 6 (a stray delimiter or quote?)",
        "line 8: member number 'M-1' in 'Membership No' repeats line 2",
    ]
    assert "in.csv: 4 of 6 rows are bad; nothing imported" in refused.stderr

    skipped = cli(["import", "members", path, "--mapping", str(MAPPING), "--skip-bad-rows"])
    assert skipped.exit_code == 0, skipped.output
    assert "added 2, updated 0, deactivated 0, failed 4" in skipped.stdout
    assert "skipped 4 bad rows" in skipped.stderr
    with database.transaction() as session:
        assert {m.email for m in session.scalars(select(Member))} == {
            "ada@example.org",
            "bo@example.org",
        }
        run = session.scalars(select(SyncRun)).one()
        assert run.status == "partial" and run.failed == 4
        assert [e["source_id"] for e in run.errors] == ["line 5", "line 6", "line 7", "line 8"]


def test_dry_run_counts_and_writes_no_member(cli: Cli, database: Database, tenant: int) -> None:
    done = cli(
        [
            "import",
            "members",
            str(FIXTURES / "csv" / "members.csv"),
            "--mapping",
            str(MAPPING),
            "--dry-run",
        ]
    )
    assert done.exit_code == 0, done.output
    assert "dry run: would have added 3" in done.stdout
    assert state(database)["members"] == 0 and state(database)["sync_runs"] == 1


def test_full_import_deactivates_members_missing_from_the_file(
    cli: Cli, database: Database, tenant: int, tmp_path: Path
) -> None:
    assert (
        cli(["import", "members", write(tmp_path, GOOD), "--mapping", str(MAPPING)]).exit_code == 0
    )
    fewer = HEADER + b"A-1,M-100,ada@example.org,Ada,Lovelace,Active\r\n"
    partial = cli(["import", "members", write(tmp_path, fewer), "--mapping", str(MAPPING)])
    assert "deactivated 0" in partial.stdout  # without --full a file may be partial
    full = cli(["import", "members", write(tmp_path, fewer), "--mapping", str(MAPPING), "--full"])
    assert full.exit_code == 0 and "deactivated 2" in full.stdout


def test_bad_mapping_and_sync_of_a_csv_connector_say_what_to_do(
    cli: Cli, database: Database, tenant: int, tmp_path: Path
) -> None:
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"columns": {"email": "Email"}}))
    done = cli(["import", "members", write(tmp_path, GOOD), "--mapping", str(mapping)])
    assert done.exit_code == 1
    assert '"columns" must map "external_id"' in done.stderr
    assert (
        cli(["import", "members", write(tmp_path, GOOD), "--mapping", str(MAPPING)]).exit_code == 0
    )
    synced = cli(["sync", "csv-import"])
    assert synced.exit_code == 1 and "tandem import members FILE.csv" in synced.stderr


def test_reader_accepts_a_bom_and_other_encodings() -> None:
    mapping = load_mapping({**json.loads(MAPPING.read_text()), "encoding": "cp1252"})
    text = decode(HEADER + "A-1,,zoe@example.org,Zoë,Ng,\r\n".encode("cp1252"), mapping)
    assert check_file(text, mapping).good == 1
    utf8 = load_mapping(json.loads(MAPPING.read_text()))
    text = decode(b"\xef\xbb\xbf" + GOOD, utf8)
    people = list(CsvConnector(text, utf8).iter_members())
    assert [p.external_id for p in people] == ["A-1", "A-2", "A-3", "A-4"]
    assert [p.active for p in people] == [True, True, False, True]
    assert people[2].family_name == "Ho, Jr."
    two = load_mapping({"columns": {"external_id": "Member ID", "email": "Email"}})
    with pytest.raises(InvalidFile, match="column 'Email' appears twice"):
        check_file("Member ID,Email,Email\r\nA,a@b.org,c@d.org\r\n", two)
