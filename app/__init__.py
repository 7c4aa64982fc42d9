"""Joint inspections by the criminal justice inspectorates: the Flask application."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import NoReturn

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

from app.config import Config, ConfigError

__version__ = "0.1.0"

__all__ = ["Config", "ConfigError", "create_app", "__version__"]


def create_app(config: Config | None = None) -> Flask:
    """Build the app from ``config`` (default: the environment); connects to nothing yet."""
    import retention.api  # noqa: F401
    import retention.workspace_api  # noqa: F401
    import shared_workspace.api  # noqa: F401 - adds routes to the API blueprint before registration
    import shared_workspace.documents.api  # noqa: F401
    import shared_workspace.evidence.api  # noqa: F401
    import shared_workspace.plan_api  # noqa: F401
    import shared_workspace.publication.api  # noqa: F401
    import shared_workspace.stakeholders.api  # noqa: F401
    import tenants.api  # noqa: F401
    from app import api, db, jobs, logging, security, storage, web
    from app.cli import register_cli
    from app.health import bp as health_bp
    from retention.app import init_app as init_retention
    from shared_workspace.app import init_app as init_workspaces
    from tenants.app import init_app as init_tenants

    if config is None:
        # An entry point (gunicorn, flask, rq): refuse unsafe settings with one line, exit 1.
        try:
            config = Config.from_env()
            config.validate()
        except ConfigError as exc:
            _refuse(f"configuration error: {exc}")
    config.validate()
    logging.configure_logging(config.log_level)

    flask_app = Flask(
        __name__,
        instance_path=str(config.instance_path),
        instance_relative_config=False,
    )
    flask_app.config.update(
        SECRET_KEY=config.effective_secret_key,
        DEBUG=config.debug,
        TESTING=config.app_env == "test",
        MAX_CONTENT_LENGTH=50 * 1024 * 1024,
        SESSION_COOKIE_NAME="__Host-session" if config.is_production else "session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=config.is_production,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=config.session_absolute_hours),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=config.is_production,
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=config.is_production,
        JSON_SORT_KEYS=False,
    )
    flask_app.extensions["config"] = config
    if config.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = config.trusted_proxies
        flask_app.wsgi_app = ProxyFix(flask_app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    config.instance_path.mkdir(parents=True, exist_ok=True)

    logging.init_app(flask_app)
    security.init_app(flask_app, production=config.is_production)
    database = db.Database(config.database_url, pool_size=config.db_pool_size)
    problem = db.verify_app_role(database.engine)
    if problem:
        _refuse(f"configuration error: {problem}")
    db.init_app(flask_app, database)
    jobs.init_app(flask_app, redis_url=config.redis_url, eager=config.jobs_eager)
    storage.init_app(flask_app, config)
    web.init_app(flask_app)
    init_tenants(flask_app)
    init_workspaces(flask_app)
    init_retention(flask_app)
    api.init_app(flask_app)
    flask_app.register_blueprint(health_bp)
    register_cli(flask_app)
    _import_models()
    flask_app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(Path(__file__).parent / "templates")),
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]
    )
    flask_app.jinja_env.globals.update(service_name="Joint inspections", app_version=__version__)
    return flask_app


#: gunicorn's "application failed to load" status: the arbiter stops instead of respawning.
APP_LOAD_ERROR = 4


def _refuse(reason: str) -> NoReturn:
    """Print one line and exit, so a misconfigured deploy stops at once."""
    print(reason, file=sys.stderr, flush=True)
    raise SystemExit(APP_LOAD_ERROR)


def _import_models() -> None:
    """Import every module that declares models or jobs, so metadata and registries are full."""
    import app.audit  # noqa: F401
    import app.heartbeat  # noqa: F401
    import app.tenancy  # noqa: F401
    import retention.models  # noqa: F401
    import shared_workspace.documents.live_models  # noqa: F401
    import shared_workspace.documents.models  # noqa: F401
    import shared_workspace.evidence.models  # noqa: F401
    import shared_workspace.models  # noqa: F401
    import shared_workspace.publication.models  # noqa: F401
    import shared_workspace.stakeholders.models  # noqa: F401
    import tenants.models  # noqa: F401
