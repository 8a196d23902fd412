"""LTI 1.3 endpoints: login, launch, JWKS, and the pages a launch lands on.

Thin: each view parses the request, calls :mod:`platforms`, commits and renders.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import NoReturn

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

import outbound
import platforms
import programmes
import records
from platforms import LaunchError, LoginError, PlatformError
from platforms.audit import record as audit

from .. import auth, observability, security
from ..i18n import gettext as _
from ..ids import parse_id
from ..urls import cookie_flags, external_url
from .programmes import current_actor, form_date

bp = Blueprint("lti", __name__)

STATE_COOKIE_PREFIX = "lti_state_"
STATE_COOKIE_MAX_AGE = 600


def _box() -> records.SecretBox:
    return current_app.extensions["tandem.secrets"]


def _refuse(exc: PlatformError, action: str) -> NoReturn:
    """Undo everything the request wrote, keep one audit row, and re-raise for the page."""
    session = records.get_session()
    session.rollback()
    tenant_id = getattr(exc, "tenant_id", None)
    if action == "lti.launch_refused":
        observability.count_launch(getattr(exc, "reason", type(exc).__name__))
    detail = {"reason": getattr(exc, "reason", type(exc).__name__), "message": str(exc)}
    if isinstance(exc, LoginError):
        detail["issuer"] = exc.issuer
    audit(session, action, tenant_id=tenant_id, detail=detail, remote_addr=request.remote_addr)
    session.commit()
    if tenant_id is not None:
        security.allow_framing_by(platforms.origins_of_tenant(session, tenant_id))
    raise exc


def _set_state_cookie(response: Response, state: str) -> None:
    # Inside an LMS iframe the launch is a cross-site POST: only SameSite=None (which
    # browsers accept with Secure alone) reaches it; cookie_flags() gives that over https.
    response.set_cookie(
        STATE_COOKIE_PREFIX + state,
        state,
        max_age=STATE_COOKIE_MAX_AGE,
        path=url_for("lti.launch"),
        **cookie_flags(),
    )


@bp.route("/lti/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """OIDC third-party login initiation: remember state and nonce, redirect to the platform."""
    session = records.get_session()
    params = request.values.to_dict()
    try:
        login = platforms.start_login(session, params, external_url("lti.launch"))
    except LoginError as exc:
        _refuse(exc, "lti.login_refused")
    session.commit()
    security.allow_framing_by(login.frame_origins)
    if login.storage_target:
        # Browsers that block third-party cookies: keep state and nonce in the platform's
        # frame through LTI client-side postMessage storage, and set the cookie anyway.
        response = make_response(render_template("lti/login_storage.html", login=login))
    elif request.headers.get("Sec-Fetch-Dest") == "iframe":
        # In a frame, check first that the state cookie will stick; if not, offer to
        # reopen the login at the top level, where it does.
        reopen = url_for("lti.login", **params)
        response = make_response(
            render_template("lti/login_check.html", login=login, reopen=reopen)
        )
    else:
        response = redirect(login.url, code=302)
    _set_state_cookie(response, login.state)
    return response


@bp.post("/lti/launch")
def launch() -> ResponseReturnValue:
    """The id_token form post: validate, sign in, land on the member or coordinator page."""
    session = records.get_session()
    id_token = request.form.get("id_token", "")
    state = request.form.get("state", "")
    browser_state = request.cookies.get(STATE_COOKIE_PREFIX + state) if state else None
    storage_target = request.form.get("lti_storage_target")
    from_platform_storage = False
    if browser_state is None and storage_target:
        if "lti_storage_state" in request.form:
            # Our storage page read this from the platform's frame and posted it back.
            browser_state = request.form["lti_storage_state"]
            from_platform_storage = True
        else:
            tenant_id = platforms.claimed_tenant_id(session, id_token)
            security.allow_framing_by(platforms.origins_of_tenant(session, tenant_id))
            return render_template(
                "lti/launch_storage.html",
                id_token=id_token,
                state=state,
                storage_target=storage_target,
                platform_origin=platforms.login_origin(session, tenant_id),
            )
    try:
        valid = platforms.validate_launch(
            session,
            _box(),
            id_token,
            state,
            browser_state,
            from_platform_storage=from_platform_storage,
        )
        outcome = platforms.complete_launch(session, _box(), valid, remote_addr=request.remote_addr)
    except LaunchError as exc:
        _refuse(exc, "lti.launch_refused")
    origins = platforms.tenant_origins(valid.tenant)
    # The launch's records and the session it opens: one transaction, one commit.
    auth.sign_in(outcome, origins)
    session.commit()
    observability.count_launch(None)
    security.allow_framing_by(origins)
    if outcome.message_type == platforms.claims.DEEP_LINKING_REQUEST:
        target = url_for("lti.deep_link")
    elif outcome.role == platforms.COORDINATOR:
        target = url_for("lti.coordinator_home")
    else:
        target = url_for("lti.member_home")
    response = redirect(target, code=303)
    response.delete_cookie(
        STATE_COOKIE_PREFIX + state, path=url_for("lti.launch"), **cookie_flags()
    )
    return response


@bp.get("/lti/jwks")
def jwks() -> ResponseReturnValue:
    """The tool's public keys: the active one and those retired in the last seven days."""
    session = records.get_session()
    key_set = platforms.public_key_set(session, _box())
    session.commit()  # the first key is created on demand
    response = jsonify(key_set)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def _landing(template: str, home: Callable[[Session, programmes.Actor], object]) -> str:
    """Who and where the signed-in person is (``page``), and their ``home``."""
    member = auth.current_member()
    assert member is not None  # the decorators guarantee it
    session = records.get_session()
    page = platforms.landing(
        session,
        member.tenant_id,
        member.member_id,
        member.role,
        member.course_id,
        member.programme_id,
    )
    if page is None:
        auth.sign_out()
        abort(
            401, _("Your session no longer matches a member. Open Tandem from your course again.")
        )
    found = home(session, current_actor())
    return render_template(template, page=page, member=member, home=found)


