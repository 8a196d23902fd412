"""What the launch benchmarks (`launch.py`, `load.py`) share: simulated LMS platforms and
throwaway PostgreSQL databases.

Registers platforms as tenants (each with its own issuer, client id, deployment and
``kid``; RSA keys shared, since generating them is slow) and signs their id_tokens, as
the LMS would. Not a benchmark itself.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import text
from sqlalchemy.engine import make_url

import outbound
import records
from platforms import PlatformSettings, add_platform, rotate_key
from records import Tenant, make_engine

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
CUSTOM = LTI + "custom"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


@dataclass(frozen=True)
class Platform:
    """One registered platform: what its LMS needs to sign a launch for it."""

    number: int
    issuer: str
    tenant_id: int
    key: rsa.RSAPrivateKey
    kid: str

    @property
    def client_id(self) -> str:
        return f"client-{self.number}"

    @property
    def deployment_id(self) -> str:
        return f"deployment-{self.number}"


def jwk(key: rsa.RSAPrivateKey, kid: str) -> dict:
    """The public JWK of ``key`` under ``kid``, as a platform's key set lists it."""
    public = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    public.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return public


def register_platforms(
    app: Flask, n_platforms: int, keys: list[rsa.RSAPrivateKey], *, token_url: str | None = None
) -> list[Platform]:
    """Register ``n_platforms`` platforms, their key sets already cached on their tenants
    (as after each platform's first launch), so that no launch fetches anything.

    The made-up hosts (``lmsN.example.edu``) do not resolve: registration runs under the
    development switch, which leaves names unresolved.
    """
    os.environ[outbound.INSECURE_SWITCH] = "1"
    platforms = []
    with app.app_context(), records.get_database(app).transaction() as session:
        rotate_key(session, app.extensions["tandem.secrets"])
        for number in range(n_platforms):
            issuer = f"https://lms{number}.example.edu"
            tenant = add_platform(
                session,
                PlatformSettings(
                    issuer=issuer,
                    client_id=f"client-{number}",
                    auth_login_url=f"{issuer}/auth",
                    auth_token_url=token_url or f"{issuer}/token",
                    key_set_url=f"{issuer}/jwks",
                    deployment_ids=(f"deployment-{number}",),
                    product="moodle" if number % 2 else "canvas",
                ),
            )
            key, kid = keys[number % len(keys)], f"kid-{number}"
            session.get(Tenant, tenant.id).key_set = {"keys": [jwk(key, kid)]}
            platforms.append(Platform(number, issuer, tenant.id, key, kid))
    return platforms


def id_token(
    platform: Platform, nonce: str, sub: str, target_link_uri: str, **extra: object
) -> str:
    """A learner's resource link launch signed by ``platform``; ``extra`` claims override."""
    now = int(time.time())
    n = platform.number
    claims = {
        "iss": platform.issuer, "aud": platform.client_id, "sub": sub, "iat": now,
        "exp": now + 300, "nonce": nonce, "given_name": sub, "family_name": f"Platform{n}",
        "email": f"{sub}@lms{n}.example.edu",
        LTI + "message_type": "LtiResourceLinkRequest", LTI + "version": "1.3.0",
        LTI + "deployment_id": platform.deployment_id, LTI + "target_link_uri": target_link_uri,
        LTI + "resource_link": {"id": "link-1"}, LTI + "roles": [LEARNER],
        LTI + "context": {"id": "course-1", "title": "Mentoring 101"},
        LTI + "tool_platform": {"product_family_code": "moodle"},
    }  # fmt: skip
    claims.update(extra)
    return jwt.encode(claims, platform.key, algorithm="RS256", headers={"kid": platform.kid})


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the PostgreSQL server ``server_url``; dropped afterwards."""
    admin_url = make_url(server_url).set(drivername="postgresql+psycopg")
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"tandem_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
