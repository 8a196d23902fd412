"""Open Badges credentials: issue and download (member), revoke (coordinator), and the
public verification page that anyone holding a credential's link or token can use.

Thin: parse, call one :mod:`checkins` function, commit, render. Signing keys belong to
the LTI layer (:mod:`platforms`); this module hands ``checkins`` a signer and the key set.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

import checkins
import platforms
import programmes
import records

from .. import auth
from ..i18n import gettext as _
from ..urls import external_url
from .checkins import _form_action, _me
from .programmes import current_actor

bp = Blueprint("credentials", __name__, url_prefix="/credentials")
MAX_TOKEN = 20_000


def _box() -> records.SecretBox:
    return current_app.extensions["tandem.secrets"]


def _key_set() -> dict:
    # The same keys /lti/jwks publishes: a credential checks out here iff it does there.
    return platforms.public_key_set(records.get_session(), _box())


@bp.post("/milestones/<int:milestone_id>/issue")
@auth.login_required
@_form_action
def issue(milestone_id: int) -> ResponseReturnValue:
    me = _me()
    session = records.get_session()
    credential = checkins.issue_credential(
        session,
        me.tenant_id,
        me.member_id,
        milestone_id,
        show_name=request.form.get("show_name") == "on",
        issuer_url=external_url("credentials.issuer", tenant_id=me.tenant_id),
        sign=lambda claims: platforms.sign_claims(session, _box(), claims),
    )
    flash(_("Your credential is ready: download it or share its verification link."), "success")
    return redirect(url_for("checkins.member") + f"#credential-{credential.public_id}", 303)


@bp.get("/<uuid:public_id>/download")
@auth.login_required
def download(public_id: object) -> ResponseReturnValue:
    """The member's own credential as a JWT file (``.jwt``), for a wallet or backpack."""
    me = _me()
    credential = checkins.own_credential(
        records.get_session(), me.tenant_id, me.member_id, str(public_id)
    )
    return Response(
        credential.token,
        mimetype="application/vc+jwt",
        headers={"Content-Disposition": f"attachment; filename=tandem-credential-{public_id}.jwt"},
    )


@bp.get("/<uuid:public_id>")
def verify(public_id: object) -> ResponseReturnValue:
    """Public: check the credential's signature against /lti/jwks and say what it says."""
    session = records.get_session()
    result = checkins.verify_public(session, str(public_id), _key_set())
    session.commit()  # the first key is created on demand
    return render_template("credentials/verify.html", result=result, public_id=str(public_id))


@bp.post("/verify")
def verify_pasted() -> ResponseReturnValue:
    """Public: check a pasted credential token. Changes nothing, so it needs no session."""
    token = request.form.get("token", "")
    if not token.strip() or len(token) > MAX_TOKEN:
        return render_template(
            "credentials/verify.html",
            result=checkins.Verification(False, "Paste the credential's token (a JWT)."),
            public_id=None,
        ), 400
    session = records.get_session()
    result = checkins.verify_token(session, token, _key_set())
    session.commit()
    return render_template("credentials/verify.html", result=result, public_id=None)


@bp.get("/issuers/<int:tenant_id>")
def issuer(tenant_id: int) -> ResponseReturnValue:
    """Public: the issuer's Open Badges profile that credentials name."""
    profile = checkins.issuer_profile(
        records.get_session(),
        tenant_id,
        external_url("credentials.issuer", tenant_id=tenant_id),
        external_url("lti.jwks"),
    )
    return jsonify(profile)


@bp.post("/programmes/<int:programme_id>/<uuid:public_id>/revoke")
@auth.coordinator_required
def revoke(programme_id: int, public_id: object) -> ResponseReturnValue:
    """A coordinator revokes a credential of their programme, with a reason."""
    auth.check_csrf(request.form.get("csrf_token"))
    me = _me()
    session = records.get_session()
    # The one course-scoped rule: a coordinator of another course gets a 404 here too.
    programme = programmes.coordinated_programme(session, current_actor(), programme_id)
    try:
        checkins.revoke_credential(
            session,
            me.tenant_id,
            programme.id,
            str(public_id),
            me.member_id,
            request.form.get("reason", ""),
        )
        session.commit()
        flash(_("The credential is revoked; its verification page now says so."))
    except (checkins.InvalidInput, checkins.Conflict) as exc:
        session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("dashboard.show", programme_id=programme_id) + "#credentials", 303)
