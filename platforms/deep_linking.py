"""Deep linking: a coordinator places a programme in a course."""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from records import Programme, SecretBox, Tenant

from . import claims as c
from .ags import lineitem_payload
from .errors import DeepLinkingError
from .keys import signing_key

DEFAULT_SCORE_MAXIMUM = 100
MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class DeepLinkResponse:
    """The signed response and where the browser must post it."""

    return_url: str
    jwt: str


def programme_choices(session: Session, tenant_id: int) -> Sequence[Programme]:
    """The tenant's programmes a coordinator may place, newest first."""
    return session.scalars(
        select(Programme)
        .where(Programme.tenant_id == tenant_id, Programme.status != "closed")
        .order_by(Programme.id.desc())
    ).all()


def _programme(
    session: Session, launch: dict[str, Any], programme_id: int | None, new_name: str | None
) -> Programme:
    tenant_id = launch["tenant_id"]
    if programme_id is not None:
        programme = session.get(Programme, programme_id)
        if programme is None or programme.tenant_id != tenant_id:
            raise DeepLinkingError(f"programme {programme_id} is not one of this platform's")
        return programme
    name = (new_name or "").strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise DeepLinkingError(f"a new programme needs a name of 1 to {MAX_NAME_LENGTH} characters")
    context = launch.get("context") or {}
    programme = Programme(
        tenant_id=tenant_id,
        name=name,
        course_id=launch.get("course_id"),
        lti_context_id=context.get("id"),
    )
    session.add(programme)
    session.flush()
    return programme


def place_programme(
    session: Session,
    box: SecretBox,
    launch: dict[str, Any],
    target_link_uri: str,
    *,
    programme_id: int | None = None,
    new_name: str | None = None,
) -> DeepLinkResponse:
    """Build the signed deep linking response placing a programme (existing or new).

    Args:
        launch: the stored launch data of the deep linking request.
        target_link_uri: the tool URL the resource link opens.

    Raises:
        DeepLinkingError: the launch was no deep linking request, or the programme is
            unknown, or the new name is empty.
    """
    settings = launch.get("deep_linking_settings")
    if launch.get("message_type") != c.DEEP_LINKING_REQUEST or not isinstance(settings, dict):
        raise DeepLinkingError("this is not a deep linking launch: open Tandem's picker again")
    tenant = session.get(Tenant, launch["tenant_id"])
    if tenant is None:
        raise DeepLinkingError("this platform is no longer registered")
    programme = _programme(session, launch, programme_id, new_name)
    item: dict[str, Any] = {
        "type": "ltiResourceLink",
        "title": programme.name,
        "url": target_link_uri,
        "custom": {c.PROGRAMME_PARAM: str(programme.id)},
    }
    ags = launch.get("ags") or {}
    if c.SCOPE_LINEITEM in (ags.get("scope") or []):
        item["lineItem"] = lineitem_payload(programme.name, programme.id, DEFAULT_SCORE_MAXIMUM)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": tenant.client_id,
        "aud": [tenant.issuer],
        "iat": now,
        "exp": now + 600,
        "nonce": secrets.token_urlsafe(24),
        c.DEPLOYMENT_ID: launch["deployment_id"],
        c.MESSAGE_TYPE: c.DEEP_LINKING_RESPONSE,
        c.VERSION: "1.3.0",
        c.DEEP_LINKING_CONTENT_ITEMS: [item],
    }
    if settings.get("data") is not None:
        claims[c.DEEP_LINKING_DATA] = settings["data"]
    key = signing_key(session, box)
    token = jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})
    return DeepLinkResponse(return_url=settings["deep_link_return_url"], jwt=token)
