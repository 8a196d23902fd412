"""The Flask application factory."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

import jobs
import records

from . import config as tandem_config
from . import observability, security
from .errors import register_error_handlers


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
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.config.from_mapping(tandem_config.config_from_env())
    app.config.from_mapping(config)

    production = not (app.config["TESTING"] or app.config["TANDEM_DEMO"])
    app.extensions["tandem.secrets"] = tandem_config.check_config(app.config, production=production)

    if str(app.config.get("TANDEM_BASE_URL") or "").startswith("https://"):
        # Tandem lives in LMS iframes: its session cookie must reach it cross-site.
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["SESSION_COOKIE_SAMESITE"] = "None"

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
    from .views import dashboard as dashboard_views

    app.register_blueprint(checkin_views.bp)
    app.register_blueprint(dashboard_views.bp)
    return app


def _declare_jobs() -> None:
    """Import every module that declares a job, so that any process can defer and run them."""
    import connectors.scheduled  # noqa: F401  (syncs and their schedules)
    import platforms.roster  # noqa: F401  (roster imports)
    import programmes.scheduled  # noqa: F401  (daily reminders)

    from . import sign_in_mail  # noqa: F401  (sign-in link mail)
