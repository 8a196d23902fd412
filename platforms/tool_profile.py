"""How Tandem describes itself to a platform: Canvas developer-key JSON, dynamic registration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from . import claims as c

TITLE = "Tandem mentoring"
DESCRIPTION = (
    "Mentoring programmes inside your course: matching, agreements, check-ins and surveys."
)
SCOPES = (
    c.SCOPE_LINEITEM,
    c.SCOPE_LINEITEM_READONLY,
    c.SCOPE_RESULT,
    c.SCOPE_SCORE,
    c.SCOPE_NRPS,
)
# Canvas substitutes these in every launch; they link the launch to Canvas's REST user and
# course ids (one member, one course, whether a launch or a sync saw them first).
CANVAS_CUSTOM_FIELDS = {
    "canvas_user_id": "$Canvas.user.id",
    "canvas_course_id": "$Canvas.course.id",
}
CLAIMS = ("iss", "sub", "name", "given_name", "family_name", "email", "picture")


@dataclass(frozen=True)
class ToolUrls:
    """The tool's absolute URLs, as an LMS admin pastes them."""

    login: str
    launch: str
    jwks: str

    @property
    def domain(self) -> str:
        return urlsplit(self.launch).netloc


def canvas_configuration(urls: ToolUrls) -> dict[str, Any]:
    """The JSON of a Canvas LTI developer key ("Enter URL" / "Paste JSON")."""
    placements = [
        {
            "placement": "course_navigation",
            "message_type": c.RESOURCE_LINK_REQUEST,
            "text": "Mentoring",
            "target_link_uri": urls.launch,
            "default": "enabled",
        },
        {
            "placement": "link_selection",
            "message_type": c.DEEP_LINKING_REQUEST,
            "text": TITLE,
            "target_link_uri": urls.launch,
        },
        {
            "placement": "assignment_selection",
            "message_type": c.DEEP_LINKING_REQUEST,
            "text": TITLE,
            "target_link_uri": urls.launch,
        },
    ]
    return {
        "title": TITLE,
        "description": DESCRIPTION,
        "oidc_initiation_url": urls.login,
        "target_link_uri": urls.launch,
        "public_jwk_url": urls.jwks,
        "scopes": list(SCOPES),
        "extensions": [
            {
                "domain": urls.domain,
                "tool_id": "tandem",
                "platform": "canvas.instructure.com",
                "privacy_level": "public",
                "settings": {"text": TITLE, "placements": placements},
            }
        ],
        "custom_fields": dict(CANVAS_CUSTOM_FIELDS),
    }


def registration_request(urls: ToolUrls, platform_config: dict[str, Any]) -> dict[str, Any]:
    """The client registration Tandem POSTs in LTI Dynamic Registration.

    Asks only for the scopes the platform says it supports.
    """
    supported = platform_config.get("scopes_supported")
    scopes = [s for s in SCOPES if not isinstance(supported, list) or s in supported]
    product = (
        platform_config.get("https://purl.imsglobal.org/spec/lti-platform-configuration") or {}
    ).get("product_family_code")
    tool_configuration: dict[str, Any] = {
        "domain": urls.domain,
        "target_link_uri": urls.launch,
        "description": DESCRIPTION,
        "claims": list(CLAIMS),
        "messages": [
            {"type": c.RESOURCE_LINK_REQUEST, "target_link_uri": urls.launch, "label": TITLE},
            {
                "type": c.DEEP_LINKING_REQUEST,
                "target_link_uri": urls.launch,
                "label": TITLE,
                "placements": ["ContentArea"],
                "supported_types": ["ltiResourceLink"],
            },
        ],
    }
    if product == "canvas":
        tool_configuration["custom_parameters"] = dict(CANVAS_CUSTOM_FIELDS)
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": urls.login,
        "redirect_uris": [urls.launch],
        "client_name": TITLE,
        "jwks_uri": urls.jwks,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scopes),
        "https://purl.imsglobal.org/spec/lti-tool-configuration": tool_configuration,
    }
