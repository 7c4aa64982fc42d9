"""Wire joint-inspection workspaces into the app: pages, navigation, demo data."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.cli import SEEDERS
    from app.web import NAV_ITEMS
    from shared_workspace import views
    from shared_workspace.demo import seed_demo_workspace

    app.register_blueprint(views.bp)
    app.register_blueprint(views.public_bp)
    if ("workspaces.dashboard", "Joint inspections") not in NAV_ITEMS:
        NAV_ITEMS.insert(0, ("workspaces.dashboard", "Joint inspections"))
    if seed_demo_workspace not in SEEDERS:
        SEEDERS.append(seed_demo_workspace)
