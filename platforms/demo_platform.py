"""The Demo LMS: a built-in LTI 1.3 platform for ``tandem demo`` only.

It registers the demo tenant like any other platform (its own RSA key, issuer, client
id, deployment) and answers the tool's OIDC authentication request with a signed
id_token, so that a demo launch goes through the same ``/lti/login`` and ``/lti/launch``
as a real one. Nothing here runs outside demo mode.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import select
from sqlalchemy.orm import Session

from records import Identity, Member, SecretBox, Tenant

from . import claims as c
from .errors import LoginError
from .registry import add_deployments

DEMO_SLUG = "demo"
CLIENT_ID = "tandem-demo"
DEPLOYMENT_ID = "demo-deployment"
COORDINATOR_ID = "demo-coordinator"
KID = "demo-lms-key"
CONTEXT = {"id": "demo-course", "label": "DEMO", "title": "Demo mentoring course"}


@dataclass(frozen=True)
class DemoPerson:
    """Someone the Demo LMS can launch Tandem as."""

    login_hint: str
    name: str
    role: str


def ensure_demo_platform(session: Session, box: SecretBox, base_url: str) -> Tenant | None:
    """Give the demo tenant its built-in platform (once), and a coordinator to launch as.

    Returns the demo tenant, or ``None`` when there is no demo data.
    """
    tenant = session.scalars(select(Tenant).where(Tenant.slug == DEMO_SLUG)).first()
    if tenant is None:
        return None
    root = base_url.rstrip("/") + "/demo-lms"
    if tenant.issuer != root or "demo_platform_key" not in tenant.settings:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        jwk = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
        jwk.update({"kid": KID, "alg": "RS256", "use": "sig"})
        tenant.issuer, tenant.client_id = root, CLIENT_ID
        tenant.auth_login_url = f"{root}/authorize"
        tenant.auth_token_url = f"{root}/token"
        tenant.key_set_url = f"{root}/jwks"
        # Cached from the start: the tool never needs to fetch its own demo platform's keys.
        tenant.key_set = {"keys": [jwk]}
        tenant.settings = {
            **tenant.settings,
            "product": "tandem-demo",
            "demo_platform_key": box.encrypt(pem),
        }
        add_deployments(session, tenant, [DEPLOYMENT_ID])
    has_coordinator = session.scalars(
        select(Identity.id).where(
            Identity.tenant_id == tenant.id,
            Identity.source == "lti",
            Identity.external_id == COORDINATOR_ID,
        )
    ).first()
    if has_coordinator is None:
        member = Member(
            tenant_id=tenant.id,
            given_name="Casey",
            family_name="Coordinator",
            display_name="Casey Coordinator",
            email="casey.coordinator@example.org",
        )
        session.add(member)
        session.flush()
        session.add(
            Identity(
                tenant_id=tenant.id, member_id=member.id, source="lti", external_id=COORDINATOR_ID
            )
        )
    session.flush()
    return tenant


def demo_people(session: Session, tenant_id: int) -> Sequence[DemoPerson]:
    """Everyone the Demo LMS can launch as: the coordinator first, then the members."""
    rows = session.execute(
        select(Identity.external_id, Member)
        .join(Member, (Member.id == Identity.member_id) & (Member.tenant_id == Identity.tenant_id))
        .where(Identity.tenant_id == tenant_id, Identity.source == "lti")
        .order_by(Member.id)
    ).all()
    people = [
        DemoPerson(
            login_hint=external_id,
            name=member.name,
            role=c.COORDINATOR if external_id == COORDINATOR_ID else c.MEMBER,
        )
        for external_id, member in rows
    ]
    return sorted(people, key=lambda p: p.role != c.COORDINATOR)


def login_parameters(
    tenant: Tenant, login_hint: str, launch_url: str, locale: str | None = None
) -> dict[str, str]:
    """The third-party login initiation the Demo LMS sends to Tandem.

    ``locale`` (e.g. ``"fr-CA"``), the language the Demo LMS is shown in, travels as the
    message hint and comes back in the launch's ``launch_presentation`` claim, as a
    real LMS tells the user's language.
    """
    params = {
        "iss": tenant.issuer or "",
        "client_id": CLIENT_ID,
        "login_hint": login_hint,
        "target_link_uri": launch_url,
        "lti_deployment_id": DEPLOYMENT_ID,
    }
    if locale:
        params["lti_message_hint"] = f"locale:{locale}"
    return params


def authorize(
    session: Session, box: SecretBox, params: Mapping[str, str], launch_url: str
) -> dict[str, str]:
    """Answer the tool's OIDC authentication request: the form to post to ``/lti/launch``.

    Raises:
        LoginError: the request is not for this platform, or names an unknown person.
    """
    tenant = session.scalars(select(Tenant).where(Tenant.slug == DEMO_SLUG)).first()
    if tenant is None or "demo_platform_key" not in tenant.settings:
        raise LoginError("no_demo", "the Demo LMS is not set up")
    if params.get("client_id") != CLIENT_ID or params.get("redirect_uri") != launch_url:
        raise LoginError("bad_demo_request", "this request is not for the Demo LMS")
    hint = params.get("login_hint", "")
    member = session.scalars(
        select(Member)
        .join(
            Identity, (Identity.member_id == Member.id) & (Identity.tenant_id == Member.tenant_id)
        )
        .where(
            Identity.tenant_id == tenant.id, Identity.source == "lti", Identity.external_id == hint
        )
    ).first()
    if member is None:
        raise LoginError("unknown_demo_person", "the Demo LMS has no such person")
    role = (
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
        if hint == COORDINATOR_ID
        else "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
    )
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": tenant.issuer,
        "aud": CLIENT_ID,
        "sub": hint,
        "iat": now,
        "exp": now + 300,
        "nonce": params.get("nonce", ""),
        "given_name": member.given_name,
        "family_name": member.family_name,
        "name": member.name,
        "email": member.email,
        c.MESSAGE_TYPE: c.RESOURCE_LINK_REQUEST,
        c.VERSION: "1.3.0",
        c.DEPLOYMENT_ID: DEPLOYMENT_ID,
        c.TARGET_LINK_URI: launch_url,
        c.RESOURCE_LINK: {"id": "demo-link", "title": "Mentoring"},
        c.ROLES: [role],
        c.CONTEXT: CONTEXT,
        c.TOOL_PLATFORM: {"guid": "demo-lms", "product_family_code": "tandem-demo"},
    }
    if member.member_number:
        claims[c.LIS] = {"person_sourcedid": member.member_number}
    hint_kind, _, locale = params.get("lti_message_hint", "").partition(":")
    if hint_kind == "locale" and locale:
        claims[c.LAUNCH_PRESENTATION] = {"document_target": "window", "locale": locale[:35]}
    private = serialization.load_pem_private_key(
        box.decrypt(tenant.settings["demo_platform_key"]).encode("ascii"), password=None
    )
    token = jwt.encode(claims, private, algorithm="RS256", headers={"kid": KID})  # type: ignore[arg-type]
    return {"id_token": token, "state": params.get("state", "")}


def demo_key_set(session: Session) -> dict[str, Any]:
    """The Demo LMS's public key set."""
    tenant = session.scalars(select(Tenant).where(Tenant.slug == DEMO_SLUG)).first()
    return (tenant.key_set if tenant is not None else None) or {"keys": []}
