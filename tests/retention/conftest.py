"""Retention tests: the four founding inspectorates with their founding rules, workspaces
driven through the API, evidence uploaded to the folder store or the S3 API server, and the
clock moved instead of slept."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import clock
from app.db import get_database, set_context
from retention.models import Schedule
from retention.rules import seed_founding_rules
from retention.sweep import SweepResult, sweep_tenant
from tests.shared_workspace.evidence.conftest import PDF, new_item, store, upload
from tests.shared_workspace.fixtures import Inspectorate, inspectorate

__all__ = ["PDF", "store"]


@dataclass
class Founders:
    hmcpsi: Inspectorate
    hmicfrs: Inspectorate
    hmiprobation: Inspectorate
    hmiprisons: Inspectorate

    def __getitem__(self, slug: str) -> Inspectorate:
        return getattr(self, slug)


@pytest.fixture
def founders(client: FlaskClient, session: Session) -> Founders:
    parties = {}
    for slug in ("hmcpsi", "hmicfrs", "hmiprobation", "hmiprisons"):
        party = inspectorate(session, client, slug)
        set_context(session, tenant_id=party.tenant.id)
        seed_founding_rules(session, party.tenant.id, slug)
        session.commit()
        parties[slug] = party
    return Founders(**parties)


def new_workspace(lead: Inspectorate, *partners: str, publication: date | None = None) -> int:
    body: dict[str, Any] = {"title": "Joint thematic", "participants": list(partners)}
    if publication is not None:
        body["publication_date"] = publication.isoformat()
    response = lead.call("POST", "/api/v1/workspaces", body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]  # type: ignore[no-any-return]


#: Each uploaded file's storage key, by file id (the key names tenant, workspace and item).
KEYS: dict[int, str] = {}


def evidence_file(
    party: Inspectorate, ws: int, content: bytes = b"% notes", **item: Any
) -> tuple[int, int]:
    """An item with one clean PDF; returns (item id, file id)."""
    item_id = new_item(party, ws, **item)["item"]["id"]
    file_id, done = upload(party, ws, item_id, PDF + content, "notes.pdf")
    assert done.status_code in (200, 201, 202), done.get_json()
    KEYS[file_id] = f"evidence/{party.tenant.id}/{ws}/{item_id}/{file_id}"
    return item_id, file_id


def note(party: Inspectorate, ws: int, title: str = "Interview jottings") -> int:
    response = party.call(
        "POST", f"/api/v1/workspaces/{ws}/notes", {"title": title, "body": "names and notes"}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]  # type: ignore[no-any-return]


def act_as(session: Session, party: Inspectorate) -> None:
    """Scope the test's session to ``party``. Requests in these tests share the test's one
    connection, and each leaves its own tenant set on it: clear first, so the setting is
    written again even when the session already believes it is scoped to ``party``."""
    set_context(session, tenant_id=None)
    set_context(session, tenant_id=party.tenant.id)


def claims(
    session: Session, party: Inspectorate, material_type: str, material_id: int
) -> list[Schedule]:
    act_as(session, party)
    session.expire_all()
    return list(
        session.scalars(
            select(Schedule)
            .where(Schedule.material_type == material_type, Schedule.material_id == material_id)
            .order_by(Schedule.tenant_id)
        )
    )


def sweep(app: Flask, party: Inspectorate, **kwargs: Any) -> SweepResult:
    from app.storage import get_storage

    with app.app_context():
        return sweep_tenant(get_database(app).transaction, party.tenant.id, get_storage(), **kwargs)


@pytest.fixture
def travel() -> Iterator[Any]:
    """Move the clock to a London moment: ``travel(date, seconds_after_midnight)``."""
    from retention.rules import start_of_day

    def to(day: date, seconds: float = 0) -> None:
        clock.reset()
        target = start_of_day(day) + timedelta(seconds=seconds)
        clock.advance(target - clock.now())

    yield to
    clock.reset()


def colleague(session: Session, party: Inspectorate, *roles: Any) -> Inspectorate:
    """Another person of ``party``'s inspectorate holding only ``roles``, with an API token."""
    from tenants import auth
    from tests.tenants.fixtures import create_user

    user = create_user(session, party.tenant, roles=list(roles), name=f"{party.slug} colleague")
    set_context(session, tenant_id=party.tenant.id, user_id=user.id)
    _row, token = auth.create_token(session, user, name="api", scopes={"read", "write"})
    session.commit()
    return Inspectorate(
        party.slug, party.tenant, user, token, party.client, {"Authorization": f"Bearer {token}"}
    )


def browser(app: Flask, party: Inspectorate) -> FlaskClient:
    """A signed-in web session for ``party``'s user."""
    from tests.tenants.fixtures import sign_in

    client = app.test_client()
    sign_in(client, party.user)
    return client


def claim_of(
    session: Session, party: Inspectorate, material_type: str, material_id: int
) -> Schedule:
    """``party``'s own claim on an item."""
    (claim,) = [
        c
        for c in claims(session, party, material_type, material_id)
        if c.tenant_id == party.tenant.id
    ]
    return claim


def agree_retention(ws: int, lead: Inspectorate, *partners: Inspectorate) -> int:
    """The lead proposes the retention agreement and every inspectorate approves it."""
    from tests.shared_workspace.fixtures import name_everyone

    name_everyone(ws, lead, *partners)
    proposed = lead.call("POST", f"/api/v1/workspaces/{ws}/retention/agreement")
    assert proposed.status_code in (200, 201), proposed.get_json()
    decision = proposed.get_json()["decision_id"]
    for party in (lead, *partners):
        answered = party.call(
            "POST", f"/api/v1/workspaces/{ws}/decisions/{decision}/answer", {"approve": True}
        )
        assert answered.status_code == 200, answered.get_json()
    assert answered.get_json()["status"] == "agreed"
    return int(decision)
