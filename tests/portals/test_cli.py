"""``tandem portal add|list|remove`` against the test database and a loopback provider."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import Result
from flask import Flask
from sqlalchemy import select

import records
from records import Portal, Tenant
from tests.support.oidc_provider import OidcProvider

Cli = Callable[[list[str]], Result]
PLAIN_HTTP_REST = ["--client-id", "c", "--client-secret", "s", "--tenant", "t"]


def add_args(provider: OidcProvider, *extra: str) -> list[str]:
    return [
        "portal",
        "add",
        "assoc",
        "--issuer",
        provider.issuer,
        "--client-id",
        provider.client_id,
        "--client-secret",
        provider.client_secret,
        *extra,
    ]


def test_add_list_remove(app: Flask, cli: Cli, provider: OidcProvider) -> None:
    result = cli(
        add_args(
            provider,
            "--tenant",
            "portal-only",
            "--claim-member-number",
            "member_no",
            "--coordinator-claim",
            "groups",
            "--coordinator-values",
            "coordinators, staff",
            "--origin",
            "https://portal.example.org/home",
        )
    )
    assert result.exit_code == 0, result.output
    assert "/portal/assoc/login" in result.output
    assert "redirect URI" in result.output and "/portal/assoc/callback" in result.output
    assert provider.client_secret not in result.output
    with app.app_context(), records.get_database(app).transaction() as session:
        portal = session.scalars(select(Portal)).one()
        tenant = session.get(Tenant, portal.tenant_id)
        assert tenant is not None
        assert (tenant.slug, tenant.issuer, tenant.client_id) == ("portal-only", None, None)
        assert portal.coordinator_values == ["coordinators", "staff"]
        assert portal.origins == ["https://portal.example.org"]
        assert portal.provider["token_endpoint"] == f"{provider.issuer}/token"
        # Encrypted at rest, and it opens with the tenant's key.
        assert provider.client_secret not in (portal.client_secret_encrypted or "")
        box = app.extensions["tandem.secrets"]
        assert box.decrypt(portal.client_secret_encrypted or "") == provider.client_secret

    listed = cli(["portal", "list"])
    assert listed.exit_code == 0
    assert "assoc\tportal-only\toidc" in listed.output
    assert provider.client_secret not in listed.output

    again = cli(add_args(provider, "--tenant", "portal-only", "--allow-self-registration"))
    assert again.exit_code == 0, again.output
    assert "self-registration" in cli(["portal", "list"]).output

    removed = cli(["portal", "remove", "assoc"])
    assert removed.exit_code == 0
    assert cli(["portal", "list"]).output.strip() == "no portals registered"


def test_default_origin_is_the_issuers(app: Flask, cli: Cli, provider: OidcProvider) -> None:
    assert cli(add_args(provider, "--tenant", "t1")).exit_code == 0
    with app.app_context(), records.get_database(app).transaction() as session:
        assert session.scalars(select(Portal)).one().origins == [provider.issuer]


def test_email_link_portal(cli: Cli) -> None:
    result = cli(["portal", "add", "nosso", "--email-link", "--tenant", "small-assoc"])
    assert result.exit_code == 0, result.output
    assert "redirect URI" not in result.output
    assert "nosso\tsmall-assoc\temail_link" in cli(["portal", "list"]).output


def test_bad_input_is_refused_with_one_line(app: Flask, cli: Cli, provider: OidcProvider) -> None:
    cases = [
        (add_args(provider, "--tenant", "Bad Slug"), "tenant slug"),
        (["portal", "add", "Bad Name", "--email-link", "--tenant", "t"], "portal name"),
        (["portal", "add", "x", "--tenant", "t"], "needs --issuer"),
        (
            ["portal", "add", "x", "--issuer", "http://portal.example.org", *PLAIN_HTTP_REST],
            "must be an https:// URL",
        ),
        (
            add_args(provider, "--tenant", "t", "--coordinator-claim", "groups"),
            "needs --coordinator-values",
        ),
        (["portal", "add", "x", "--email-link", "--issuer", "https://a.example"], "takes no"),
        (add_args(provider), "--tenant"),  # no tenant and not exactly one
        (["portal", "remove", "nobody"], "not connected"),
    ]
    for args, message in cases:
        result = cli(args)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output, (args, result.output)
        assert provider.client_secret not in result.output
    with app.app_context(), records.get_database(app).transaction() as session:
        assert session.scalars(select(Portal)).all() == []


def test_discovery_problems_are_refused(app: Flask, cli: Cli, provider: OidcProvider) -> None:
    provider.discovery_overrides = {"issuer": "https://someone-else.example.org"}
    result = cli(add_args(provider, "--tenant", "t"))
    assert result.exit_code == 1 and "names issuer" in result.output
    provider.discovery_overrides = {"id_token_signing_alg_values_supported": ["HS256"]}
    result = cli(add_args(provider, "--tenant", "t"))
    assert result.exit_code == 1 and "asymmetric" in result.output
    result = cli(add_args(provider, "--tenant", "t", "--issuer", "http://127.0.0.1:9"))
    assert result.exit_code == 1 and "cannot fetch" in result.output
    with app.app_context(), records.get_database(app).transaction() as session:
        assert session.scalars(select(Portal)).all() == []
        assert session.scalars(select(Tenant)).all() == []


def test_a_name_belongs_to_one_tenant(cli: Cli, provider: OidcProvider) -> None:
    assert cli(add_args(provider, "--tenant", "one")).exit_code == 0
    result = cli(add_args(provider, "--tenant", "two"))
    assert result.exit_code == 1 and "another tenant" in result.output


def test_add_prints_what_to_register_and_takes_the_token_auth_method(
    app: Flask, cli: Cli, provider: OidcProvider
) -> None:
    provider.discovery_overrides = {"id_token_signing_alg_values_supported": ["EdDSA", "ES256"]}
    provider.end_session = True
    result = cli(add_args(provider, "--tenant", "t", "--token-auth", "client_secret_post"))
    assert result.exit_code == 0, result.output
    assert (
        "register token endpoint authentication client_secret_post and ID token signing "
        "algorithm ES256 at the portal (Tandem also accepts: ES256, EdDSA)" in result.output
    )
    assert "post-logout redirect URI at the portal: <TANDEM_BASE_URL>/sign-out" in result.output
    with app.app_context(), records.get_database(app).transaction() as session:
        stored = session.scalars(select(Portal)).one().provider
        assert stored["token_auth_method"] == "client_secret_post"
        assert stored["end_session_endpoint"] == f"{provider.issuer}/session/end"
        assert stored["userinfo_endpoint"] == f"{provider.issuer}/userinfo"

    provider.discovery_overrides = {}
    provider.end_session = False
    again = cli(add_args(provider, "--tenant", "t"))
    assert "signing algorithm RS256" in again.output
    assert "client_secret_basic" in again.output and "post-logout" not in again.output


def test_token_auth_method_must_be_one_the_portal_offers(
    app: Flask, cli: Cli, provider: OidcProvider
) -> None:
    provider.discovery_overrides = {
        "token_endpoint_auth_methods_supported": ["client_secret_basic"]
    }
    cases = [
        (add_args(provider, "--tenant", "t", "--token-auth", "client_secret_post"), "offers"),
        (add_args(provider, "--tenant", "t", "--token-auth", "private_key_jwt"), "private_key_jwt"),
        (["portal", "add", "x", "--email-link", "--token-auth", "client_secret_post"], "takes no"),
    ]
    for args, message in cases:
        result = cli(args)
        assert result.exit_code != 0, (args, result.output)
        assert message in result.output, (args, result.output)
    with app.app_context(), records.get_database(app).transaction() as session:
        assert session.scalars(select(Portal)).all() == []
