"""``flask retention preview`` and ``flask retention sweep``."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

retention_cli = AppGroup("retention", help="Retention: preview and run the destruction sweep.")


@retention_cli.command("preview")
@click.option("--tenant", "slug", required=True, help="The inspectorate's slug, e.g. hmcpsi.")
@click.option("--days", default=30, show_default=True, type=click.IntRange(0, 3660))
@click.option("--workspace", "workspace_id", type=click.IntRange(1, 2**31 - 1), default=None)
def preview_command(slug: str, days: int, workspace_id: int | None) -> None:
    """What the sweeps of the next DAYS days will destroy for one inspectorate (nothing is
    changed)."""
    from app.db import get_database, set_context
    from retention.service import preview
    from tenants.models import Tenant

    with get_database().transaction() as session:
        set_context(session, tenant_id=None)
        tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
        if tenant is None:
            raise click.ClickException(f"no inspectorate with slug {slug!r}")
        set_context(session, tenant_id=tenant.id)
        found = preview(session, tenant.id, days, workspace_id)
        click.echo(f"{tenant.name}: {len(found['due'])} item(s) due in the next {days} day(s)")
        for row in found["due"]:
            click.echo(f"  {row.disposal_on}  {row.material_type} {row.material_id}  {row.title}")
        if found["held"]:
            click.echo(f"{len(found['held'])} item(s) would be due but are held:")
            for row in found["held"]:
                click.echo(
                    f"  {row.disposal_on}  {row.material_type} {row.material_id}  {row.title}"
                )
        session.rollback()


@retention_cli.command("sweep")
def sweep_command() -> None:
    """Destroy what is due and not held, for every inspectorate, with certificates."""
    from retention.sweep import run_sweep

    result = run_sweep()
    click.echo(
        f"certificates: {len(result.certificates)}, claims ended: {result.ended}, "
        f"objects deleted: {result.objects_deleted}, review tasks opened: {result.tasks}"
    )
