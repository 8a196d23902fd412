"""The Flask application factory."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, abort, request
from werkzeug.middleware.proxy_fix import ProxyFix

import jobs
import records

from . import auth, i18n, ids, navigation, observability, ratelimits, security
from . import config as tandem_config
from .errors import register_error_handlers
from .i18n import gettext as _


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build a Tandem app.

    Settings come, lowest first, from the defaults, the ``TANDEM_*`` environment
    variables, and ``config``.

    Raises:
        ConfigurationError: a setting is missing or malformed (the message names it).
    """
    config = dict(config or {})
    folder = tandem_config.instance_path()
    if "INSTANCE_PATH" in config:
        folder = config.pop("INSTANCE_PATH")
    app = Flask("lti_tool", instance_path=str(folder))
    app.config.from_mapping(
        TANDEM_DATABASE_URL=tandem_config.default_database_url(Path(app.instance_path)),
        TANDEM_DEMO=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # The signed cookie itself expires with the absolute lifetime; the server-side
        # session record (lti_tool.auth) is what really ends a session.
        PERMANENT_SESSION_LIFETIME=auth.ABSOLUTE_LIFETIME,
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.config.from_mapping(tandem_config.config_from_env())
    app.config.from_mapping(config)

    production = not (app.config["TESTING"] or app.config["TANDEM_DEMO"])
    app.extensions["tandem.secrets"] = tandem_config.check_config(app.config, production=production)
    # A yes/no word from the environment becomes a bool, so that any part reading the
    # switch under this name gets the same answer.
    app.config["TANDEM_ALLOW_INSECURE_URLS"] = tandem_config.allow_insecure_urls(app.config)
    if app.config.get("TANDEM_BASE_URL"):
        tandem_config.apply_base_url(app.config, app.config["TANDEM_BASE_URL"])
    proxies = tandem_config.proxy_count(app.config)
    if proxies:
        # Only the operator knows how many proxies sit in front; each appends one hop, so
        # trusting more than that would let a client forge its address or scheme.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )
    # Ids in URLs beyond what the database holds are simply not found (404), not a 500.
    app.url_map.converters["int"] = ids.IdConverter

    records.init_app(app)
    runtime = jobs.Runtime(
        database=records.get_database(app),
        box=app.extensions["tandem.secrets"],
        settings=app.config,
        local_mode=app.config.get("TANDEM_JOBS_LOCAL", "inline"),
    )
    jobs.attach(runtime)
    app.extensions["tandem.jobs"] = runtime
    register_error_handlers(app)
    i18n.init_app(app)
    navigation.init_app(app)

    @app.before_request
    def _configured() -> None:
        # Absolute URLs (sign-in links, LTI redirect URIs) come from TANDEM_BASE_URL
        # only, never from the Host header: without it, Tandem serves nothing but health.
        if not app.config.get("TANDEM_BASE_URL") and request.endpoint != "core.healthz":
            abort(503, _("Tandem is not configured yet: TANDEM_BASE_URL is not set."))

    security.init_app(app)
    observability.init_app(app)

    _declare_jobs()
    from .views import core, demo_lms, lti
    from .views import portals as portal_views
    from .views import programmes as programme_views

    app.register_blueprint(core.bp)
    app.register_blueprint(lti.bp)
    app.register_blueprint(demo_lms.bp)
    app.register_blueprint(programme_views.bp)
    app.register_blueprint(portal_views.bp)
    from .views import checkins as checkin_views
    from .views import credentials as credential_views
    from .views import dashboard as dashboard_views
    from .views import privacy as privacy_views

    app.register_blueprint(checkin_views.bp)
    app.register_blueprint(dashboard_views.bp)
    app.register_blueprint(privacy_views.bp)
    app.register_blueprint(credential_views.bp)
    ratelimits.init_app(app)
    return app


def _declare_jobs() -> None:
    """Import every module that declares a job, so that any process can defer and run them."""
    import connectors.scheduled  # noqa: F401  (syncs and their schedules)
    import platforms.roster  # noqa: F401  (roster imports)
    import programmes.scheduled  # noqa: F401  (daily reminders)

    from . import sign_in_mail  # noqa: F401  (sign-in link mail)
