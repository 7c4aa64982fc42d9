"""Wire the tenants package into the app: login, pages, API routes, CLI, seed."""

from __future__ import annotations

from typing import Any

from flask import Flask


def _role_item(role: Any, checked: Any) -> dict[str, Any]:
    return {"value": role.value, "text": role.label, "checked": role.value in checked}


def init_app(app: Flask) -> None:
    from app.cli import SEEDERS
    from app.web import register_nav
    from tenants import admin_views, api, login, oidc, platform_views, views  # noqa: F401
    from tenants.cli import audit_cli, tokens_cli, users_cli
    from tenants.seed import seed

    login.init_app(app)
    oidc.init_app(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(admin_views.bp)
    app.register_blueprint(platform_views.bp)
    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(audit_cli)
    if seed not in SEEDERS:
        SEEDERS.append(seed)
    register_nav("auth.account", "Your account")
    admin_views.init_nav()
    register_nav("platform.tenants", "Inspectorates")
    app.jinja_env.filters["role_item"] = _role_item
