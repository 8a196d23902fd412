"""Talking to a portal's OpenID Connect provider: discovery, keys, code for tokens.

One ``requests.Session`` per call in a ``with`` block (no leaked sockets), a timeout on
every request, and every transport or payload failure turned into :class:`ProviderError`.
The token exchange goes through Authlib's OAuth 2 client, which does client
authentication and PKCE the way the specifications say.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session

import outbound

from .errors import CodeRefused, PortalConfigError, ProviderError

TIMEOUT_SECONDS = 10
SCOPE = "openid profile email"
# Asymmetric algorithms only: an HMAC-signed ID token would be signed with the client
# secret, which the portal's whole staff may know.
ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
_AUTH_METHODS = ("client_secret_basic", "client_secret_post")


@dataclass(frozen=True)
class ProviderMetadata:
    """What Tandem keeps of a provider's discovery document."""

    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    token_auth_method: str
    algorithms: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "authorization_endpoint": self.authorization_endpoint,
            "token_endpoint": self.token_endpoint,
            "jwks_uri": self.jwks_uri,
            "token_auth_method": self.token_auth_method,
            "algorithms": list(self.algorithms),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProviderMetadata:
        return cls(
            authorization_endpoint=data["authorization_endpoint"],
            token_endpoint=data["token_endpoint"],
            jwks_uri=data["jwks_uri"],
            token_auth_method=data["token_auth_method"],
            algorithms=tuple(data["algorithms"]),
        )


def check_provider_url(url: str, what: str) -> str:
    """``url`` if :func:`outbound.check_url` passes it and it is https (or, under the
    development switch, http on loopback, for local portals and tests).

    Raises:
        PortalConfigError: it is not.
    """
    try:
        outbound.check_url(url)
    except outbound.URLRefused as exc:
        raise PortalConfigError(f"{what}: {exc}", reason="bad_url") from exc
    parts = urlsplit(url)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
        raise PortalConfigError(
            f"{what} {url!r} must be an https:// URL (http:// only on 127.0.0.1 or localhost)",
            reason="bad_url",
        )
    return url


def _get_json(url: str, what: str) -> Any:
    try:
        # Checked, pinned to the checked address, no redirect followed.
        with outbound.outbound_session() as http:
            response = http.get(
                url, timeout=TIMEOUT_SECONDS, headers={"Accept": "application/json"}
            )
    except outbound.URLRefused as exc:
        raise ProviderError(f"the {what}: {exc}", reason="bad_url") from exc
    except requests.RequestException as exc:
        raise ProviderError(
            f"cannot fetch the {what} at {url}: {type(exc).__name__}", reason="unreachable"
        ) from exc
    if response.status_code != 200:
        raise ProviderError(
            f"the {what} at {url} answered HTTP {response.status_code}", reason="http_error"
        )
    try:
        return response.json()
    except ValueError as exc:
        raise ProviderError(f"the {what} at {url} is not JSON", reason="bad_json") from exc


def discover(issuer: str) -> ProviderMetadata:
    """Read ``ISSUER/.well-known/openid-configuration`` and check what Tandem needs.

    Raises:
        PortalConfigError: the issuer URL is not acceptable.
        ProviderError: the document is unreachable, or not a valid configuration for it.
    """
    check_provider_url(issuer, "the issuer")
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    document = _get_json(url, "discovery document")
    if not isinstance(document, dict):
        raise ProviderError(f"the discovery document at {url} is not an object", reason="bad_json")
    # OpenID Connect Discovery 1.0, section 4.3: the issuer must be exactly the one asked.
    if document.get("issuer") != issuer:
        raise ProviderError(
            f"the discovery document names issuer {document.get('issuer')!r}, not {issuer!r}",
            reason="issuer_mismatch",
        )
    endpoints = {}
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = document.get(name)
        if not isinstance(value, str) or not value:
            raise ProviderError(f"the discovery document has no {name}", reason="incomplete")
        endpoints[name] = check_provider_url(value, name)
    methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    auth_method = next((m for m in _AUTH_METHODS if m in methods), None)
    if auth_method is None:
        raise ProviderError(
            f"the provider supports none of {', '.join(_AUTH_METHODS)} at its token endpoint",
            reason="incomplete",
        )
    offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = tuple(a for a in ALLOWED_ALGORITHMS if a in offered)
    if not algorithms:
        raise ProviderError(
            f"the provider signs ID tokens only with {offered}; Tandem needs RS256 or another "
            "asymmetric algorithm",
            reason="incomplete",
        )
    pkce = document.get("code_challenge_methods_supported")
    if isinstance(pkce, list) and "S256" not in pkce:
        raise ProviderError("the provider does not support PKCE with S256", reason="incomplete")
    return ProviderMetadata(**endpoints, token_auth_method=auth_method, algorithms=algorithms)


def fetch_key_set(jwks_uri: str) -> dict[str, Any]:
    """The provider's public keys (JWKS).

    Raises:
        ProviderError: unreachable, or not a key set.
    """
    key_set = _get_json(jwks_uri, "key set")
    if not isinstance(key_set, dict) or not isinstance(key_set.get("keys"), list):
        raise ProviderError(f"the key set at {jwks_uri} has no keys", reason="bad_jwks")
    return key_set


def authorization_url(
    metadata: ProviderMetadata,
    client_id: str,
    redirect_uri: str,
    *,
    state: str,
    nonce: str,
    code_verifier: str,
) -> str:
    """Where to send the browser: the authorization request with state, nonce and PKCE."""
    with OAuth2Session(
        client_id, redirect_uri=redirect_uri, scope=SCOPE, code_challenge_method="S256"
    ) as client:
        url, _ = client.create_authorization_url(
            metadata.authorization_endpoint, state=state, nonce=nonce, code_verifier=code_verifier
        )
    return url


def exchange_code(
    metadata: ProviderMetadata,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    *,
    code: str,
    code_verifier: str,
) -> dict[str, Any]:
    """Trade the authorization code for tokens at the token endpoint.

    Raises:
        CodeRefused: the provider refused the code (used, expired, forged).
        ProviderError: the provider could not be reached or answered nonsense.
    """
    check_provider_url(metadata.token_endpoint, "token_endpoint")
    try:
        with OAuth2Session(
            client_id,
            client_secret,
            redirect_uri=redirect_uri,
            token_endpoint_auth_method=metadata.token_auth_method,
        ) as client:
            token = client.fetch_token(
                metadata.token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
                timeout=TIMEOUT_SECONDS,
            )
    except AuthlibBaseError as exc:
        # The provider said no (invalid_grant for a used or expired code, say).
        raise CodeRefused(
            f"the portal refused the sign-in code ({exc.error})", reason="code_refused"
        ) from exc
    except (requests.RequestException, ValueError) as exc:
        raise ProviderError(
            f"cannot exchange the code at the portal's token endpoint: {type(exc).__name__}",
            reason="token_unreachable",
        ) from exc
    if not isinstance(token, dict) or not isinstance(token.get("id_token"), str):
        raise ProviderError("the portal's token answer has no id_token", reason="no_id_token")
    return dict(token)
