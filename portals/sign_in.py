"""Signing in through a portal's OpenID Connect provider: start, finish, sign out.

Authorization code flow with PKCE. ``start_sign_in`` keeps state, nonce and verifier in
the database (any worker may finish); ``finish_sign_in`` consumes the state once,
trades the code, checks the ID token, merges userinfo and finds the member;
``sign_out_url`` is the portal's RP-initiated logout.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from members import remember_locale
from records import Portal, SecretBox

from .errors import PortalError, SignInRefused, UnknownPortalError
from .id_token import verify_id_token
from .members import link_portal_member, person_from_claims, unverified_email
from .outcome import PortalOutcome, signed_in
from .provider import (
    ProviderMetadata,
    authorization_url,
    end_session_url,
    exchange_code,
    fetch_key_set,
    fetch_userinfo,
)
from .roles import role_from_claims
from .state import SIGN_IN_STATE, SIGN_IN_USED, add_value, get_value, pop_value

# Long enough to type a password and answer a second factor at the portal.
STATE_LIFETIME = timedelta(minutes=10)
# An ID token kept as the sign-out hint must leave room in a 4 KB session cookie.
MAX_HINT_LENGTH = 2048


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


# Claims about the token itself: only the ID token's count (userinfo may not move them).
_PROTOCOL_CLAIMS = frozenset(
    {"iss", "sub", "aud", "exp", "iat", "nbf", "nonce", "azp", "auth_time", "acr", "amr"}
    | {"at_hash", "c_hash", "sid", "jti"}
)


def merge_userinfo(id_claims: dict[str, Any], userinfo: dict[str, Any]) -> dict[str, Any]:
    """The ID token's claims with the userinfo claims over them.

    Userinfo is where many providers put email, names and custom claims (OpenID Connect
    Core 1.0, section 5.4). ``email_verified`` speaks of the address beside it: when
    userinfo names an email, only userinfo's ``email_verified`` counts for it.

    Raises:
        SignInRefused: userinfo is about someone else (its ``sub`` is not the ID
            token's; section 5.3.2 says the answer must then not be used).
    """
    if not userinfo:
        return dict(id_claims)
    sub = userinfo.get("sub")
    if not isinstance(sub, str) or not hmac.compare_digest(sub, str(id_claims["sub"])):
        raise SignInRefused(
            "The portal's answer was about someone else.",
            reason="userinfo_sub_mismatch",
            detail="the userinfo endpoint answered for another sub than the ID token's",
        )
    merged = dict(id_claims)
    merged.update((k, v) for k, v in userinfo.items() if k not in _PROTOCOL_CLAIMS)
    if "email" in userinfo:
        merged.pop("email_verified", None)
        if "email_verified" in userinfo:
            merged["email_verified"] = userinfo["email_verified"]
    return merged


def _browser_state_refused(session: Session, portal: Portal, state: str) -> SignInRefused:
    """Why a callback without its browser's state cookie is refused.

    After a sign-in the cookie is gone, so reopening its callback (the back button, a
    bookmark) lands here: say that it was used, not that it came from elsewhere.
    """
    used = get_value(session, SIGN_IN_USED, state) if state else None
    if used is not None and used.get("portal_id") == portal.id:
        return _refused(
            portal,
            "This sign-in was already used. To sign in again, start again from your member portal.",
            "state_used",
        )
    return _refused(
        portal,
        "This sign-in was not started in this browser, or it took too long. Start again "
        "from your member portal.",
        "state_mismatch",
    )


@contextmanager
def _about(portal: Portal) -> Iterator[None]:
    """Errors of the provider's answers know no portal: name this one in them."""
    try:
        yield
    except PortalError as exc:
        if exc.portal_id is None:
            exc.tenant_id, exc.portal_id = portal.tenant_id, portal.id
        raise


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
    """Finish a sign-in: check the state, trade the code, verify the ID token, read
    userinfo, link.

    Raises:
        SignInRefused: wrong or used state, refused code, bad ID token (``reason`` says).
        ClientRejected: the provider refused Tandem's client credentials.
        MemberRefused: the person may not come in (not in the directory, deactivated,
            an unverified email only).
        ProviderError: the provider could not be reached.
    """
    with _about(portal):
        metadata = _oidc(portal)
        # The state must come back in the browser that started the sign-in (its cookie):
        # otherwise someone could sign a victim into the attacker's account.
        if not state or not browser_state or not hmac.compare_digest(state, browser_state):
            raise _browser_state_refused(session, portal, state)
        pending = pop_value(session, SIGN_IN_STATE, state)
        if pending is None or pending.get("portal_id") != portal.id:
            raise _refused(
                portal,
                "This sign-in has expired or was already used. Start again from your member "
                "portal.",
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
        claims = verify_id_token(
            token["id_token"],
            fetch_key_set(metadata.jwks_uri),
            issuer=portal.issuer or "",
            client_id=portal.client_id or "",
            nonce=pending["nonce"],
            algorithms=metadata.algorithms,
        )
        access_token = token.get("access_token")
        if isinstance(access_token, str) and access_token:
            claims = merge_userinfo(claims, fetch_userinfo(metadata, access_token))
        member = link_portal_member(
            session,
            portal,
            person_from_claims(portal, claims),
            unverified=unverified_email(claims),
        )
        # The provider's OIDC ``locale`` claim, when it sends one, is the member's language.
        remember_locale(member, claims.get("locale"))
        role = role_from_claims(portal, claims)
        # Remembered so that reopening this callback says "already used" (see above).
        add_value(session, SIGN_IN_USED, state, {"portal_id": portal.id}, STATE_LIFETIME)
        outcome = signed_in(session, portal, member, role, method="oidc", remote_addr=remote_addr)
        if metadata.end_session_endpoint is None:
            return outcome
        # Kept for RP-initiated logout, which wants the ID token back as a hint; a very long
        # one would not fit the session cookie, and client_id alone identifies Tandem.
        hint = token["id_token"] if len(token["id_token"]) <= MAX_HINT_LENGTH else ""
        return replace(outcome, id_token_hint=hint)


def sign_out_url(
    session: Session,
    tenant_id: int,
    portal_id: int,
    *,
    id_token_hint: str | None,
    post_logout_redirect_uri: str,
) -> str | None:
    """Where to send a browser signing out of Tandem so it signs out at the portal too,
    or ``None`` (the portal is gone, of another tenant, or names no
    ``end_session_endpoint``)."""
    portal = session.get(Portal, portal_id)
    if portal is None or portal.tenant_id != tenant_id or portal.kind != "oidc":
        return None
    if not portal.provider:
        return None
    return end_session_url(
        ProviderMetadata.from_dict(portal.provider),
        portal.client_id or "",
        id_token_hint=id_token_hint,
        post_logout_redirect_uri=post_logout_redirect_uri,
    )
