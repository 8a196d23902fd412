"""A test LTI 1.3 platform of our own: keys, key set, OIDC auth, token, NRPS and AGS.

Its HTTP endpoints are served through ``responses``; its browser side (the OIDC
authentication answer) is driven through the Flask test client. Signatures are real:
the platform signs id_tokens with its RSA key, and checks the tool's client assertions
against the tool's published key set.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.testing import FlaskClient
from jwt.algorithms import RSAAlgorithm

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
TEACHING_ASSISTANT = (
    "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
)
INSTITUTION_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"

_KEYS: dict[str, rsa.RSAPrivateKey] = {}


def rsa_key(name: str) -> rsa.RSAPrivateKey:
    """A 2048-bit RSA key, made once per test session per name (key generation is slow)."""
    if name not in _KEYS:
        _KEYS[name] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _KEYS[name]


def pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return jwk


@dataclass
class Person:
    """A user of the platform."""

    sub: str
    given_name: str
    family_name: str
    email: str
    roles: list[str] = field(default_factory=lambda: [LEARNER])
    sourcedid: str | None = None
    status: str = "Active"

    def nrps_entry(self) -> dict[str, Any]:
        entry = {
            "status": self.status,
            "name": f"{self.given_name} {self.family_name}",
            "given_name": self.given_name,
            "family_name": self.family_name,
            "email": self.email,
            "user_id": self.sub,
            "roles": self.roles,
        }
        if self.sourcedid:
            entry["lis_person_sourcedid"] = self.sourcedid
        return entry


@dataclass
class Auth:
    """What the tool's login redirect asked the platform for."""

    url: str
    params: dict[str, str]

    @property
    def state(self) -> str:
        return self.params["state"]

    @property
    def nonce(self) -> str:
        return self.params["nonce"]


