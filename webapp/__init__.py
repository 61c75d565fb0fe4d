"""The Minyi web application (``gunicorn "webapp:create_app()"``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp import asset_fingerprints, config, db, errors, extensions, security
from webapp.admin.views import bp as admin_bp
from webapp.api.views import bp as api_bp
from webapp.auth.views import bp as auth_bp
from webapp.citizen.views import bp as citizen_bp
from webapp.converters import RowIdConverter
from webapp.dashboard.views import bp as dashboard_bp
from webapp.dev.views import bp as dev_bp
from webapp.sms_webhooks.views import bp as sms_webhooks_bp
from webapp.triage.views import bp as triage_bp


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then ``MINYI_*`` environment, then ``test_config``.

    It never migrates, never starts the scheduler and never queries the database, so it
    is safe under pre-forking servers.
    """
    app = Flask(__name__, instance_relative_config=True)
    app.url_map.converters["int"] = RowIdConverter
    config.configure(app, test_config)
    if app.config["PROXY_FIX_HOPS"]:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=app.config["PROXY_FIX_HOPS"],
            x_proto=app.config["PROXY_FIX_HOPS"],
            x_host=app.config["PROXY_FIX_HOPS"],
        )
    db.init_app(app)
    security.init_sessions(app)
    extensions.init_app(app)
    security.init_app(app)
    asset_fingerprints.init_app(app)
    app.register_blueprint(auth_bp)
    app.register_blueprint(citizen_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(triage_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(sms_webhooks_bp)
    if app.config["MINYI_SETTINGS"].sms_provider == "console":
        app.register_blueprint(dev_bp)
    errors.init_app(app)
    return app
