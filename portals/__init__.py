"""Member portals: signing members in through their association's portal, without an LMS.

A portal is an OpenID Connect provider (authorization code flow with PKCE) or, for an
association without single sign-on, a one-time link by email. Either way the member is
found by the shared linking rules (:mod:`members`) and gets the same session an
LMS launch gives. Services take a session and never commit: the view or command does.
"""

from .email_links import (
    LINK_LIFETIME,
    SEND_SIGN_IN_LINK,
    TOKEN_PLACEHOLDER,
    LinkPreview,
    SignInLink,
    consume_link,
    issue_link,
    link_message,
    normalise_address,
    preview_link,
    request_link,
    spend_link,
)
from .errors import (
    ClientRejected,
    CodeRefused,
    MemberRefused,
    PortalConfigError,
    PortalError,
    ProviderError,
    SignInRefused,
    UnknownPortalError,
)
from .outcome import PortalOutcome
from .provider import TOKEN_AUTH_METHODS, ProviderMetadata, discover
from .registry import PortalSettings, add_portal, get_portal, list_portals, remove_portal
from .roles import role_from_claims
from .sign_in import SignInStart, finish_sign_in, sign_out_url, start_sign_in

__all__ = [
    "LINK_LIFETIME",
    "SEND_SIGN_IN_LINK",
    "TOKEN_AUTH_METHODS",
    "TOKEN_PLACEHOLDER",
    "ClientRejected",
    "CodeRefused",
    "LinkPreview",
    "MemberRefused",
    "PortalConfigError",
    "PortalError",
    "PortalOutcome",
    "PortalSettings",
    "ProviderError",
    "ProviderMetadata",
    "SignInLink",
    "SignInRefused",
    "SignInStart",
    "UnknownPortalError",
    "add_portal",
    "consume_link",
    "discover",
    "finish_sign_in",
    "get_portal",
    "issue_link",
    "link_message",
    "list_portals",
    "normalise_address",
    "preview_link",
    "remove_portal",
    "request_link",
    "role_from_claims",
    "sign_out_url",
    "spend_link",
    "start_sign_in",
]
