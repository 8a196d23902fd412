"""Issue 12 part B: the Host header is never trusted, proxies only when counted, cookies fit
https, per-client rate limits, bounded ids, a strict script policy."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import select

import records
from lti_tool.app import create_app
from lti_tool.ids import MAX_ID, IdConverter
from lti_tool.ratelimits import NAMESPACE as RATE_LIMITS
from records import AuditEvent, ConfigurationError, ExpiringValue
from tests.support.clients import BaseUrlClient
from tests.support.lti_platform import INSTRUCTOR, Person

from .conftest import audit_actions, row_counts

GRACE = Person("teacher-1", "Grace", "Hopper", "grace@example.edu", roles=[INSTRUCTOR])
HUGE_ID = "9" * 20


def login_query(platform, **extra: str) -> str:  # type: ignore[no-untyped-def]
    return "/lti/login?" + urlencode(
        {"iss": platform.issuer, "login_hint": "h", "client_id": platform.client_id,
         "target_link_uri": "http://localhost/lti/launch", **extra}
    )  # fmt: skip


def last_remote_addr(app: Flask) -> str | None:
    with app.app_context(), records.get_database(app).transaction() as db:
        return db.scalars(select(AuditEvent.remote_addr).order_by(AuditEvent.id.desc())).first()


# ---- Host header and base URL ----------------------------------------------------------


def test_a_request_for_another_host_is_refused_and_writes_nothing(app, client, platform) -> None:
    before = row_counts(app)
    response = client.get(login_query(platform), headers={"Host": "attacker.example"})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "not trusted" in text and "Traceback" not in text and "<h1>" in text
    assert "attacker.example/lti/launch" not in response.headers.get("Location", "")
    assert row_counts(app) == before


def test_the_redirect_uri_comes_from_the_base_url(app, client, platform) -> None:
    auth = platform.login(client)
    assert auth.params["redirect_uri"] == "http://localhost/lti/launch"


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("http://tandem.example.org", "is plain http"),
        ("https://user:pw@tandem.example.org", "user name or password"),
        ("https://tandem.example.org/sub", "origin only"),
        ("ftp://tandem.example.org", "not an http(s) URL"),
        ("https://", "not an http(s) URL"),
    ],
)
def test_a_bad_base_url_is_refused(app_config: dict, base_url: str, message: str) -> None:
    config = {**app_config, "TANDEM_ALLOW_INSECURE_URLS": False, "TANDEM_BASE_URL": base_url}
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        create_app(config)


def test_without_a_base_url_only_health_answers(app_config: dict) -> None:
    app = create_app({**app_config, "TANDEM_BASE_URL": None})
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/lti/login?iss=x", headers={"Host": "attacker.example"})
    assert response.status_code == 503 and "TANDEM_BASE_URL" in response.get_data(as_text=True)
    app.extensions["tandem.database"].dispose()


# ---- Proxies ---------------------------------------------------------------------------


def test_proxy_headers_are_ignored_unless_the_operator_counts_proxies(app, client) -> None:
    forged = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    assert client.get("/lti/login", headers=forged).status_code == 400
    assert last_remote_addr(app) == "127.0.0.1"
    response = client.get("/", headers={"X-Forwarded-Host": "attacker.example", **forged})
    assert response.status_code == 200


def test_one_counted_proxy_gives_the_client_address_scheme_and_host(app_config: dict) -> None:
    app = create_app({**app_config, "TANDEM_PROXY_COUNT": "1",
                      "TANDEM_BASE_URL": "https://tandem.example.org"})  # fmt: skip
    client = app.test_client()
    # The proxy talks to Tandem at an internal address and says where the client was.
    proxied = {
        "Host": "tandem-internal:8000",
        "X-Forwarded-For": "198.51.100.1, 203.0.113.9",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "tandem.example.org",
    }
    assert client.get("/lti/login", headers=proxied).status_code == 400
    # Only the last hop (the one the proxy added) counts; the client could forge the first.
    assert last_remote_addr(app) == "203.0.113.9"
    forged_host = {**proxied, "X-Forwarded-Host": "attacker.example"}
    assert client.get("/lti/login", headers=forged_host).status_code == 400
    assert "not trusted" in client.get("/", headers=forged_host).get_data(as_text=True)
    app.extensions["tandem.database"].dispose()


def test_a_bad_proxy_count_is_refused(app_config: dict) -> None:
    with pytest.raises(ConfigurationError, match="TANDEM_PROXY_COUNT"):
        create_app({**app_config, "TANDEM_PROXY_COUNT": "-1"})


# ---- Cookies ---------------------------------------------------------------------------


def test_over_https_every_cookie_is_secure_and_samesite_none(app, client, platform) -> None:
    from lti_tool.config import apply_base_url

    apply_base_url(app.config, "https://tandem.example.org")
    auth = platform.login(client)
    token = platform.sign(platform.claims(auth.nonce, GRACE))
    launch = platform.post_launch(client, token, auth.state)
    assert launch.status_code == 303
    cookies = launch.headers.get_all("Set-Cookie")
    assert any(c.startswith("session=") for c in cookies)
    for cookie in cookies:
        assert "Secure" in cookie and "SameSite=None" in cookie, cookie
        assert "HttpOnly" in cookie, cookie


def test_over_plain_http_development_cookies_are_lax(app, client, platform) -> None:
    launch = platform.launch(client, GRACE)
    session_cookie = next(
        c for c in launch.headers.get_all("Set-Cookie") if c.startswith("session=")
    )
    assert "SameSite=Lax" in session_cookie and "Secure" not in session_cookie


# ---- Login CSRF: no audit row for a good login initiation -------------------------------


def test_a_good_login_writes_its_state_only(app, client, platform) -> None:
    before = row_counts(app)
    response = client.get(login_query(platform))
    assert response.status_code == 302
    after = row_counts(app)
    assert {k: after[k] - before[k] for k in after if after[k] != before[k]} == {
        "expiring_values": 1
    }


# ---- Rate limits -----------------------------------------------------------------------


@pytest.fixture
def limited_config(app_config: dict) -> dict:
    return {**app_config, "TANDEM_RATE_LIMITS": {"lti.login": "3 per minute",
                                                 "lti.register": "2 per hour"}}  # fmt: skip


def test_logins_are_limited_per_client_across_workers(limited_config: dict, platform) -> None:
    # Two apps on one database stand for two workers (or hosts) behind a load balancer.
    first, second = create_app(limited_config), create_app(limited_config)
    first.test_client_class = second.test_client_class = BaseUrlClient
    path = login_query(platform)
    assert first.test_client().get(path).status_code == 302
    assert second.test_client().get(path).status_code == 302
    assert first.test_client().get(path).status_code == 302
    audits = len(audit_actions(first))
    refused = second.test_client().get(path)
    assert refused.status_code == 429
    text = refused.get_data(as_text=True)
    assert "Too Many Requests" in text and "<h1>" in text and "Traceback" not in text
    # No audit row for a refusal a flood could repeat at will.
    assert len(audit_actions(first)) == audits
    # Another client is not held back.
    other = first.test_client().get(path, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 302
    with first.app_context(), records.get_database(first).transaction() as db:
        counters = db.scalars(
            select(ExpiringValue.key).where(ExpiringValue.namespace == RATE_LIMITS)
        ).all()
    assert len(counters) == 2 and any("192.0.2.7" in key for key in counters)
    for app in (first, second):
        app.extensions["tandem.database"].dispose()


def test_registrations_are_limited_per_client(limited_config: dict) -> None:
    app = create_app(limited_config)
    app.test_client_class = BaseUrlClient
    client = app.test_client()
    assert [client.get("/lti/register").status_code for _ in range(3)] == [400, 400, 429]
    app.extensions["tandem.database"].dispose()


def test_the_default_limits(app) -> None:
    from lti_tool.ratelimits import limits_of

    assert limits_of(app.config) == {
        "lti.login": "120 per minute",
        "lti.register": "10 per hour",
        "portals.email_send": "10 per minute;50 per hour",
    }
    with pytest.raises(ConfigurationError, match=r"lti\.jwks"):
        limits_of({"TANDEM_RATE_LIMITS": "lti.jwks=1 per day"})


# ---- Ids past what the database holds: 404 ---------------------------------------------


def test_every_route_answers_404_to_a_twenty_digit_id(app, client, platform) -> None:
    platform.launch(client, GRACE)
    with client.session_transaction() as cookie:
        csrf = cookie["csrf"]
    tried = 0
    for rule in app.url_map.iter_rules():
        ints = [name for name, conv in rule._converters.items() if isinstance(conv, IdConverter)]
        if not ints:
            continue
        path = rule.rule
        for name in rule.arguments:
            value = HUGE_ID if name in ints else "x"
            path = re.sub(rf"<(?:[a-z]+:)?{name}>", value, path)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method, data={"csrf_token": csrf})
            assert response.status_code == 404, (method, path, response.status_code)
            tried += 1
    assert tried > 20


@pytest.mark.parametrize("field", ["mentee_id", "mentor_id"])
def test_a_twenty_digit_id_in_a_form_is_not_found(app, client, platform, field: str) -> None:
    platform.launch(client, GRACE)
    with client.session_transaction() as cookie:
        csrf = cookie["csrf"]
    form = {"csrf_token": csrf, "mentee_id": "1", "mentor_id": "1", field: HUGE_ID}
    assert client.post("/programmes/1/assign", data=form).status_code == 404
    assert str(MAX_ID + 1) != HUGE_ID


# ---- Content-Security-Policy script-src ------------------------------------------------


def test_inline_scripts_run_only_with_the_pages_nonce(app, client, platform) -> None:
    page = client.get(login_query(platform), headers={"Sec-Fetch-Dest": "iframe"})
    assert page.status_code == 200
    policy = dict(
        part.strip().split(" ", 1) for part in page.headers["Content-Security-Policy"].split(";")
    )
    nonce = re.fullmatch(r"'nonce-([A-Za-z0-9_-]{20,})'", policy["script-src"]).group(1)
    scripts = re.findall(r"<script([^>]*)>", page.get_data(as_text=True))
    assert scripts and all(f'nonce="{nonce}"' in attributes for attributes in scripts)
    assert policy["object-src"] == "'none'" and policy["base-uri"] == "'none'"
    # A page without scripts allows none; each response has its own nonce.
    assert "script-src 'none'" in client.get("/").headers["Content-Security-Policy"]
    again = client.get(login_query(platform), headers={"Sec-Fetch-Dest": "iframe"})
    assert nonce not in again.headers["Content-Security-Policy"]


def test_no_template_has_an_inline_handler_or_a_script_without_nonce() -> None:
    from pathlib import Path

    import lti_tool

    folder = Path(lti_tool.__file__).parent / "templates"
    for template in folder.rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"\son[a-z]+\s*=", text), template
        for attributes in re.findall(r"<script([^>]*)>", text):
            assert 'nonce="{{ csp_nonce() }}"' in attributes, template


@pytest.mark.parametrize(
    ("word", "allowed"), [("1", True), ("yes", True), ("0", False), ("", False)]
)
def test_the_development_switch_is_read_as_yes_or_no(
    app_config: dict, word: str, allowed: bool
) -> None:
    base = "https://tandem.example.org"
    app = create_app({**app_config, "TANDEM_ALLOW_INSECURE_URLS": word, "TANDEM_BASE_URL": base})
    assert app.config["TANDEM_ALLOW_INSECURE_URLS"] is allowed
    app.extensions["tandem.database"].dispose()
    with pytest.raises(ConfigurationError, match="TANDEM_ALLOW_INSECURE_URLS"):
        create_app({**app_config, "TANDEM_ALLOW_INSECURE_URLS": "perhaps"})
