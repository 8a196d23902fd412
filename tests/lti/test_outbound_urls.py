"""Issue 12, findings 1 and 2: registration by invitation, and no URL a platform hands
Tandem is fetched unless it is https on a public address, with no redirect followed.

Each refusal is a 4xx plain page with exactly one audit row and no other write.
"""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import responses
from sqlalchemy import select

import records
from platforms import RefusedURL, post_progress, remove_platform
from records import Tenant
from tests.support.jobs import run_jobs
from tests.support.lti_platform import INSTRUCTOR, Person, TestPlatform

from .conftest import audit_actions, make_platform, row_counts
from .test_advantage import _member_id, _placed_programme
from .test_launch_security import assert_refused as refused_page
from .test_registration import (
    CONFIG_URL,
    REGISTER_URL,
    invite,
    mount_registration,
    openid_configuration,
)

GRACE = Person("teacher-1", "Grace", "Hopper", "grace@example.edu", roles=[INSTRUCTOR])
QUERY = f"?openid_configuration={CONFIG_URL}&registration_token=reg-token"


def assert_refused(app, response, before: dict[str, int], reason: str, status: int = 400):  # type: ignore[no-untyped-def]
    """A plain 4xx page, one ``lti.registration_refused`` row, nothing else written."""
    return refused_page(app, response, status=status, reason=reason, before=before,
                        action="lti.registration_refused")  # fmt: skip


def counting(mock: responses.RequestsMock, method: str, url: str, body: dict) -> list:
    """Serve ``body`` at ``url`` and record each request: proof of what was fetched."""
    seen: list = []

    def callback(request):  # type: ignore[no-untyped-def]
        seen.append(request)
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    mock.add_callback(method, url, callback=callback)
    return seen


# ---- registration by invitation -----------------------------------------------------


def test_registration_without_an_invite_fetches_nothing(app, client, mock_http) -> None:
    seen: list = []
    mount_registration(mock_http, openid_configuration(), seen)
    before = row_counts(app)
    for path in ("/lti/register", "/lti/register/made-up-invite"):
        response = client.get(path + QUERY)
        detail = assert_refused(app, response, before, "no_invite", status=403)
        assert "made-up-invite" not in json.dumps(detail)
        before = row_counts(app)
    assert len(mock_http.calls) == 0 and seen == []


def test_an_invite_registers_once(app, client, mock_http) -> None:
    mount_registration(mock_http, openid_configuration(), [])
    path = invite(app, name="Our Moodle")
    assert client.get(path + QUERY).status_code == 200
    with app.app_context(), records.get_database(app).transaction() as session:
        assert session.scalars(select(Tenant.name)).one() == "Our Moodle"
        # Only the digest is stored: the token itself is nowhere in the database.
        rows = session.execute(select(records.ExpiringValue.key)).scalars().all()
        assert path.rsplit("/", 1)[1] not in rows
    calls = len(mock_http.calls)
    before = row_counts(app)
    assert_refused(app, client.get(path + QUERY), before, "no_invite", status=403)
    assert len(mock_http.calls) == calls


def test_an_expired_invite_is_refused(app, client, mock_http) -> None:
    mount_registration(mock_http, openid_configuration(), [])
    path = invite(app, lifetime=timedelta(seconds=1))
    with app.app_context(), records.get_database(app).transaction() as session:
        session.execute(
            records.ExpiringValue.__table__.update().values(expires_at=records.utcnow())
        )
    before = row_counts(app)
    assert_refused(app, client.get(path + QUERY), before, "no_invite", status=403)
    assert len(mock_http.calls) == 0


def test_open_registration_is_the_operators_explicit_choice(app, client, mock_http) -> None:
    mount_registration(mock_http, openid_configuration(), [])
    app.config["TANDEM_OPEN_REGISTRATION"] = True
    assert client.get("/lti/register" + QUERY).status_code == 200


def test_a_refused_registration_leaves_the_invite_usable(app, client, mock_http) -> None:
    mount_registration(mock_http, openid_configuration("https://evil.example.net"), [])
    path = invite(app)
    assert client.get(path + QUERY).status_code == 400
    mock_http.reset()
    mount_registration(mock_http, openid_configuration(), [])
    assert client.get(path + QUERY).status_code == 200


# ---- finding 1: the configuration URL must be the issuer's own origin ---------------


