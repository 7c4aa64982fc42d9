"""``flask users``, ``flask tokens`` and ``flask audit`` commands for scripts and operators."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app import audit
from app.db import get_database, set_context
from tenants import auth, service
from tenants.models import Role, Tenant

users_cli = AppGroup("users", help="Users of every tenant.")
tokens_cli = AppGroup("tokens", help="Personal access tokens.")
audit_cli = AppGroup("audit", help="The audit log.")


def _cli_actor(session) -> None:  # type: ignore[no-untyped-def]
    session.info["actor"] = audit.Actor(None, None, "command line")


@users_cli.command("create")
@click.option("--tenant", "tenant_slug", required=True, help="Tenant slug, e.g. hmcpsi")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", "roles", multiple=True, type=click.Choice([r.value for r in Role]))
@click.option("--password", default=None, help="Prompted when omitted and stdin is a terminal")
@click.option("--platform-admin", is_flag=True, help="May add and edit tenants (first set-up)")
def create_user(
    tenant_slug: str,
    email: str,
    name: str,
    roles: tuple[str, ...],
    password: str | None,
    platform_admin: bool,
) -> None:
    """Add a user to a tenant."""
    if password is None and sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with get_database().transaction() as session:
        _cli_actor(session)
        tenant = session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
        if tenant is None:
            raise click.ClickException(f"no tenant with slug {tenant_slug!r}")
        set_context(session, tenant_id=tenant.id)
        try:
            user = service.create_user(
                session,
                tenant=tenant,
                email=email,
                name=name,
                roles={Role(r) for r in roles},
                password=password,
                is_platform_admin=platform_admin,
            )
        except service.ServiceError as exc:
            raise click.ClickException(f"{exc.field}: {exc.message}") from None
        click.echo(f"created user {user.id} {user.email} in {tenant.slug}")


@users_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array, for scripts")
@click.option("--tenant", "tenant_slug", default=None)
def list_users(as_json: bool, tenant_slug: str | None) -> None:
    """List users, tenant by tenant."""
    rows = []
    with get_database().transaction() as session:
        query = select(Tenant).order_by(Tenant.slug)
        if tenant_slug:
            query = query.where(Tenant.slug == tenant_slug)
        for tenant in session.scalars(query).all():
            set_context(session, tenant_id=tenant.id)
            for user in service.users_of(session):
                rows.append(
                    {
                        "id": user.id,
                        "tenant": tenant.slug,
                        "email": user.email,
                        "name": user.name,
                        "roles": sorted(r.value for r in user.roles),
                        "active": user.active,
                        "mfa_enabled": user.mfa_enabled,
                    }
                )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['tenant']:<14} {row['email']:<50} {', '.join(row['roles'])}")


@tokens_cli.command("create")
@click.option("--user", "email", required=True, help="The token owner's email")
@click.option("--name", default="command line")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(list(auth.TOKEN_SCOPES)),
    default=("read",),
)
@click.option("--days", default=90, type=int)
def create_token(email: str, name: str, scopes: tuple[str, ...], days: int) -> None:
    """Create a token and print only the token."""
    with get_database().transaction() as session:
        _cli_actor(session)
        user = auth.find_user_for_sign_in(session, email)
        if user is None:
            raise click.ClickException(f"no user with email {email!r}")
        set_context(session, tenant_id=user.tenant_id, user_id=user.id)
        try:
            _token, plaintext = auth.create_token(
                session, user, name=name, scopes=set(scopes), days=days
            )
        except service.ServiceError as exc:
            raise click.ClickException(f"{exc.field}: {exc.message}") from None
    click.echo(plaintext)


@audit_cli.command("verify")
@click.option("--tenant", "tenant_slug", default=None)
def verify(tenant_slug: str | None) -> None:
    """Check every tenant's hash chain; name the first broken link and exit 1 if any."""
    broken = False
    with get_database().transaction() as session:
        query = select(Tenant).order_by(Tenant.slug)
        if tenant_slug:
            query = query.where(Tenant.slug == tenant_slug)
        for tenant in session.scalars(query).all():
            set_context(session, tenant_id=tenant.id)
            problem = audit.verify_chain(session, tenant.id)
            if problem is None:
                click.echo(f"{tenant.slug}: ok")
            else:
                broken = True
                where = f"event id {problem.event_id}" if problem.event_id else "chain head"
                click.echo(
                    f"{tenant.slug}: BROKEN at link {problem.seq} ({where}): {problem.reason}"
                )
    if broken:
        sys.exit(1)