@bp.get("/me")
@auth.login_required
def member_home() -> ResponseReturnValue:
    """A member's home: who and where they are, and what they do next."""
    return _landing("lti/member.html", programmes.member_home)


@bp.get("/coordinator")
@auth.coordinator_required
def coordinator_home() -> ResponseReturnValue:
    """A coordinator's home: each programme they coordinate and what needs them."""
    text = _landing("lti/coordinator.html", programmes.coordinator_home)
    records.get_session().commit()  # the visit: what is "new" next time counts from it
    return text


def _deep_linking_launch() -> dict:
    member = auth.current_member()
    assert member is not None
    data = (
        platforms.launch_data(records.get_session(), member.launch_id, member.tenant_id)
        if member.launch_id
        else None
    )
    if data is None or data.get("message_type") != platforms.claims.DEEP_LINKING_REQUEST:
        abort(400, _("This is not a placement from your course. Add Tandem to the course again."))
    return data


@bp.route("/lti/deep-link", methods=["GET", "POST"])
@auth.coordinator_required
def deep_link() -> ResponseReturnValue:
    """The programme picker of a deep linking launch, and the signed answer to the platform.

    A new programme is made as "Start a programme" makes it (template, name, start);
    the existing ones offered are those this coordinator may open.
    """
    session = records.get_session()
    data = _deep_linking_launch()
    actor = current_actor()
    if request.method == "GET":
        listed = programmes.list_programmes(session, actor)
        return render_template(
            "lti/deep_link.html",
            programmes=[p for p in listed if p.status != "closed"],
            templates=programmes.TEMPLATES,
            today=date.today(),
            csrf_token=auth.csrf_token(),
        )
    auth.check_csrf(request.form.get("csrf_token"))
    raw_id = request.form.get("programme_id", "").strip()
    if raw_id and not raw_id.isdigit():
        abort(400, _("The programme chosen is not a number."))
    programme_id = parse_id(raw_id) if raw_id else None
    if raw_id and programme_id is None:
        abort(404, _("There is no such programme."))
    if programme_id is not None:
        try:
            programme = programmes.coordinated_programme(session, actor, programme_id)
        except programmes.NotFoundError as exc:
            raise platforms.DeepLinkingError(str(exc)) from None
    else:
        programme = programmes.create_from_template(
            session,
            actor,
            request.form.get("template", ""),
            name=request.form.get("name", "").strip() or None,
            starts_on=form_date("starts_on"),
            lti_context_id=(data.get("context") or {}).get("id"),
        )
    answer = platforms.place_programme(
        session,
        _box(),
        data,
        external_url("lti.launch"),
        programme,
        allow_insecure=outbound.insecure_urls_allowed(),
    )
    session.commit()
    return render_template(
        "lti/autopost.html",
        title=_("Placing the programme"),
        action=answer.return_url,
        fields={"JWT": answer.jwt},
    )


def _tool_urls() -> platforms.ToolUrls:
    return platforms.ToolUrls(
        login=external_url("lti.login"),
        launch=external_url("lti.launch"),
        jwks=external_url("lti.jwks"),
    )


@bp.get("/lti/register", defaults={"invite": None})
@bp.get("/lti/register/<invite>")
def register(invite: str | None) -> ResponseReturnValue:
    """LTI Dynamic Registration by invitation: register, then ask the platform to close the frame.

    The invite is the last path segment (``tandem platform invite`` prints the URL), so
    it survives however a platform appends its own query parameters.
    """
    openid_configuration = request.args.get("openid_configuration", "").strip()
    if not openid_configuration:
        abort(400, _("Open this address from your LMS's LTI Dynamic Registration page."))
    platform_origin = platforms.origin_of(openid_configuration)
    security.allow_framing_by([platform_origin] if platform_origin else [])
    session = records.get_session()
    try:
        tenant = platforms.register_dynamically(
            session,
            openid_configuration,
            request.args.get("registration_token"),
            _tool_urls(),
            invite=invite,
            open_registration=bool(current_app.config.get("TANDEM_OPEN_REGISTRATION")),
        )
    except PlatformError as exc:
        _refuse(exc, "lti.registration_refused")
    audit(
        session,
        "lti.registered",
        tenant_id=tenant.id,
        subject=("tenant", str(tenant.id)),
        detail={"issuer": tenant.issuer, "client_id": tenant.client_id},
        remote_addr=request.remote_addr,
    )
    session.commit()
    security.forget_platform_origins(current_app)
    return render_template("lti/registered.html", tenant=tenant)


@bp.get("/lti/config/canvas.json")
def canvas_config() -> ResponseReturnValue:
    """The Canvas developer-key configuration (paste its URL under "Enter URL")."""
    return jsonify(platforms.canvas_configuration(_tool_urls()))