@pytest.mark.parametrize(
    "config_url",
    [
        "https://moodle.example.edu@attacker.example/cfg",
        "https://moodle.example.edu:@attacker.example/cfg",
    ],
)
def test_a_user_info_prefix_configuration_url_is_refused_unfetched(
    app, client, mock_http, config_url
) -> None:
    seen = counting(mock_http, responses.GET, "https://attacker.example/cfg",
                    openid_configuration())  # fmt: skip
    path = invite(app)
    before = row_counts(app)
    response = client.get(f"{path}?openid_configuration={config_url}&registration_token=t")
    assert_refused(app, response, before, "url_refused")
    assert seen == []


def test_a_suffix_host_configuration_url_is_refused(app, client, mock_http) -> None:
    """``https://moodle.example.edu.attacker.example`` starts with the victim's issuer."""
    attacker = "https://moodle.example.edu.attacker.example/cfg"
    config = openid_configuration()  # claims issuer https://moodle.example.edu
    config["registration_endpoint"] = "https://moodle.example.edu.attacker.example/reg"
    counting(mock_http, responses.GET, attacker, config)
    posted = counting(mock_http, responses.POST, config["registration_endpoint"],
                      {"client_id": "attacker-client"})  # fmt: skip
    path = invite(app)
    before = row_counts(app)
    response = client.get(f"{path}?openid_configuration={attacker}")
    assert_refused(app, response, before, "issuer_mismatch")
    assert posted == []


# ---- finding 2: SSRF through registration --------------------------------------------


def test_a_redirect_to_an_internal_http_address_is_not_followed(app, client, mock_http) -> None:
    internal = counting(mock_http, responses.GET, "http://10.0.0.1/admin", openid_configuration())
    mock_http.add(responses.GET, CONFIG_URL, status=302,
                  headers={"Location": "http://10.0.0.1/admin"})  # fmt: skip
    path = invite(app)
    before = row_counts(app)
    response = client.get(path + QUERY)
    assert_refused(app, response, before, "RefusedURL")
    assert internal == []


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://10.0.0.2/steal",  # plain http to an internal address
        "https://10.0.0.2/steal",  # https, but a private address
        "https://collector.attacker.example/steal",  # public, but not the platform's origin
    ],
)
def test_the_registration_token_goes_only_to_the_platforms_own_origin(
    app, client, mock_http, public_dns, endpoint
) -> None:
    config = openid_configuration()
    config["registration_endpoint"] = endpoint
    config_seen = counting(mock_http, responses.GET, CONFIG_URL, config)
    stolen = counting(mock_http, responses.POST, endpoint, {"client_id": "x"})
    path = invite(app)
    before = row_counts(app)
    response = client.get(path + QUERY)
    assert_refused(app, response, before, "url_refused")
    assert len(config_seen) == 1 and stolen == []


def test_a_configuration_naming_internal_key_set_or_token_urls_is_refused(
    app, client, mock_http, public_dns
) -> None:
    config = openid_configuration()
    config["jwks_uri"] = "https://169.254.169.254/latest/meta-data/"
    counting(mock_http, responses.GET, CONFIG_URL, config)
    posted = counting(mock_http, responses.POST, REGISTER_URL, {"client_id": "x"})
    path = invite(app)
    before = row_counts(app)
    assert_refused(app, client.get(path + QUERY), before, "url_refused")
    assert posted == []


def test_http_moodle_on_loopback_registers_only_under_the_development_switch(
    app, client, mock_http, monkeypatch
) -> None:
    """Issue 16 item 6: a local http Moodle, allowed by TANDEM_ALLOW_INSECURE_URLS only."""
    local = "http://127.0.0.1:8080"
    config = openid_configuration(local)
    config["registration_endpoint"] = f"{local}/mod/lti/openid-registration.php"
    config_url = f"{local}/mod/lti/openid-configuration.php"
    counting(mock_http, responses.GET, config_url, config)
    answer = {
        "client_id": "local-client",
        "https://purl.imsglobal.org/spec/lti-tool-configuration": {"deployment_id": "1"},
    }
    counting(mock_http, responses.POST, config["registration_endpoint"], answer)
    query = f"?openid_configuration={config_url}&registration_token=t"
    monkeypatch.delenv("TANDEM_ALLOW_INSECURE_URLS")
    path = invite(app)
    before = row_counts(app)
    assert_refused(app, client.get(path + query), before, "url_refused")
    assert len(mock_http.calls) == 0
    monkeypatch.setenv("TANDEM_ALLOW_INSECURE_URLS", "1")
    assert client.get(invite(app) + query).status_code == 200


# ---- finding 1: a tenant's identity never changes hands -------------------------------


def _takeover_config() -> dict:
    """The real issuer's configuration, but the attacker's key set and login URLs."""
    config = openid_configuration()
    config["jwks_uri"] = "https://moodle.example.edu/attacker/certs.php"
    config["authorization_endpoint"] = "https://moodle.example.edu/attacker/auth.php"
    return config


