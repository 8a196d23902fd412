"""Issue 12, finding 12: connectors follow links only on the configured source's origin,
never to another host with the credentials attached, and refuse plain-http sources."""

from __future__ import annotations

import json

import pytest
import responses

from connectors import ConfigError, RefusedURL
from connectors.canvas import CanvasConnector
from connectors.configs import add_config
from connectors.generic_rest import RestConnector
from records import Database, SecretBox, Tenant
from tests.conftest import TEST_ENCRYPTION_KEY

ATTACKER = "https://collector.attacker.example/steal"


def counting(method: str, url: str, body: object) -> list:
    """Serve ``body`` at ``url`` and record each request and its credentials."""
    seen: list = []

    def callback(request):  # type: ignore[no-untyped-def]
        seen.append(request.headers.get("Authorization"))
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    responses.add_callback(method, url, callback=callback)
    return seen


def canvas_admins(canvas: str) -> None:
    """The platform accounts a Canvas connector reads first: admins and the token's user."""
    responses.get(f"{canvas}/api/v1/accounts/site_admin/admins", json=[])
    responses.get(f"{canvas}/api/v1/accounts/1/admins", json=[])
    responses.get(f"{canvas}/api/v1/users/self", json={"id": 1, "name": "Token Owner"})


@responses.activate
def test_a_next_url_on_another_host_is_not_followed() -> None:
    sf = "https://acme.my.salesforce.com"
    responses.get(
        f"{sf}/services/data/v59.0/query",
        json={"totalSize": 3, "done": False, "nextRecordsUrl": ATTACKER, "records": []},
    )
    stolen = counting(responses.GET, ATTACKER, {"records": []})
    connector = RestConnector(sf, "sf-token", {"preset": "salesforce"})
    with pytest.raises(RefusedURL, match="not on the configured source"):
        list(connector.iter_members())
    assert stolen == []


@responses.activate
def test_a_link_header_to_another_host_is_not_followed() -> None:
    canvas = "https://canvas.example.org"
    canvas_admins(canvas)
    responses.get(
        f"{canvas}/api/v1/accounts/1/users",
        json=[],
        headers={"Link": f'<{ATTACKER}?page=2>; rel="next"'},
    )
    stolen = counting(responses.GET, f"{ATTACKER}?page=2", [])
    connector = CanvasConnector(canvas, "canvas-token", {"account_id": 1})
    with pytest.raises(RefusedURL, match="not on the configured source"):
        list(connector.iter_members())
    assert stolen == []


@responses.activate
def test_a_link_to_the_same_host_on_another_port_or_scheme_is_not_followed() -> None:
    canvas = "https://canvas.example.org"
    for elsewhere in ("https://canvas.example.org:8443/x", "http://canvas.example.org/x"):
        responses.reset()
        canvas_admins(canvas)
        responses.get(
            f"{canvas}/api/v1/accounts/1/users", json=[],
            headers={"Link": f'<{elsewhere}>; rel="next"'},
        )  # fmt: skip
        stolen = counting(responses.GET, elsewhere, [])
        with pytest.raises(RefusedURL):
            list(CanvasConnector(canvas, "tok", {"account_id": 1}).iter_members())
        assert stolen == []


@responses.activate
def test_an_async_result_url_on_another_host_is_not_polled() -> None:
    wa = "https://api.wildapricot.org/v2.2"
    responses.post(
        "https://oauth.wildapricot.org/auth/token",
        json={"access_token": "wa-access-1", "expires_in": 1800},
    )
    responses.get(
        f"{wa}/accounts/42/contacts",
        json={"ResultId": "r1", "ResultUrl": f"{ATTACKER}?resultId=r1", "State": "Waiting"},
    )
    stolen = counting(responses.GET, f"{ATTACKER}?resultId=r1", {"State": "Complete"})
    settings = {"preset": "wildapricot", "variables": {"account_id": 42}}
    connector = RestConnector(wa, "wa-api-key", settings, sleep=lambda s: None)
    with pytest.raises(RefusedURL):
        list(connector.iter_members())
    assert stolen == []


@responses.activate
def test_a_redirect_is_not_followed_with_the_token(public_dns) -> None:
    canvas = "https://canvas.example.org"
    canvas_admins(canvas)
    responses.get(f"{canvas}/api/v1/accounts/1/users", status=302, headers={"Location": ATTACKER})
    stolen = counting(responses.GET, ATTACKER, [])
    with pytest.raises(RefusedURL, match="redirect"):
        list(CanvasConnector(canvas, "tok", {"account_id": 1}).iter_members())
    assert stolen == []


@responses.activate
@pytest.mark.parametrize(
    "url", ["http://directory.example.org", "https://10.0.0.3", "https://127.0.0.1:8443"]
)
def test_plain_http_and_internal_sources_are_refused_unsent(public_dns, url: str) -> None:
    seen = counting(responses.GET, f"{url}/Users", {"Resources": []})
    connector = RestConnector(url, "tok", {"preset": "scim"})
    with pytest.raises(RefusedURL):
        list(connector.iter_members())
    assert seen == []


def test_connector_add_refuses_a_plain_http_url(database: Database, public_dns) -> None:
    box = SecretBox.from_setting(TEST_ENCRYPTION_KEY)
    with database.transaction() as session:
        tenant = Tenant(slug="assoc", name="Association")
        session.add(tenant)
        session.flush()
        with pytest.raises(ConfigError, match="not an https"):
            add_config(session, box, tenant.id, kind="moodle", name="site",
                       base_url="http://moodle.example.org", token="t")  # fmt: skip
        with pytest.raises(ConfigError, match="user name or password"):
            add_config(session, box, tenant.id, kind="moodle", name="site",
                       base_url="https://u:p@moodle.example.org", token="t")  # fmt: skip
        ok = add_config(session, box, tenant.id, kind="moodle", name="site",
                        base_url="https://moodle.example.org", token="t")  # fmt: skip
        assert ok.base_url == "https://moodle.example.org"


def test_the_suites_loopback_directory_is_reachable_only_under_the_switch(monkeypatch) -> None:
    from tests.support.remote import loopback_server, send_json

    seen: list[str] = []

    def scim(request) -> None:  # type: ignore[no-untyped-def]
        seen.append(request.path)
        send_json(request, {"Resources": [], "totalResults": 0})

    with loopback_server(scim) as url:
        assert list(RestConnector(url, "tok", {"preset": "scim"}).iter_members()) == []
        assert len(seen) == 1
        monkeypatch.delenv("TANDEM_ALLOW_INSECURE_URLS")
        with pytest.raises(RefusedURL, match="not an https"):
            list(RestConnector(url, "tok", {"preset": "scim"}).iter_members())
        assert len(seen) == 1
