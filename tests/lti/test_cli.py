"""``tandem platform add|list|remove`` and ``tandem keys rotate``."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from lti_tool.cli import main
from tests.conftest import TEST_ENCRYPTION_KEY, TEST_SECRET_KEY


@pytest.fixture
def cli(database_url: str, tmp_path):  # type: ignore[no-untyped-def]
    env = {
        "TANDEM_DATABASE_URL": database_url,
        "TANDEM_SECRET_KEY": TEST_SECRET_KEY,
        "TANDEM_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
        "TANDEM_INSTANCE_PATH": str(tmp_path),
    }
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), env=env, catch_exceptions=False)


ADD = [
    "platform", "add", "--issuer", "https://moodle.example.edu", "--client-id", "abc",
    "--deployment-id", "1", "--deployment-id", "2",
    "--auth-login-url", "https://moodle.example.edu/mod/lti/auth.php",
    "--auth-token-url", "https://moodle.example.edu/mod/lti/token.php",
    "--key-set-url", "https://moodle.example.edu/mod/lti/certs.php", "--name", "Our Moodle",
]  # fmt: skip


def test_platform_add_list_remove(cli) -> None:  # type: ignore[no-untyped-def]
    added = cli(*ADD)
    assert added.exit_code == 0, added.output
    assert "2 deployment(s)" in added.output
    listed = cli("platform", "list")
    assert "https://moodle.example.edu\tabc\t1,2\tactive" in listed.output
    again = cli(*ADD)
    assert again.exit_code == 1 and "already registered" in again.output
    removed = cli("platform", "remove", "--issuer", "https://moodle.example.edu",
                  "--client-id", "abc")  # fmt: skip
    assert removed.exit_code == 0
    assert "removed" in cli("platform", "list").output
    readded = cli(*ADD)
    assert readded.exit_code == 0, readded.output
    assert "\tactive" in cli("platform", "list").output


def test_platform_add_refuses_a_bad_url(cli) -> None:  # type: ignore[no-untyped-def]
    args = [*ADD]
    args[args.index("--key-set-url") + 1] = "certs.php"
    result = cli(*args)
    assert result.exit_code == 1 and "key set URL" in result.output


def test_platform_add_needs_a_deployment(cli) -> None:  # type: ignore[no-untyped-def]
    args = [a for a in ADD if a not in ("--deployment-id", "1", "2")]
    assert cli(*args).exit_code == 2


def test_keys_rotate_keeps_the_old_key_published(cli, app, client) -> None:  # type: ignore[no-untyped-def]
    first = client.get("/lti/jwks").get_json()["keys"]
    result = cli("keys", "rotate")
    assert result.exit_code == 0, result.output
    kids = [k["kid"] for k in client.get("/lti/jwks").get_json()["keys"]]
    assert len(kids) == 2 and first[0]["kid"] in kids


def test_retired_keys_leave_the_key_set_after_seven_days(app, client) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from sqlalchemy import update

    import records
    from platforms import rotate_key
    from records import ToolKey, utcnow

    old = client.get("/lti/jwks").get_json()["keys"][0]["kid"]
    with app.app_context(), records.get_database(app).transaction() as session:
        rotate_key(session, app.extensions["tandem.secrets"])
        session.execute(
            update(ToolKey)
            .where(ToolKey.kid == old)
            .values(retired_at=utcnow() - timedelta(days=8))
        )
    kids = [k["kid"] for k in client.get("/lti/jwks").get_json()["keys"]]
    assert old not in kids and len(kids) == 1
