"""Signing in through a portal's OpenID Connect provider: start, then finish.

Authorization code flow with PKCE. ``start_sign_in`` keeps state, nonce and verifier in
the database (any worker may finish); ``finish_sign_in`` consumes the state once,
trades the code, checks the ID token and finds the member.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from records import Portal, SecretBox

from .errors import SignInRefused, UnknownPortalError
from .id_token import verify_id_token
from .members import link_portal_member, person_from_claims
from .outcome import PortalOutcome, signed_in
from .provider import ProviderMetadata, authorization_url, exchange_code, fetch_key_set
from .roles import role_from_claims
from .state import SIGN_IN_STATE, add_value, pop_value

# Long enough to type a password and answer a second factor at the portal.
STATE_LIFETIME = timedelta(minutes=10)


@dataclass(frozen=True)
class SignInStart:
    """Where to send the browser, and the state its cookie must carry back."""

    url: str
    state: str


def _oidc(portal: Portal) -> ProviderMetadata:
    if portal.kind != "oidc" or not portal.provider:
        raise UnknownPortalError(
            "This portal signs members in by email link, not single sign-on.",
            reason="not_oidc",
            tenant_id=portal.tenant_id,
            portal_id=portal.id,
        )
    return ProviderMetadata.from_dict(portal.provider)


def start_sign_in(session: Session, portal: Portal, redirect_uri: str) -> SignInStart:
    """Begin a sign-in at ``portal``: remember state, nonce and PKCE verifier."""
    metadata = _oidc(portal)
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    add_value(
        session,
        SIGN_IN_STATE,
        state,
        {
            "portal_id": portal.id,
            "nonce": nonce,
            "verifier": verifier,
            "redirect_uri": redirect_uri,
        },
        STATE_LIFETIME,
    )
    url = authorization_url(
        metadata,
        portal.client_id or "",
        redirect_uri,
        state=state,
        nonce=nonce,
        code_verifier=verifier,
    )
    return SignInStart(url=url, state=state)


def _refused(portal: Portal, message: str, reason: str) -> SignInRefused:
    return SignInRefused(message, reason=reason, tenant_id=portal.tenant_id, portal_id=portal.id)


def finish_sign_in(
    session: Session,
    box: SecretBox,
    portal: Portal,
    *,
    state: str,
    browser_state: str | None,
    code: str,
    remote_addr: str | None = None,
) -> PortalOutcome:
    """Finish a sign-in: check the state, trade the code, verify the ID token, link.

    Raises:
        SignInRefused: wrong or used state, refused code, bad ID token (``reason`` says).
        MemberRefused: the person may not come in (not in the directory, deactivated).
        ProviderError: the provider could not be reached.
    """
    metadata = _oidc(portal)
    # The state must come back in the browser that started the sign-in (its cookie):
    # otherwise someone could sign a victim into the attacker's account.
    if not state or not browser_state or not hmac.compare_digest(state, browser_state):
        raise _refused(
            portal,
            "This sign-in was not started in this browser, or it took too long. Start again "
            "from your member portal.",
            "state_mismatch",
        )
    pending = pop_value(session, SIGN_IN_STATE, state)
    if pending is None or pending.get("portal_id") != portal.id:
        raise _refused(
            portal,
            "This sign-in has expired or was already used. Start again from your member portal.",
            "unknown_state",
        )
    if not code:
        raise _refused(portal, "The portal sent no sign-in code.", "no_code")
    token = exchange_code(
        metadata,
        portal.client_id or "",
        box.decrypt(portal.client_secret_encrypted or ""),
        pending["redirect_uri"],
        code=code,
        code_verifier=pending["verifier"],
    )
    try:
        claims = verify_id_token(
            token["id_token"],
            fetch_key_set(metadata.jwks_uri),
            issuer=portal.issuer or "",
            client_id=portal.client_id or "",
            nonce=pending["nonce"],
            algorithms=metadata.algorithms,
        )
    except SignInRefused as exc:
        exc.tenant_id, exc.portal_id = portal.tenant_id, portal.id
        raise
    member = link_portal_member(session, portal, person_from_claims(portal, claims))
    role = role_from_claims(portal, claims)
    return signed_in(session, portal, member, role, method="oidc", remote_addr=remote_addr)