class TestPlatform:
    """One LMS: issuer, client id, deployment, keys, one course with a roster and grades."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        issuer: str = "https://moodle.example.edu",
        client_id: str = "tandem-client-1",
        deployment_id: str = "deployment-1",
        product: str = "moodle",
        key_name: str = "platform",
    ) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.deployment_id = deployment_id
        self.product = product
        self.key = rsa_key(key_name)
        self.kid = f"{key_name}-kid"
        self.auth_login_url = f"{issuer}/mod/lti/auth.php"
        self.token_url = f"{issuer}/mod/lti/token.php"
        self.key_set_url = f"{issuer}/mod/lti/certs.php"
        self.context = {"id": "course-101", "label": "MENT101", "title": "Mentoring Circle 101"}
        self.memberships_url = f"{issuer}/api/lti/courses/101/names_and_roles"
        self.lineitems_url = f"{issuer}/api/lti/courses/101/line_items"
        self.deep_link_return_url = f"{issuer}/deep_link_return"
        self.roster: list[Person] = []
        self.page_size = 2
        self.link_style = 'rel="next"'
        self.link_header_name = "Link"
        self.lineitems: dict[str, dict[str, Any]] = {}
        self.scores: list[dict[str, Any]] = []
        self.tokens: dict[str, str] = {}  # token -> scope
        self.token_requests = 0
        self.key_set_requests = 0
        self.extra_keys: list[dict[str, Any]] = []
        self.tool_key_set: dict[str, Any] | None = None

    # ---- registration -------------------------------------------------------------

    def settings(self):  # type: ignore[no-untyped-def]
        from platforms import PlatformSettings

        return PlatformSettings(
            issuer=self.issuer,
            client_id=self.client_id,
            auth_login_url=self.auth_login_url,
            auth_token_url=self.token_url,
            key_set_url=self.key_set_url,
            deployment_ids=(self.deployment_id,),
            name=f"{self.product.title()} at {urlsplit(self.issuer).netloc}",
            product=self.product,
        )

    def register(self, app) -> int:  # type: ignore[no-untyped-def]
        """Register this platform in the app's database; returns the tenant id."""
        import records
        from platforms import add_platform

        with app.app_context(), records.get_database(app).transaction() as session:
            return add_platform(session, self.settings()).id

    # ---- keys and tokens ----------------------------------------------------------

    def key_set(self) -> dict[str, Any]:
        return {"keys": [public_jwk(self.key, self.kid), *self.extra_keys]}

    def claims(
        self,
        nonce: str,
        person: Person | None = None,
        *,
        message_type: str = "LtiResourceLinkRequest",
        custom: dict[str, Any] | None = None,
        nrps: bool = False,
        ags: bool = False,
        lineitem: str | None = None,
        locale: Any = None,
    ) -> dict[str, Any]:
        """The claims of a launch, shaped like the LTI 1.3 core and Advantage specs
        (``locale``: the user's language in ``launch_presentation``, as Moodle and Canvas
        send it)."""
        person = person or Person("user-1", "Ada", "Lovelace", "ada@example.edu")
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": person.sub,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "given_name": person.given_name,
            "family_name": person.family_name,
            "name": f"{person.given_name} {person.family_name}",
            "email": person.email,
            LTI + "message_type": message_type,
            LTI + "version": "1.3.0",
            LTI + "deployment_id": self.deployment_id,
            LTI + "target_link_uri": "http://localhost/lti/launch",
            LTI + "roles": person.roles,
            LTI + "context": dict(self.context),
            LTI + "tool_platform": {
                "guid": urlsplit(self.issuer).netloc,
                "product_family_code": self.product,
            },
        }
        if person.sourcedid:
            claims[LTI + "lis"] = {"person_sourcedid": person.sourcedid}
        if custom:
            claims[LTI + "custom"] = custom
        if locale is not None:
            claims[LTI + "launch_presentation"] = {"document_target": "iframe", "locale": locale}
        if message_type == "LtiResourceLinkRequest":
            claims[LTI + "resource_link"] = {"id": "link-1", "title": "Mentoring"}
        else:
            claims[DL_SETTINGS] = {
                "deep_link_return_url": self.deep_link_return_url,
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
                "data": "opaque-platform-data",
            }
        if nrps:
            claims[NRPS_CLAIM] = {
                "context_memberships_url": self.memberships_url,
                "service_versions": ["2.0"],
            }
        if ags:
            claims[AGS_CLAIM] = {
                "scope": [SCOPE_LINEITEM, SCOPE_SCORE],
                "lineitems": self.lineitems_url,
            }
            if lineitem:
                claims[AGS_CLAIM]["lineitem"] = lineitem
        return claims

    def sign(
        self,
        claims: dict[str, Any],
        *,
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
        algorithm: str = "RS256",
        secret: bytes | None = None,
    ) -> str:
        """Sign claims as an id_token (or with ``secret`` for the HS256 attack)."""
        if secret is not None:
            return jwt.encode(claims, secret, algorithm=algorithm, headers={"kid": kid or self.kid})
        # The key object, not PEM: loading PEM re-checks the key, ~0.1 s a time.
        return jwt.encode(
            claims, key or self.key, algorithm=algorithm, headers={"kid": kid or self.kid}
        )

    def sign_hs256_with_public_key(self, claims: dict[str, Any]) -> str:
        """The key-confusion attack: HS256 keyed with the platform's *public* key.

        PyJWT refuses to make this token (rightly), so it is assembled by hand.
        """
        import base64
        import hashlib
        import hmac

        def b64(data: bytes) -> bytes:
            return base64.urlsafe_b64encode(data).rstrip(b"=")

        header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": self.kid}).encode())
        payload = b64(json.dumps(claims).encode())
        signing_input = header + b"." + payload
        signature = hmac.new(public_pem(self.key), signing_input, hashlib.sha256).digest()
        return (signing_input + b"." + b64(signature)).decode()

    # ---- the browser side --------------------------------------------------------

    def login(self, client: FlaskClient, method: str = "GET", **extra: str) -> Auth:
        """Start a launch at the tool's /lti/login and return the auth redirect it made."""
        params = {
            "iss": self.issuer,
            "login_hint": "hint-1",
            "target_link_uri": "http://localhost/lti/launch",
            "lti_message_hint": "message-hint-1",
            "client_id": self.client_id,
            "lti_deployment_id": self.deployment_id,
            **extra,
        }
        if method == "GET":
            response = client.get("/lti/login?" + urlencode(params))
        else:
            response = client.post("/lti/login", data=params)
        assert response.status_code == 302, response.get_data(as_text=True)
        url = response.headers["Location"]
        assert url.startswith(self.auth_login_url), url
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        return Auth(url=url, params=query)

    def post_launch(self, client: FlaskClient, id_token: str, state: str, **extra: str):  # type: ignore[no-untyped-def]
        return client.post("/lti/launch", data={"id_token": id_token, "state": state, **extra})

    def launch(self, client: FlaskClient, person: Person | None = None, **claim_options: Any):  # type: ignore[no-untyped-def]
        """A full launch: login, sign an id_token with its nonce, post it with its state."""
        auth = self.login(client)
        token = self.sign(self.claims(auth.nonce, person, **claim_options))
        return self.post_launch(client, token, auth.state)

    # ---- the platform's HTTP endpoints (served through `responses`) ---------------

    def mount(self, mock: responses.RequestsMock) -> None:
        mock.add_callback(responses.GET, self.key_set_url, callback=self._key_set)
        mock.add_callback(responses.POST, self.token_url, callback=self._token)
        mock.add_callback(
            responses.GET, re.compile(re.escape(self.memberships_url) + r".*"), self._members
        )
        mock.add_callback(
            responses.POST,
            re.compile(re.escape(self.lineitems_url) + r"/[^/]+/scores.*"),
            self._score,
        )
        mock.add_callback(responses.POST, self.lineitems_url, callback=self._create_lineitem)

    def _key_set(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.key_set_requests += 1
        return 200, {"Content-Type": "application/json"}, json.dumps(self.key_set())

    def _token(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.token_requests += 1
        form = {k: v[0] for k, v in parse_qs(request.body).items()}
        assertion = form.get("client_assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
            jwks = {k["kid"]: k for k in (self.tool_key_set or {"keys": []})["keys"]}
            key = jwt.PyJWK(jwks[header["kid"]]).key
            jwt.decode(
                assertion,
                key,
                algorithms=["RS256"],
                audience=self.token_url,
                issuer=self.client_id,
                options={"require": ["exp", "iat", "jti", "sub"]},
            )
        except (jwt.PyJWTError, KeyError) as exc:
            return 401, {}, json.dumps({"error": "invalid_client", "detail": str(exc)})
        if form.get("grant_type") != "client_credentials":
            return 400, {}, json.dumps({"error": "unsupported_grant_type"})
        token = secrets.token_urlsafe(16)
        self.tokens[token] = form.get("scope", "")
        body = {"access_token": token, "token_type": "Bearer", "expires_in": 3600,
                "scope": form.get("scope", "")}  # fmt: skip
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    def _authorised(self, request: Any, scope: str) -> bool:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return scope in self.tokens.get(token, "").split()

    def _members(self, request: Any) -> tuple[int, dict[str, str], str]:
        if not self._authorised(request, SCOPE_NRPS):
            return 401, {}, "{}"
        query = parse_qs(urlsplit(request.url).query)
        page = int(query.get("page", ["1"])[0])
        start = (page - 1) * self.page_size
        chunk = self.roster[start : start + self.page_size]
        headers = {"Content-Type": "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"}
        if start + self.page_size < len(self.roster):
            next_url = f"{self.memberships_url}?page={page + 1}"
            headers[self.link_header_name] = (
                f'<{self.memberships_url}?page=1>; rel="first", <{next_url}>; {self.link_style}'
            )
        body = {
            "id": request.url,
            "context": self.context,
            "members": [person.nrps_entry() for person in chunk],
        }
        return 200, headers, json.dumps(body)

    def _create_lineitem(self, request: Any) -> tuple[int, dict[str, str], str]:
        if not self._authorised(request, SCOPE_LINEITEM):
            return 401, {}, "{}"
        item = json.loads(request.body)
        item["id"] = f"{self.lineitems_url}/{len(self.lineitems) + 1}"
        self.lineitems[item["id"]] = item
        return 201, {"Content-Type": "application/vnd.ims.lis.v2.lineitem+json"}, json.dumps(item)

    def _score(self, request: Any) -> tuple[int, dict[str, str], str]:
        if not self._authorised(request, SCOPE_SCORE):
            return 401, {}, "{}"
        if request.headers.get("Content-Type") != "application/vnd.ims.lis.v1.score+json":
            return 415, {}, "{}"
        score = json.loads(request.body)
        score["lineitem"] = request.url.rsplit("/scores", 1)[0]
        self.scores.append(score)
        return 200, {}, ""
