"""Factories for joint inspections driven through the API, as real clients would."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.db import set_context
from shared_workspace.models import WorkspaceRole
from tenants import auth
from tenants.models import Role
from tests.tenants.fixtures import create_tenant, create_user


@dataclass
class Inspectorate:
    slug: str
    tenant: Any
    user: Any
    token: str
    client: FlaskClient
    headers: dict[str, str] = field(default_factory=dict)

    def call(self, method: str, path: str, json: Any = None):  # type: ignore[no-untyped-def]
        return self.client.open(path, method=method, json=json, headers=self.headers)


def inspectorate(
    session: Session, client: FlaskClient, slug: str, **tenant_values: Any
) -> Inspectorate:
    """A tenant with one senior user holding every role, and a read/write API token."""
    tenant = create_tenant(session, slug, **tenant_values)
    user = create_user(session, tenant, roles=list(Role), name=f"{slug} lead person")
    set_context(session, tenant_id=tenant.id, user_id=user.id)
    _row, token = auth.create_token(session, user, name="api", scopes={"read", "write"})
    session.commit()
    return Inspectorate(slug, tenant, user, token, client, {"Authorization": f"Bearer {token}"})


def name_everyone(
    workspace_id: int,
    *parties: Inspectorate,
    roles: tuple[WorkspaceRole, ...] = tuple(WorkspaceRole),
) -> None:
    for party in parties:
        for role in roles:
            response = party.call(
                "POST",
                f"/api/v1/workspaces/{workspace_id}/members",
                {"user_id": party.user.id, "role": role.value},
            )
            assert response.status_code == 201, response.get_json()
