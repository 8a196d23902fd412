"""A test OpenID Connect provider of our own, served over real HTTP on 127.0.0.1.

It plays a member portal's single sign-on: discovery document, JWKS, authorization
endpoint (auto-approving, or with a sign-in form for the browser journey), token
endpoint (client authentication as RFC 6749 section 2.3.1 says, single-use codes, PKCE
S256), userinfo (bearer access tokens), RP-initiated logout, and a mock portal page with a
"Mentoring" link. ID tokens are really signed with its own keys (RSA, EC P-256/384/521,
Ed25519: ``signing_alg`` picks); tests bend them through ``next_claims``,
``claim_overrides``, ``signing_key`` and ``claims_in`` (``id_token``: the ID token holds
the claims and userinfo only ``sub``; ``userinfo``: the ID token holds only ``sub``, as
many providers do by default).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

_KEYS: dict[str, rsa.RSAPrivateKey] = {}
_OTHER_KEYS: dict[str, Any] = {}
# The key type each signing algorithm needs: its JWK comes from the matching PyJWT class.
_EC_CURVES = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}


def provider_key(name: str) -> rsa.RSAPrivateKey:
    """An RSA key made once per test session per name (key generation is slow)."""
    if name not in _KEYS:
        _KEYS[name] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _KEYS[name]


def signing_key_for(alg: str) -> Any:
    """The provider's private key for ``alg`` (RSA for RS*/PS*/HS-less, EC, Ed25519)."""
    if alg in _EC_CURVES:
        if alg not in _OTHER_KEYS:
            _OTHER_KEYS[alg] = ec.generate_private_key(_EC_CURVES[alg]())
        return _OTHER_KEYS[alg]
    if alg == "EdDSA":
        if alg not in _OTHER_KEYS:
            _OTHER_KEYS[alg] = ed25519.Ed25519PrivateKey.generate()
        return _OTHER_KEYS[alg]
    return provider_key("oidc-provider")


def _public_jwk(alg: str) -> dict[str, Any]:
    key = signing_key_for(alg).public_key()
    if alg in _EC_CURVES:
        return json.loads(ECAlgorithm.to_jwk(key))
    if alg == "EdDSA":
        return json.loads(OKPAlgorithm.to_jwk(key))
    return json.loads(RSAAlgorithm.to_jwk(key))


