"""Names of LTI 1.3 claims, message types and scopes, and reading people out of claims."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from members import PersonRecord

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = LTI + "message_type"
VERSION = LTI + "version"
DEPLOYMENT_ID = LTI + "deployment_id"
RESOURCE_LINK = LTI + "resource_link"
TARGET_LINK_URI = LTI + "target_link_uri"
ROLES = LTI + "roles"
CONTEXT = LTI + "context"
CUSTOM = LTI + "custom"
LIS = LTI + "lis"
TOOL_PLATFORM = LTI + "tool_platform"
LAUNCH_PRESENTATION = LTI + "launch_presentation"
DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
DEEP_LINKING_CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
DEEP_LINKING_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"
MESSAGE_TYPES = (RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST)

SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_RESULT = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"

# Custom parameter that carries the programme a resource link opens.
PROGRAMME_PARAM = "tandem_programme_id"

COORDINATOR = "coordinator"
MEMBER = "member"
_COORDINATOR_ROLES = {"Instructor", "TeachingAssistant", "ContentDeveloper", "Administrator"}
_CONTEXT_OR_INSTITUTION = ("/membership", "/institution/person")


def tandem_role(roles: Iterable[Any]) -> str:
    """Map LTI roles to Tandem's: coordinator or member.

    Instructor, TeachingAssistant, ContentDeveloper and Administrator count, as context
    or institution roles (full URIs) or as the short context names LTI 1.3 allows.
    System roles do not: a site administrator is not a coordinator of every course.
    """
    for role in roles:
        if not isinstance(role, str):
            continue
        if "://" not in role:
            if role in _COORDINATOR_ROLES:
                return COORDINATOR
            continue
        path, _, fragment = role.partition("#")
        if not any(marker in path for marker in _CONTEXT_OR_INSTITUTION):
            continue
        # membership#Instructor, membership/Instructor#TeachingAssistant, person#Administrator
        names = {fragment, path.rsplit("/", 1)[-1]}
        if names & _COORDINATOR_ROLES:
            return COORDINATOR
    return MEMBER


def is_institution_admin(roles: Iterable[Any]) -> bool:
    """True for the LIS institution Administrator role (sees every programme of the tenant)."""
    return any(
        isinstance(role, str)
        and role.startswith("http://purl.imsglobal.org/vocab/lis/v2/institution/person#")
        and role.endswith("#Administrator")
        for role in roles
    )


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def product_of(claims: Mapping[str, Any], default: str | None = None) -> str | None:
    """``moodle``, ``canvas``, ...: the platform's product family, lower-cased."""
    platform = claims.get(TOOL_PLATFORM)
    code = _text(platform.get("product_family_code")) if isinstance(platform, dict) else None
    return code.lower() if code else default


def _custom_value(custom: Any, name: str) -> str | None:
    """A custom parameter, unless Canvas left it unsubstituted (``$Canvas...``)."""
    value = custom.get(name) if isinstance(custom, dict) else None
    if isinstance(value, int):
        value = str(value)
    value = _text(value)
    return None if value is None or value.startswith("$") else value


def canvas_user_id(custom: Any) -> str | None:
    """The ``canvas_user_id`` custom parameter, unless Canvas left it unsubstituted."""
    return _custom_value(custom, "canvas_user_id")


def lms_course_key(claims: Mapping[str, Any], *, product: str | None) -> tuple[str, str] | None:
    """The LMS's own key for the launch's course, as its connector names it.

    Moodle's context id is its course id; Canvas sends ``canvas_course_id`` (set to
    ``$Canvas.course.id`` in the registration). ``None`` when the launch cannot say.
    """
    context = claims.get(CONTEXT)
    context_id = _text(context.get("id")) if isinstance(context, dict) else None
    if product == "moodle" and context_id:
        return ("moodle", context_id)
    canvas_id = _custom_value(claims.get(CUSTOM) or claims.get("custom"), "canvas_course_id")
    if canvas_id:
        return ("canvas", canvas_id)
    return None


def person_from_claims(sub: str, claims: Mapping[str, Any], *, product: str | None) -> PersonRecord:
    """The person an id_token (or an NRPS member entry) describes.

    A Moodle ``sub`` is also the Moodle user id; Canvas passes its user id in the
    ``canvas_user_id`` custom parameter; ``lis.person_sourcedid`` is the member number.
    """
    also: list[tuple[str, str]] = []
    if product == "moodle":
        also.append(("moodle", sub))
    custom = claims.get(CUSTOM) or claims.get("custom")
    canvas_id = canvas_user_id(custom)
    if canvas_id:
        also.append(("canvas", canvas_id))
    lis = claims.get(LIS)
    sourcedid = _text(lis.get("person_sourcedid")) if isinstance(lis, dict) else None
    sourcedid = sourcedid or _text(claims.get("lis_person_sourcedid"))
    return PersonRecord(
        source="lti",
        external_id=sub,
        given_name=_text(claims.get("given_name")),
        family_name=_text(claims.get("family_name")),
        display_name=_text(claims.get("name")),
        email=_text(claims.get("email")),
        picture_url=_text(claims.get("picture")),
        member_number=sourcedid,
        also_known_as=tuple(also),
    )


def locale_of(claims: Mapping[str, Any]) -> object:
    """The launch's ``launch_presentation.locale`` (e.g. ``"fr-CA"``), unchecked: the
    caller hands it to :func:`members.remember_locale`, which ignores a bad one."""
    presentation = claims.get(LAUNCH_PRESENTATION)
    return presentation.get("locale") if isinstance(presentation, Mapping) else None
