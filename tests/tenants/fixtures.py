"""Factories for tenants and users: plain functions returning saved objects."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.audit import Actor
from app.db import set_context
from tenants.models import Role, Tenant, User, UserRole
from tenants.service import password_hasher

PASSWORD = "correct horse battery staple"  # noqa: S105
_counter = itertools.count(1)


@functools.cache
def password_hash() -> str:
    return password_hasher.hash(PASSWORD)


def create_tenant(session: Session, slug: str | None = None, **values: object) -> Tenant:
    n = next(_counter)
    slug = slug or f"tenant{n}"
    set_context(session, tenant_id=None, platform_admin=True)
    session.info["actor"] = Actor(None, None, "test")
    tenant = Tenant(
        slug=slug,
        name=values.pop("name", f"Inspectorate {slug}"),
        short_name=values.pop("short_name", slug.upper()),
        senior_oversight_title=values.pop("senior_oversight_title", "Team Leader"),
        email_domains=values.pop("email_domains", f"{slug}.example.gov.uk"),
        **values,
    )
    session.add(tenant)
    session.flush()
    set_context(session, tenant_id=None)
    return tenant


def create_user(
    session: Session,
    tenant: Tenant,
    roles: Iterable[Role] = (Role.INSPECTOR,),
    email: str | None = None,
    **values: object,
) -> User:
    n = next(_counter)
    set_context(session, tenant_id=tenant.id)
    user = User(
        tenant_id=tenant.id,
        email=email or f"user{n}@{tenant.domains[0]}",
        name=values.pop("name", f"User {n}"),
        password_hash=values.pop("password_hash", password_hash()),
        **values,
    )
    user.role_rows = [UserRole(role=Role(r).value, tenant_id=tenant.id) for r in roles]
    session.add(user)
    session.flush()
    set_context(session, tenant_id=None)
    return user


def sign_in(client: FlaskClient, user: User, password: str = PASSWORD) -> None:
    response = client.post("/sign-in", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
