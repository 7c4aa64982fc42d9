"""``flask`` commands: migrations, seed, worker, scheduler. Domain packages add their own."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from app.config import PROJECT_ROOT

db_cli = AppGroup("db", help="Database schema (Alembic migrations).")

#: Functions ``(session, demo: bool) -> list[str]`` run by ``flask seed``; each is idempotent.
SEEDERS: list = []


def alembic_config(url: str | None = None, app_role: str | None = None):  # type: ignore[no-untyped-def]
    """Alembic settings: migrate ``url`` (as the owner) and grant ``app_role`` its rights."""
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if url:
        cfg.attributes["database_url"] = url
    if app_role:
        cfg.attributes["app_role"] = app_role
    return cfg


def app_role_of(config) -> str | None:  # type: ignore[no-untyped-def]
    """The app's PostgreSQL role when it differs from the migration owner's."""
    from sqlalchemy.engine import make_url

    if config.is_sqlite:
        return None
    app_user = make_url(config.database_url).username
    owner_user = make_url(config.database_owner_url).username
    return app_user if app_user and app_user != owner_user else None


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head) as the schema owner."""
    from alembic import command

    config = current_app.extensions["config"]
    command.upgrade(alembic_config(config.database_owner_url, app_role_of(config)), revision)
    click.echo(f"database upgraded to {revision}")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION."""
    from alembic import command

    command.downgrade(alembic_config(current_app.extensions["config"].database_owner_url), revision)
    click.echo(f"database downgraded to {revision}")


@click.command("seed")
@with_appcontext
@click.option("--demo", is_flag=True, help="Also add demo users and a joint inspection.")
def seed(demo: bool) -> None:
    """Create the founding tenants (and demo data with --demo); safe to run again."""
    from app.audit import Actor
    from app.db import get_database, set_context

    if current_app.extensions["config"].is_production and demo:
        raise click.ClickException("demo users are never created in production")
    with get_database().transaction() as session:
        session.info["actor"] = Actor(None, None, "flask seed")
        set_context(session, tenant_id=None, platform_admin=True)
        for seeder in SEEDERS:
            for line in seeder(session, demo):
                click.echo(line)


@click.command("worker")
@with_appcontext
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
def worker(burst: bool) -> None:
    """Run an rq worker on every queue (needs REDIS_URL)."""
    from rq import Worker

    from app.jobs import QUEUES

    runner = current_app.extensions["jobs"]
    if runner.name != "rq":
        raise click.ClickException("REDIS_URL is not set: jobs run in-process, no worker needed")
    Worker(list(QUEUES), connection=runner.connection).work(burst=burst, with_scheduler=True)


@click.command("scheduler")
@with_appcontext
def scheduler() -> None:
    """Enqueue periodic jobs on their intervals (needs REDIS_URL; run one per deployment)."""
    from app.jobs import build_cron_scheduler

    config = current_app.extensions["config"]
    if not config.redis_url:
        raise click.ClickException("REDIS_URL is not set: the embedded scheduler runs in-process")
    build_cron_scheduler(config.redis_url).start()


def register_cli(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(seed)
    app.cli.add_command(worker)
    app.cli.add_command(scheduler)