def form_decode(value: str) -> str | None:
    """``application/x-www-form-urlencoded`` decoding, strictly: ``None`` for a bare ``%``
    (a secret sent raw with ``%`` in it), as strict providers refuse it."""
    if re.search(r"%(?![0-9A-Fa-f]{2})", value):
        return None
    return unquote_plus(value)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class OidcProvider:
    """The provider's state; ``serve_provider`` gives it an address."""

    client_id: str = "tandem-client"
    client_secret: str = "s3cret-of-the-portal"
    kid: str = "portal-key-1"
    issuer: str = ""
    # The claims the next person to sign in has (beyond iss/aud/exp/iat/nonce).
    next_claims: dict[str, Any] = field(default_factory=lambda: {"sub": "portal-user-1"})
    # Applied last to every ID token, to forge or spoil it (a value of None drops a claim).
    claim_overrides: dict[str, Any] = field(default_factory=dict)
    signing_key: rsa.RSAPrivateKey | None = None
    interactive: bool = False
    tandem_login_url: str = ""
    # A Tandem page the portal embeds at /portal/embed (after sign-in, say /me).
    tandem_embed_url: str = ""
    discovery_overrides: dict[str, Any] = field(default_factory=dict)
    # Where the person's claims go: "id_token" (userinfo answers only sub) or "userinfo"
    # (the ID token carries only sub, the default of many providers).
    claims_in: str = "id_token"
    # Applied last to every userinfo answer (a value of None drops a claim).
    userinfo_overrides: dict[str, Any] = field(default_factory=dict)
    # The algorithm ID tokens are signed with; the key set always holds every key type.
    signing_alg: str = "RS256"
    # The client authentication method registered for Tandem; None accepts both.
    client_auth_method: str | None = None
    # Whether discovery names an end_session_endpoint (RP-initiated logout).
    end_session: bool = False
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    used_codes: set[str] = field(default_factory=set)
    access_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    token_errors: list[str] = field(default_factory=list)
    # Each token request's client authentication as the provider saw it: (method, Authorization).
    client_auth: list[tuple[str, str | None]] = field(default_factory=list)
    userinfo_tokens: list[str] = field(default_factory=list)
    logouts: list[dict[str, str]] = field(default_factory=list)

    @property
    def key(self) -> rsa.RSAPrivateKey:
        return provider_key("oidc-provider")

    # -- documents -----------------------------------------------------------------------
    def discovery(self) -> dict[str, Any]:
        document = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "profile", "email"],
        }
        if self.end_session:
            document["end_session_endpoint"] = f"{self.issuer}/session/end"
        document.update(self.discovery_overrides)
        return document

    def kid_for(self, alg: str) -> str:
        """RSA keys keep ``kid``; the other key types get their own kid."""
        return self.kid if signing_key_for(alg) is self.key else f"{self.kid}-{alg.lower()}"

    def jwks(self) -> dict[str, Any]:
        keys = []
        for alg in ("RS256", "ES256", "ES384", "ES512", "EdDSA"):
            jwk = _public_jwk(alg)
            # An RSA key serves RS* and PS* alike, so its JWK names no "alg".
            jwk.update(kid=self.kid_for(alg), use="sig")
            if alg != "RS256":
                jwk["alg"] = alg
            keys.append(jwk)
        return {"keys": keys}

    def id_token(self, claims: dict[str, Any], nonce: str) -> str:
        now = int(time.time())
        if self.claims_in == "userinfo":
            claims = {"sub": claims["sub"]} if "sub" in claims else {}
        payload = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            **claims,
        }
        for name, value in self.claim_overrides.items():
            if value is None:
                payload.pop(name, None)
            else:
                payload[name] = value
        return jwt.encode(
            payload,
            self.signing_key or signing_key_for(self.signing_alg),
            algorithm=self.signing_alg,
            headers={"kid": self.kid_for(self.signing_alg)},
        )

    def userinfo(self, claims: dict[str, Any]) -> dict[str, Any]:
        answer = dict(claims) if self.claims_in == "userinfo" else {"sub": claims.get("sub")}
        for name, value in self.userinfo_overrides.items():
            if value is None:
                answer.pop(name, None)
            else:
                answer[name] = value
        return answer

    # -- endpoints -----------------------------------------------------------------------
    def __call__(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        self.requests.append(request.path)
        handler = {
            "/.well-known/openid-configuration": lambda r: _json(self.discovery()),
            "/jwks": lambda r: _json(self.jwks()),
            "/authorize": self._authorize,
            "/authorize/approve": self._approve,
            "/token": self._token,
            "/userinfo": self._userinfo,
            "/session/end": self._end_session,
            "/portal": self._portal_page,
            "/portal/embed": self._embed_page,
        }.get(request.path)
        response = handler(request) if handler else Response("not found", status=404)
        return response(environ, start_response)

    def _authorize(self, request: Request) -> Response:
        args = request.args
        problems = [
            name
            for name, ok in (
                ("client_id", args.get("client_id") == self.client_id),
                ("response_type", args.get("response_type") == "code"),
                ("scope", "openid" in args.get("scope", "").split()),
                ("code_challenge", bool(args.get("code_challenge"))),
                ("code_challenge_method", args.get("code_challenge_method") == "S256"),
                ("state", bool(args.get("state"))),
                ("nonce", bool(args.get("nonce"))),
                ("redirect_uri", bool(args.get("redirect_uri"))),
            )
            if not ok
        ]
        if problems:
            return Response(f"bad authorization request: {problems}", status=400)
        if self.interactive:
            hidden = "".join(
                f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                for k, v in args.items()
            )
            page = (
                "<!doctype html><title>Association portal: sign in</title>"
                "<h1>Association portal</h1><form method=post action=/authorize/approve>"
                f"{hidden}<p>Signing in as {html.escape(str(self.next_claims.get('name')))}</p>"
                '<button id="portal-sign-in" type=submit>Sign in</button></form>'
            )
            return Response(page, content_type="text/html")
        return self._approve(request)

    def _approve(self, request: Request) -> Response:
        args = request.values
        code = secrets.token_urlsafe(24)
        self.codes[code] = {
            "claims": dict(self.next_claims),
            "nonce": args["nonce"],
            "challenge": args["code_challenge"],
            "redirect_uri": args["redirect_uri"],
        }
        query = urlencode({"code": code, "state": args["state"]})
        return Response(status=302, headers={"Location": f"{args['redirect_uri']}?{query}"})

    def _client_ok(self, request: Request) -> bool:
        header = request.headers.get("Authorization")
        if header is not None:
            self.client_auth.append(("client_secret_basic", header))
            if self.client_auth_method not in (None, "client_secret_basic"):
                return False
            scheme, _, encoded = header.partition(" ")
            if scheme.lower() != "basic":
                return False
            try:
                pair = base64.b64decode(encoded, validate=True).decode("utf-8")
            except ValueError:
                return False
            # RFC 6749 section 2.3.1: id and secret are form-urlencoded before base64, so
            # a raw ":" in the secret survives and a raw "+" reads as a space.
            raw_id, _, raw_secret = pair.partition(":")
            return (form_decode(raw_id), form_decode(raw_secret)) == (
                self.client_id,
                self.client_secret,
            )
        self.client_auth.append(("client_secret_post", None))
        if self.client_auth_method not in (None, "client_secret_post"):
            return False
        return (
            request.form.get("client_id") == self.client_id
            and request.form.get("client_secret") == self.client_secret
        )

    def _token_error(self, error: str, status: int = 400) -> Response:
        self.token_errors.append(error)
        return _json({"error": error}, status)

    def _token(self, request: Request) -> Response:
        if request.method != "POST":
            return Response(status=405)
        if not self._client_ok(request):
            return self._token_error("invalid_client", 401)
        form = request.form
        code = form.get("code", "")
        if form.get("grant_type") != "authorization_code":
            return self._token_error("unsupported_grant_type")
        if code in self.used_codes or code not in self.codes:
            return self._token_error("invalid_grant")
        grant = self.codes.pop(code)
        self.used_codes.add(code)  # single use, as RFC 6749 section 4.1.2 requires
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return self._token_error("invalid_grant")
        verifier = form.get("code_verifier", "")
        if _b64url(hashlib.sha256(verifier.encode()).digest()) != grant["challenge"]:
            return self._token_error("invalid_grant")
        access_token = secrets.token_urlsafe(16)
        self.access_tokens[access_token] = grant["claims"]
        return _json(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": self.id_token(grant["claims"], grant["nonce"]),
            }
        )

    def _userinfo(self, request: Request) -> Response:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        self.userinfo_tokens.append(token)
        claims = self.access_tokens.get(token) if scheme.lower() == "bearer" else None
        if claims is None:
            return Response(
                status=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )
        return _json(self.userinfo(claims))

    def _end_session(self, request: Request) -> Response:
        """RP-initiated logout: forget the person, then back to the client if it asked."""
        params = dict(request.values.items())
        self.logouts.append(params)
        target = params.get("post_logout_redirect_uri")
        if target and urlsplit(target).scheme in ("http", "https"):
            return Response(status=302, headers={"Location": target})
        return Response("You have signed out of the portal.", content_type="text/plain")

    def _portal_page(self, request: Request) -> Response:
        page = (
            "<!doctype html><html lang=en><title>Member portal</title>"
            "<h1>Member portal of the Example Association</h1>"
            "<nav><a href=/profile>My profile</a> · "
            f'<a id="mentoring" href="{html.escape(self.tandem_login_url)}">Mentoring</a></nav>'
            "</html>"
        )
        return Response(page, content_type="text/html")

    def _embed_page(self, request: Request) -> Response:
        page = (
            "<!doctype html><html lang=en><title>Member portal: mentoring</title>"
            "<h1>Mentoring</h1>"
            f'<iframe id="tandem" src="{html.escape(self.tandem_embed_url)}" '
            'style="width:100%;height:600px;border:0"></iframe></html>'
        )
        return Response(page, content_type="text/html")


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve a WSGI ``app`` on a free 127.0.0.1 port in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@contextmanager
def serve_provider(**settings: Any) -> Iterator[OidcProvider]:
    """Start a test provider; its ``issuer`` is its loopback base URL."""
    provider = OidcProvider(**settings)
    with serve(provider) as base_url:
        provider.issuer = base_url
        yield provider