def _register_answer(client_id: str) -> dict:
    return {
        "client_id": client_id,
        "https://purl.imsglobal.org/spec/lti-tool-configuration": {"deployment_id": "9"},
    }


def test_a_removed_tenant_is_not_reactivated_by_registration(app, client, mock_http) -> None:
    victim = make_platform(app, client, mock_http, client_id="victim-client")
    with app.app_context(), records.get_database(app).transaction() as session:
        remove_platform(session, victim.issuer, victim.client_id)
    counting(mock_http, responses.GET, CONFIG_URL, _takeover_config())
    counting(mock_http, responses.POST, REGISTER_URL, _register_answer("victim-client"))
    path = invite(app)
    before = row_counts(app)
    response = client.get(path + QUERY)
    assert_refused(app, response, before, "removed_platform")
    with app.app_context(), records.get_database(app).transaction() as session:
        tenant = session.get(Tenant, victim.tenant_id)
        assert tenant.active is False
        assert tenant.key_set_url == victim.key_set_url
        assert tenant.auth_login_url == victim.auth_login_url


def test_registration_never_changes_an_active_tenants_urls(app, client, mock_http) -> None:
    victim = make_platform(app, client, mock_http, client_id="victim-client")
    counting(mock_http, responses.GET, CONFIG_URL, _takeover_config())
    counting(mock_http, responses.POST, REGISTER_URL, _register_answer("victim-client"))
    path = invite(app)
    before = row_counts(app)
    assert_refused(app, client.get(path + QUERY), before, "taken")
    with app.app_context(), records.get_database(app).transaction() as session:
        assert session.get(Tenant, victim.tenant_id).key_set_url == victim.key_set_url


