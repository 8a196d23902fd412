"""LTI 1.3 platforms: registrations, tool keys, login and launch, and LTI Advantage services.

Services take a session and never commit: the calling view or command does.
"""

from .ags import ACTIVITY_PROGRESS, GRADING_PROGRESS, ensure_lineitem, post_progress
from .claims import COORDINATOR, MEMBER, PROGRAMME_PARAM, tandem_role
from .deep_linking import DeepLinkResponse, deep_link_return_url, place_programme
from .errors import (
    DeepLinkingError,
    LaunchError,
    LaunchForbidden,
    LoginError,
    PlatformError,
    RefusedURL,
    RegistrationError,
    ServiceError,
)
from .invites import create_invite, redeem_invite
from .keys import active_key, public_key_set, rotate_key, sign_claims
from .landing import Landing, landing
from .launch import ValidLaunch, claimed_tenant_id, validate_launch
from .launches import LaunchOutcome, complete_launch, launch_data
from .login import LoginRedirect, start_login
from .nrps import import_roster, next_page_url
from .registration import register_dynamically
from .registry import (
    PlatformSettings,
    add_platform,
    find_registration,
    find_tenant,
    list_platforms,
    login_origin,
    origin_of,
    origins_of_tenant,
    platform_origins,
    remove_platform,
    tenant_origins,
)
from .score_jobs import POST_SCORE, defer_progress
from .tool_conf import DatabaseToolConf
from .tool_profile import ToolUrls, canvas_configuration

__all__ = [
    "ACTIVITY_PROGRESS",
    "COORDINATOR",
    "GRADING_PROGRESS",
    "MEMBER",
    "POST_SCORE",
    "PROGRAMME_PARAM",
    "DatabaseToolConf",
    "DeepLinkResponse",
    "DeepLinkingError",
    "Landing",
    "LaunchError",
    "LaunchForbidden",
    "LaunchOutcome",
    "LoginError",
    "LoginRedirect",
    "PlatformError",
    "PlatformSettings",
    "RefusedURL",
    "RegistrationError",
    "ServiceError",
    "ToolUrls",
    "ValidLaunch",
    "active_key",
    "add_platform",
    "canvas_configuration",
    "claimed_tenant_id",
    "complete_launch",
    "create_invite",
    "deep_link_return_url",
    "defer_progress",
    "ensure_lineitem",
    "find_registration",
    "find_tenant",
    "import_roster",
    "landing",
    "launch_data",
    "list_platforms",
    "login_origin",
    "next_page_url",
    "origin_of",
    "origins_of_tenant",
    "place_programme",
    "platform_origins",
    "post_progress",
    "public_key_set",
    "redeem_invite",
    "register_dynamically",
    "remove_platform",
    "rotate_key",
    "sign_claims",
    "start_login",
    "tandem_role",
    "tenant_origins",
    "validate_launch",
]
