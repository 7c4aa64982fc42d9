"""Wire joint-inspection workspaces into the app: pages, navigation, demo data."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    import shared_workspace.evidence.jobs  # noqa: F401  (registers the housekeeping job)
    import shared_workspace.reminders  # noqa: F401  (registers the periodic reminder job)
    from app.cli import SEEDERS
    from app.web import NAV_ITEMS
    from shared_workspace import plan_views, views, work_views  # noqa: F401 (routes on views.bp)
    from shared_workspace.demo import seed_demo_workspace
    from shared_workspace.documents import live  # noqa: F401 (the live editing socket)
    from shared_workspace.documents import views as document_views  # noqa: F401
    from shared_workspace.evidence import views as evidence_views  # noqa: F401 (routes on views.bp)
    from shared_workspace.evidence.cli import storage_cli
    from shared_workspace.publication import schedule as _schedule  # noqa: F401 (periodic job)
    from shared_workspace.publication import views as publication_views
    from shared_workspace.stakeholders import views as stakeholder_views

    app.register_blueprint(views.bp)
    app.cli.add_command(storage_cli)
    app.register_blueprint(views.public_bp)
    app.register_blueprint(stakeholder_views.bp)
    app.register_blueprint(publication_views.public_bp)
    if ("stakeholders.index", "Stakeholders") not in NAV_ITEMS:
        NAV_ITEMS.insert(1, ("stakeholders.index", "Stakeholders"))
    if ("workspaces.dashboard", "Joint inspections") not in NAV_ITEMS:
        NAV_ITEMS.insert(0, ("workspaces.dashboard", "Joint inspections"))
    if seed_demo_workspace not in SEEDERS:
        SEEDERS.append(seed_demo_workspace)
