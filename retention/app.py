"""Wire retention into the app: the sweep job, founding rules and demo data in the seed, pages,
the navigation item and commands (the API routes join the API blueprint in create_app)."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session


def seed_retention_rules(session: Session, demo: bool) -> Iterable[str]:
    """The founding tenants' rules from DOMAIN.md, once each (their own scope writes them)."""
    from app.db import set_context
    from retention.rules import FOUNDING_RULES, seed_founding_rules
    from tenants.models import Tenant

    del demo
    added = 0
    tenants = list(session.scalars(select(Tenant).where(Tenant.slug.in_(FOUNDING_RULES))))
    for tenant in tenants:
        set_context(session, tenant_id=tenant.id, platform_admin=True)
        added += seed_founding_rules(session, tenant.id, tenant.slug)
    set_context(session, tenant_id=None, platform_admin=True)
    return [f"retention rules: {added} added"] if added else []


def init_app(app: Flask) -> None:
    import retention.sweep  # noqa: F401  (registers the hourly sweep)
    from app.cli import SEEDERS
    from app.web import register_nav
    from retention import certificate_views, workspace_views  # noqa: F401  (routes on views.bp)
    from retention.cli import retention_cli
    from retention.demo import seed_demo_retention
    from retention.views import bp
    from shared_workspace.demo import seed_demo_workspace

    app.register_blueprint(bp)
    register_nav("retention.index", "Retention")
    app.cli.add_command(retention_cli)
    if seed_retention_rules not in SEEDERS:
        at = SEEDERS.index(seed_demo_workspace) if seed_demo_workspace in SEEDERS else len(SEEDERS)
        SEEDERS.insert(at, seed_retention_rules)
    if seed_demo_retention not in SEEDERS:
        # After the demo inspection it adds to: a hold, the agreement, an earlier certificate.
        at = SEEDERS.index(seed_demo_workspace) + 1 if seed_demo_workspace in SEEDERS else None
        SEEDERS.insert(len(SEEDERS) if at is None else at, seed_demo_retention)
