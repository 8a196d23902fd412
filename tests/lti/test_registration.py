"""LTI Dynamic Registration and the Canvas developer-key JSON."""

from __future__ import annotations

import json
from datetime import timedelta

import responses

import records
from tests.support.lti_platform import TestPlatform

CONFIG_URL = "https://moodle.example.edu/mod/lti/openid-configuration.php"
REGISTER_URL = "https://moodle.example.edu/mod/lti/openid-registration.php"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


def openid_configuration(issuer: str = "https://moodle.example.edu") -> dict:
    return {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/mod/lti/token.php",
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "jwks_uri": f"{issuer}/mod/lti/certs.php",
        "authorization_endpoint": f"{issuer}/mod/lti/auth.php",
        "registration_endpoint": REGISTER_URL,
        "scopes_supported": ["openid", SCOPE_NRPS],
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "email"],
        "https://purl.imsglobal.org/spec/lti-platform-configuration": {
            "product_family_code": "moodle",
            "version": "4.3",
            "messages_supported": [
                {"type": "LtiResourceLinkRequest"},
                {"type": "LtiDeepLinkingRequest"},
            ],
        },
    }


def invite(app, name: str | None = None, lifetime: timedelta = timedelta(days=7)) -> str:  # type: ignore[no-untyped-def]
    """The path of a fresh registration invite, as `tandem platform invite` prints it."""
    from platforms import create_invite

    with app.app_context(), records.get_database(app).transaction() as session:
        return f"/lti/register/{create_invite(session, name=name, lifetime=lifetime)}"


def mount_registration(mock: responses.RequestsMock, config: dict, seen: list) -> None:
    def config_callback(request):  # type: ignore[no-untyped-def]
        if request.headers.get("Authorization") != "Bearer reg-token":
            return 401, {}, "{}"
        return 200, {"Content-Type": "application/json"}, json.dumps(config)

    def register_callback(request):  # type: ignore[no-untyped-def]
        seen.append((request.headers.get("Authorization"), json.loads(request.body)))
        body = json.loads(request.body)
        body["client_id"] = "dyn-client-1"
        body["https://purl.imsglobal.org/spec/lti-tool-configuration"]["deployment_id"] = "7"
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    mock.add_callback(responses.GET, CONFIG_URL, callback=config_callback)
    mock.add_callback(responses.POST, REGISTER_URL, callback=register_callback)


def test_dynamic_registration_then_a_launch(app, client, mock_http) -> None:
    seen: list = []
    mount_registration(mock_http, openid_configuration(), seen)
    response = client.get(
        f"{invite(app)}?openid_configuration={CONFIG_URL}&registration_token=reg-token"
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    text = response.get_data(as_text=True)
    assert "org.imsglobal.lti.close" in text
    assert (
        "frame-ancestors 'self' https://moodle.example.edu"
        in response.headers["Content-Security-Policy"]
    )
    [(authorization, body)] = seen
    assert authorization == "Bearer reg-token"
    assert body["initiate_login_uri"] == "http://localhost/lti/login"
    assert body["redirect_uris"] == ["http://localhost/lti/launch"]
    assert body["jwks_uri"] == "http://localhost/lti/jwks"
    assert body["token_endpoint_auth_method"] == "private_key_jwt"
    assert body["scope"] == SCOPE_NRPS  # only what the platform supports
    tool = body["https://purl.imsglobal.org/spec/lti-tool-configuration"]
    assert {m["type"] for m in tool["messages"]} == {"LtiResourceLinkRequest",
                                                      "LtiDeepLinkingRequest"}  # fmt: skip

    platform = TestPlatform(client_id="dyn-client-1", deployment_id="7")
    platform.mount(mock_http)
    launched = platform.launch(client)
    assert launched.status_code == 303
    assert client.get("/me").status_code == 200


def test_registering_twice_adds_the_deployment_once(app, client, mock_http) -> None:
    mount_registration(mock_http, openid_configuration(), [])
    query = f"?openid_configuration={CONFIG_URL}&registration_token=reg-token"
    assert client.get(invite(app) + query).status_code == 200
    assert client.get(invite(app) + query).status_code == 200
    from sqlalchemy import select

    from records import Deployment, Tenant

    with app.app_context(), records.get_database(app).transaction() as session:
        assert len(session.scalars(select(Tenant)).all()) == 1
        assert len(session.scalars(select(Deployment)).all()) == 1


def test_configuration_for_another_issuer_is_refused(app, client, mock_http) -> None:
    mount_registration(mock_http, openid_configuration("https://evil.example.net"), [])
    response = client.get(
        f"{invite(app)}?openid_configuration={CONFIG_URL}&registration_token=reg-token"
    )
    assert response.status_code == 400
    assert "not served under" in response.get_data(as_text=True)


def test_registration_needs_https_and_a_configuration(app, client, production_urls) -> None:
    assert client.get("/lti/register").status_code == 400
    response = client.get(f"{invite(app)}?openid_configuration=http://lms.local/config")
    assert response.status_code == 400


def test_platform_refusing_registration_is_a_502(app, client, mock_http) -> None:
    mount_registration(mock_http, openid_configuration(), [])
    response = client.get(f"{invite(app)}?openid_configuration={CONFIG_URL}")  # no token
    assert response.status_code == 502


def test_canvas_json(client) -> None:
    config = client.get("/lti/config/canvas.json").get_json()
    assert config["oidc_initiation_url"] == "http://localhost/lti/login"
    assert config["target_link_uri"] == "http://localhost/lti/launch"
    assert config["public_jwk_url"] == "http://localhost/lti/jwks"
    assert config["custom_fields"] == {
        "canvas_user_id": "$Canvas.user.id",
        "canvas_course_id": "$Canvas.course.id",
    }
    [extension] = config["extensions"]
    assert extension["platform"] == "canvas.instructure.com"
    assert extension["privacy_level"] == "public"
    types = {p["placement"]: p["message_type"] for p in extension["settings"]["placements"]}
    assert types["course_navigation"] == "LtiResourceLinkRequest"
    assert types["link_selection"] == "LtiDeepLinkingRequest"
    assert SCOPE_NRPS in config["scopes"]


def test_canvas_json_uses_the_configured_base_url(app, client) -> None:
    from lti_tool.config import apply_base_url

    apply_base_url(app.config, "https://tandem.example.org")
    config = client.get("/lti/config/canvas.json").get_json()
    assert config["oidc_initiation_url"] == "https://tandem.example.org/lti/login"
    assert config["extensions"][0]["domain"] == "tandem.example.org"
