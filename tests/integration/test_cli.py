"""The `tandem` command line: set-up commands, and what bad configuration gets."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from checkins import verify_public
from lti_tool.cli import main
from programmes.roster import load_roster
from records import Credential, Database, Member, Milestone, Programme, ToolKey
from tests.conftest import TEST_ENCRYPTION_KEY

GOOD_SECRET = "a" * 48


def _invoke(args: list[str], env: dict[str, str]):  # type: ignore[no-untyped-def]
    # Start from an environment with no TANDEM_* settings so each test says all it sets.
    clean = {key: None for key in os.environ if key.startswith("TANDEM_")}
    return CliRunner().invoke(main, args, env={**clean, **env})


def test_db_upgrade_twice_is_safe(empty_database_url: str) -> None:
    first = _invoke(["db", "upgrade"], {"TANDEM_DATABASE_URL": empty_database_url})
    second = _invoke(["db", "upgrade"], {"TANDEM_DATABASE_URL": empty_database_url})
    assert first.exit_code == 0, first.output
    assert "upgraded from an empty database to" in first.output
    assert second.exit_code == 0 and "already at revision" in second.output


def test_db_upgrade_with_malformed_url_says_so_in_one_line() -> None:
    result = _invoke(["db", "upgrade"], {"TANDEM_DATABASE_URL": "postgres:/nonsense::"})
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "TANDEM_DATABASE_URL" in result.output
    assert "Traceback" not in result.output


def test_db_upgrade_with_unreachable_server_fails_cleanly() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the socket closes
    url = f"postgresql+psycopg://nobody@127.0.0.1:{port}/none?connect_timeout=2"
    result = _invoke(["db", "upgrade"], {"TANDEM_DATABASE_URL": url})
    assert result.exit_code == 1
    assert "cannot reach or migrate the database" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "TANDEM_SECRET_KEY is not set"),
        ({"TANDEM_SECRET_KEY": GOOD_SECRET}, "TANDEM_ENCRYPTION_KEY is not set"),
        ({"TANDEM_SECRET_KEY": "short", "TANDEM_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY}, "32"),
        (
            {"TANDEM_SECRET_KEY": GOOD_SECRET, "TANDEM_ENCRYPTION_KEY": "zzz"},
            "not a Fernet key",
        ),
        (
            {
                "TANDEM_SECRET_KEY": GOOD_SECRET,
                "TANDEM_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
                "TANDEM_DATABASE_URL": "::not-a-url::",
            },
            "TANDEM_DATABASE_URL is not a database URL",
        ),
        # Absolute URLs (sign-in links, LTI redirect URIs) come from the base URL only.
        (
            {"TANDEM_SECRET_KEY": GOOD_SECRET, "TANDEM_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY},
            "TANDEM_BASE_URL is not set",
        ),
        (
            {
                "TANDEM_SECRET_KEY": GOOD_SECRET,
                "TANDEM_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
                "TANDEM_BASE_URL": "http://tandem.example.org",
            },
            "is plain http",
        ),
        (
            {
                "TANDEM_SECRET_KEY": GOOD_SECRET,
                "TANDEM_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
                "TANDEM_BASE_URL": "https://tandem.example.org/tandem?x=1",
            },
            "must be an origin only",
        ),
        (
            {
                "TANDEM_SECRET_KEY": GOOD_SECRET,
                "TANDEM_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
                "TANDEM_BASE_URL": "https://tandem.example.org",
                "TANDEM_PROXY_COUNT": "many",
            },
            "TANDEM_PROXY_COUNT is 'many'",
        ),
    ],
)
def test_serve_refuses_without_real_configuration(
    env: dict[str, str], message: str, tmp_path: Path
) -> None:
    result = _invoke(["serve"], {"TANDEM_INSTANCE_PATH": str(tmp_path), **env})
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tandem: ")
    assert message in lines[0]
    assert TEST_ENCRYPTION_KEY not in result.output


def test_serve_refuses_a_database_that_is_not_upgraded(empty_database_url: str) -> None:
    env = {
        "TANDEM_SECRET_KEY": GOOD_SECRET,
        "TANDEM_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
        "TANDEM_DATABASE_URL": empty_database_url,
        "TANDEM_BASE_URL": "https://tandem.example.org",
    }
    result = _invoke(["serve"], env)
    assert result.exit_code == 2
    assert "run `tandem db upgrade` first" in result.output


def test_demo_sets_up_a_seeded_database_and_is_idempotent(tmp_path: Path) -> None:
    env = {"TANDEM_INSTANCE_PATH": str(tmp_path)}
    for _ in range(2):
        result = _invoke(["demo", "--no-serve"], env)
        assert result.exit_code == 0, result.output
    database = Database(f"sqlite:///{tmp_path / 'tandem-demo.sqlite3'}")
    with database.sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(Member)) == 40
        # The demo programme and its previous cohort (the same members, one more programme).
        assert session.scalar(select(func.count()).select_from(Programme)) == 2
        # Readiness: the enrolling programme asks mentors to complete a course that
        # some demo mentors have completed and some have not.
        enrolling = session.scalars(select(Programme).where(Programme.status == "enrolling")).one()
        roster = load_roster(session, enrolling)
        assert roster.mentors and roster.not_ready
        assert {p.role for p, _ in roster.not_ready.values()} == {"mentor"}
        # Recognition: the running cohort has milestones, and credentials that verify.
        assert session.scalar(select(func.count()).select_from(Milestone)) > 0
        credential = session.scalars(select(Credential)).first()
        result = verify_public(session, credential.public_id, {"keys": [
            k.public_jwk for k in session.scalars(select(ToolKey))
        ]})  # fmt: skip
        assert result.valid and result.recipient
    database.dispose()
    assert (tmp_path / "demo-config.json").stat().st_mode & 0o077 == 0


def test_encryption_key_command_prints_a_usable_key() -> None:
    result = _invoke(["keys", "encryption-key"], {})
    Fernet(result.output.strip().encode())  # raises if it is not a key


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_runs_several_gunicorn_workers(database_url: str, tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TANDEM_")},
        "TANDEM_SECRET_KEY": GOOD_SECRET,
        "TANDEM_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
        "TANDEM_DATABASE_URL": database_url,
        "TANDEM_INSTANCE_PATH": str(tmp_path),
        "TANDEM_BASE_URL": "https://tandem.example.org",
    }
    command = [sys.executable, "-m", "lti_tool", "serve"]
    server = subprocess.Popen(
        [*command, "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                # As a TLS-terminating proxy passing the Host on would ask.
                response = requests.get(
                    f"http://127.0.0.1:{port}/healthz",
                    headers={"Host": "tandem.example.org"},
                    timeout=2,
                )
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        assert response.json() == {"status": "ok", "database": "ok"}
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert output.count("Booting worker") == 2, output
