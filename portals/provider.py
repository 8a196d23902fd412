"""Talking to a portal's OpenID Connect provider: discovery, keys, tokens, userinfo.

Every request goes through :func:`_send`: one ``requests.Session`` per call in a ``with``
block (no leaked sockets), a timeout, and every transport failure turned into
:class:`ProviderError`. The authorization URL comes from Authlib's OAuth 2 client (PKCE);
the code exchange is a plain form post, so that client authentication follows RFC 6749
section 2.3.1 exactly and a refused client is told apart from a refused code.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit, urlunsplit

import requests
from authlib.integrations.requests_client import OAuth2Session

import outbound

from .errors import ClientRejected, CodeRefused, PortalConfigError, ProviderError

TIMEOUT_SECONDS = 10
SCOPE = "openid profile email"
# Asymmetric algorithms only: an HMAC-signed ID token would be signed with the client
# secret, which the portal's whole staff may know. "Ed25519" is RFC 9864's name for
# EdDSA over Ed25519.
ALLOWED_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
    "Ed25519",
)
# OpenID Connect's default for id_token_signed_response_alg: what a portal signs with
# unless told otherwise at client registration.
DEFAULT_ALGORITHM = "RS256"
TOKEN_AUTH_METHODS = ("client_secret_basic", "client_secret_post")


@dataclass(frozen=True)
class ProviderMetadata:
    """What Tandem keeps of a provider's discovery document."""

    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    token_auth_method: str
    algorithms: tuple[str, ...]
    userinfo_endpoint: str | None = None
    end_session_endpoint: str | None = None

    @property
    def algorithm_to_register(self) -> str:
        """The ID token signing algorithm to register at the portal for Tandem."""
        return DEFAULT_ALGORITHM if DEFAULT_ALGORITHM in self.algorithms else self.algorithms[0]

    def as_dict(self) -> dict[str, Any]:
        return {
            "authorization_endpoint": self.authorization_endpoint,
            "token_endpoint": self.token_endpoint,
            "jwks_uri": self.jwks_uri,
            "token_auth_method": self.token_auth_method,
            "algorithms": list(self.algorithms),
            "userinfo_endpoint": self.userinfo_endpoint,
            "end_session_endpoint": self.end_session_endpoint,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProviderMetadata:
        # Portals registered before userinfo and sign-out were read have neither key:
        # `tandem portal add` again re-reads the discovery document.
        return cls(
            authorization_endpoint=data["authorization_endpoint"],
            token_endpoint=data["token_endpoint"],
            jwks_uri=data["jwks_uri"],
            token_auth_method=data["token_auth_method"],
            algorithms=tuple(data["algorithms"]),
            userinfo_endpoint=data.get("userinfo_endpoint"),
            end_session_endpoint=data.get("end_session_endpoint"),
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


def _send(method: str, url: str, what: str, **kwargs: Any) -> requests.Response:
    """The one place Tandem sends a request to a portal's provider.

    Raises:
        ProviderError: the provider could not be reached (the message names no secret).
    """
    headers = {"Accept": "application/json", **kwargs.pop("headers", {})}
    try:
        # Checked, pinned to the checked address, no redirect followed.
        with outbound.outbound_session() as http:
            return http.request(method, url, timeout=TIMEOUT_SECONDS, headers=headers, **kwargs)
    except outbound.URLRefused as exc:
        raise ProviderError(f"the {what}: {exc}", reason="bad_url") from exc
    except requests.RequestException as exc:
        raise ProviderError(
            f"cannot fetch the {what} at {url}: {type(exc).__name__}", reason="unreachable"
        ) from exc


def _json_of(response: requests.Response, url: str, what: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise ProviderError(f"the {what} at {url} is not JSON", reason="bad_json") from exc


def _get_json(url: str, what: str, headers: dict[str, str] | None = None) -> Any:
    response = _send("GET", url, what, headers=headers or {})
    if response.status_code != 200:
        raise ProviderError(
            f"the {what} at {url} answered HTTP {response.status_code}", reason="http_error"
        )
    return _json_of(response, url, what)


def _optional_endpoint(document: dict[str, Any], name: str) -> str | None:
    value = document.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ProviderError(f"the discovery document's {name} is not a URL", reason="incomplete")
    return check_provider_url(value, name)


def _token_auth_method(document: dict[str, Any], wanted: str | None) -> str:
    """The operator's choice when the provider offers it, else the first Tandem has.

    OpenID Connect Discovery 1.0: without ``token_endpoint_auth_methods_supported`` a
    provider takes ``client_secret_basic``.
    """
    methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    if wanted is not None:
        if wanted not in TOKEN_AUTH_METHODS:
            raise PortalConfigError(
                f"--token-auth {wanted!r} must be one of {', '.join(TOKEN_AUTH_METHODS)}",
                reason="bad_token_auth",
            )
        if wanted not in methods:
            raise PortalConfigError(
                f"the provider does not offer --token-auth {wanted} (it offers "
                f"{', '.join(str(m) for m in methods)})",
                reason="bad_token_auth",
            )
        return wanted
    method = next((m for m in TOKEN_AUTH_METHODS if m in methods), None)
    if method is None:
        raise ProviderError(
            f"the provider supports none of {', '.join(TOKEN_AUTH_METHODS)} at its token endpoint",
            reason="incomplete",
        )
    return method


def discover(issuer: str, token_auth_method: str | None = None) -> ProviderMetadata:
    """Read ``ISSUER/.well-known/openid-configuration`` and check what Tandem needs.

    ``token_auth_method`` is the operator's choice of client authentication; by default
    the first of :data:`TOKEN_AUTH_METHODS` the provider offers.

    Raises:
        PortalConfigError: the issuer URL or the chosen method is not acceptable.
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
    auth_method = _token_auth_method(document, token_auth_method)
    offered = document.get("id_token_signing_alg_values_supported") or [DEFAULT_ALGORITHM]
    algorithms = tuple(a for a in ALLOWED_ALGORITHMS if a in offered)
    if not algorithms:
        raise ProviderError(
            f"the provider signs ID tokens only with {offered}; Tandem needs an asymmetric "
            f"algorithm: one of {', '.join(ALLOWED_ALGORITHMS)}",
            reason="incomplete",
        )
    pkce = document.get("code_challenge_methods_supported")
    if isinstance(pkce, list) and "S256" not in pkce:
        raise ProviderError("the provider does not support PKCE with S256", reason="incomplete")
    return ProviderMetadata(
        **endpoints,
        token_auth_method=auth_method,
        algorithms=algorithms,
        userinfo_endpoint=_optional_endpoint(document, "userinfo_endpoint"),
        end_session_endpoint=_optional_endpoint(document, "end_session_endpoint"),
    )


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


def basic_authorization(client_id: str, client_secret: str) -> str:
    """The ``Authorization`` header of ``client_secret_basic``.

    RFC 6749 section 2.3.1: id and secret are form-urlencoded before they are joined with
    ``:`` and base64-encoded, so a secret holding ``+ / = % : &`` reaches the provider
    as it is.
    """
    pair = f"{quote_plus(client_id, safe='')}:{quote_plus(client_secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


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
        ClientRejected: the provider refused Tandem's client credentials (the operator's
            --client-id, --client-secret or --token-auth, not the member's doing).
        CodeRefused: the provider refused the code (used, expired, forged).
        ProviderError: the provider could not be reached or answered nonsense.
    """
    check_provider_url(metadata.token_endpoint, "token_endpoint")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
    }
    headers = {}
    if metadata.token_auth_method == "client_secret_post":
        form.update(client_id=client_id, client_secret=client_secret)
    else:
        headers["Authorization"] = basic_authorization(client_id, client_secret)
    url = metadata.token_endpoint
    response = _send("POST", url, "token endpoint", data=form, headers=headers)
    if response.status_code >= 500:
        raise ProviderError(
            f"the token endpoint at {url} answered HTTP {response.status_code}",
            reason="token_unreachable",
        )
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    # RFC 6749 section 5.2: a failed client authentication is invalid_client, often
    # with HTTP 401 and sometimes with no JSON body at all.
    if error == "invalid_client" or response.status_code == 401:
        raise ClientRejected(
            "Tandem's sign-in is not set up correctly at your member portal (the portal "
            "refused Tandem's client credentials). This is not your fault: please tell "
            "your association.",
            reason="client_rejected",
            detail=f"HTTP {response.status_code} {error or 'without an error code'}; check "
            f"--client-id, --client-secret and --token-auth ({metadata.token_auth_method})",
        )
    if response.status_code != 200 or error is not None:
        code_error = error if isinstance(error, str) else f"HTTP {response.status_code}"
        raise CodeRefused(
            f"The portal refused the sign-in code ({code_error[:40]}). It may have expired "
            "or been used already: start again from your member portal.",
            reason="code_refused",
        )
    if not isinstance(body, dict) or not isinstance(body.get("id_token"), str):
        raise ProviderError("the portal's token answer has no id_token", reason="no_id_token")
    return body


def fetch_userinfo(metadata: ProviderMetadata, access_token: str) -> dict[str, Any]:
    """The claims at the provider's userinfo endpoint ({} when it has none).

    Raises:
        ProviderError: unreachable, refused the access token, or not a JSON object.
    """
    if metadata.userinfo_endpoint is None:
        return {}
    url = metadata.userinfo_endpoint
    claims = _get_json(url, "userinfo", headers={"Authorization": f"Bearer {access_token}"})
    if not isinstance(claims, dict):
        raise ProviderError(f"the userinfo at {url} is not an object", reason="bad_json")
    return claims


def end_session_url(
    metadata: ProviderMetadata,
    client_id: str,
    *,
    id_token_hint: str | None,
    post_logout_redirect_uri: str,
) -> str | None:
    """Where to send the browser to sign out at the provider too (OpenID Connect
    RP-Initiated Logout 1.0), or ``None`` when it names no ``end_session_endpoint``."""
    if metadata.end_session_endpoint is None:
        return None
    params = {"client_id": client_id, "post_logout_redirect_uri": post_logout_redirect_uri}
    if id_token_hint:
        params["id_token_hint"] = id_token_hint
    parts = urlsplit(metadata.end_session_endpoint)
    query = urlencode([*parse_qsl(parts.query), *params.items()])
    return urlunsplit(parts._replace(query=query))