def test_the_operator_restores_a_removed_platform_explicitly(cli, app) -> None:
    platform = TestPlatform(client_id="restored")
    platform.register(app)
    with app.app_context(), records.get_database(app).transaction() as session:
        remove_platform(session, platform.issuer, platform.client_id)
    s = platform.settings()
    result = cli([
        "platform", "add", "--issuer", s.issuer, "--client-id", s.client_id,
        "--deployment-id", "d", "--auth-login-url", s.auth_login_url,
        "--auth-token-url", s.auth_token_url, "--key-set-url", s.key_set_url,
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "restored removed" in result.output


# ---- finding 2: an attacker's tenant drives no fetch to an internal address ------------


def test_a_key_set_url_on_a_private_address_is_not_fetched_on_a_kid_miss(
    app, client, mock_http, public_dns
) -> None:
    platform = TestPlatform(client_id="attacker")
    platform.key_set_url = "https://10.0.0.5/jwks"
    platform.tenant_id = _register_unchecked(app, platform)
    platform.mount(mock_http)
    fetched = counting(mock_http, responses.GET, platform.key_set_url, platform.key_set())
    auth = platform.login(client)
    before = row_counts(app)
    response = platform.post_launch(client, platform.sign(platform.claims(auth.nonce)), auth.state)
    assert response.status_code == 400
    assert row_counts(app)["audit_events"] == before["audit_events"] + 1
    action, detail = audit_actions(app)[-1]
    assert (action, detail["reason"]) == ("lti.launch_refused", "key_set_unavailable")
    assert fetched == []


def _register_unchecked(app, platform: TestPlatform) -> int:  # type: ignore[no-untyped-def]
    """A tenant stored before URL checks existed (or edited in the database)."""
    from platforms import add_platform

    url = platform.key_set_url
    platform.key_set_url = "https://moodle.example.edu/placeholder"
    with app.app_context(), records.get_database(app).transaction() as session:
        tenant = add_platform(session, platform.settings())
        tenant.key_set_url = url
        tenant_id = tenant.id
    platform.key_set_url = url
    return tenant_id


def test_an_nrps_url_on_a_private_address_is_not_fetched(
    app, client, mock_http, public_dns
) -> None:
    platform = make_platform(app, client, mock_http)
    platform.memberships_url = "https://169.254.169.254/latest/meta-data/iam"
    fetched = counting(mock_http, responses.GET, platform.memberships_url, {"members": []})
    response = platform.launch(client, GRACE, nrps=True)
    assert urlsplit(response.headers["Location"]).path == "/coordinator"
    run_jobs(app)  # the roster import runs as a job (a worker on PostgreSQL)
    # Its refusal is the job's failure reason.
    failures = [d for a, d in audit_actions(app) if a == "lti.nrps_failed"]
    assert len(failures) == 1 and "link-local" in failures[0]["reason"]
    assert fetched == []


def test_an_nrps_next_page_on_a_private_address_is_not_fetched(
    app, client, mock_http, public_dns
) -> None:
    platform = make_platform(app, client, mock_http)
    internal = "https://10.9.9.9/members?page=2"
    fetched = counting(mock_http, responses.GET, internal, {"members": []})
    platform.memberships_url = "https://moodle.example.edu/api/lti/courses/102/members"
    mock_http.add(
        responses.GET,
        platform.memberships_url,
        json={"members": []},
        headers={"Link": f'<{internal}>; rel="next"'},
    )
    platform.launch(client, GRACE, nrps=True)
    run_jobs(app)  # the roster import runs as a job (a worker on PostgreSQL)
    assert fetched == []
    assert any(a == "lti.nrps_failed" for a, _ in audit_actions(app))


def test_ags_line_items_on_a_private_address_are_not_posted_to(
    app, client, mock_http, public_dns
) -> None:
    platform = make_platform(app, client, mock_http)
    platform.lineitems_url = "https://192.168.1.20/line_items"
    posted = counting(mock_http, responses.POST, platform.lineitems_url, {"id": "x"})
    programme_id = _placed_programme(app, platform)
    platform.launch(client, GRACE, custom={"tandem_programme_id": str(programme_id)}, ags=True)
    member_id = _member_id(app, GRACE.sub)
    with (
        app.app_context(),
        records.get_database(app).transaction() as session,
        pytest.raises(RefusedURL, match="private address"),
    ):
        post_progress(session, platform.tenant_id, programme_id, member_id, 1, 10)
    assert posted == []


# ---- finding 2: a second client id under a real issuer breaks no launch ---------------


def test_login_without_client_id_picks_the_registration_with_the_named_deployment(
    app, client, mock_http
) -> None:
    real = make_platform(app, client, mock_http, client_id="real-client", deployment_id="d-1")
    make_platform(app, client, mock_http, client_id="second-client", deployment_id="d-2",
                  key_name="second")  # fmt: skip
    auth = real.login(client, client_id="")
    assert auth.params["client_id"] == "real-client"
    launched = real.post_launch(client, real.sign(real.claims(auth.nonce)), auth.state)
    assert launched.status_code == 303
    before = row_counts(app)
    response = client.get(
        "/lti/login?iss=https://moodle.example.edu&login_hint=h&target_link_uri=x"
    )
    assert response.status_code == 400
    assert "client_id" in response.get_data(as_text=True)
    assert row_counts(app)["audit_events"] == before["audit_events"] + 1


# ---- tandem platform invite ------------------------------------------------------------


def test_platform_invite_prints_a_single_use_url(app, client, mock_http, app_config) -> None:
    from click.testing import CliRunner

    from lti_tool.cli import main

    env = {
        "TANDEM_DATABASE_URL": app_config["TANDEM_DATABASE_URL"],
        "TANDEM_SECRET_KEY": app_config["SECRET_KEY"],
        "TANDEM_ENCRYPTION_KEY": app_config["TANDEM_ENCRYPTION_KEY"],
        "TANDEM_INSTANCE_PATH": app_config["INSTANCE_PATH"],
        "TANDEM_BASE_URL": "https://tandem.example.org",
    }
    runner = CliRunner()
    made = runner.invoke(main, ["platform", "invite", "--name", "Uni Moodle", "--expires", "2d"],
                         env=env)  # fmt: skip
    assert made.exit_code == 0, made.output
    url = made.stdout.strip()
    assert url.startswith("https://tandem.example.org/lti/register/")
    token = url.rsplit("/", 1)[1]
    assert len(token) >= 40
    mount_registration(mock_http, openid_configuration(), [])
    assert client.get(f"/lti/register/{token}{QUERY}").status_code == 200
    assert client.get(f"/lti/register/{token}{QUERY}").status_code == 403
    with app.app_context(), records.get_database(app).transaction() as session:
        assert session.scalars(select(Tenant.name)).one() == "Uni Moodle"
        actions = [a for a, _ in audit_actions(app)]
        assert token not in json.dumps([d for _, d in audit_actions(app)])
        assert actions.count("lti.registered") == 1

    for args, code, says in [
        (["--expires", "forever"], 2, "7d or 12h"),
        (["--expires", "90d"], 1, "30 days"),
    ]:
        refused = runner.invoke(main, ["platform", "invite", *args], env=env)
        assert refused.exit_code == code and says in refused.output, refused.output
    no_base = {k: v for k, v in env.items() if k != "TANDEM_BASE_URL"}
    refused = runner.invoke(main, ["platform", "invite"], env=no_base)
    assert refused.exit_code == 1 and "TANDEM_BASE_URL" in refused.output
