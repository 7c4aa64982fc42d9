"""Soak: 10,000 interleaved requests across 3 tenants through a pool of 2 connections, with
errors injected mid-transaction, never return a foreign row."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from flask import Blueprint, Flask
from sqlalchemy import text

from app.db import get_database, get_session, set_context
from tenants import auth
from tenants.login import public
from tenants.models import Role
from tests.conftest import committed_app
from tests.tenants.fixtures import create_tenant, create_user

REQUESTS = 10_000
THREADS = 2
TENANTS = 3


@pytest.fixture
def soak_app(tmp_path) -> Iterator[tuple[Flask, list[tuple[str, set[str]]]]]:  # type: ignore[no-untyped-def]
    with committed_app("cjji_soak", tmp_path, db_pool_size=1) as (flask_app, _name):
        yield flask_app, _seed(flask_app)


def _seed(flask_app: Flask) -> list[tuple[int, str, set[str]]]:
    """Fault-injecting routes, and three tenants with three users and a token each."""
    faults = Blueprint("faults", __name__)

    @faults.get("/fault/<int:tenant_id>/<kind>")
    @public
    def fault(tenant_id: int, kind: str) -> str:
        """Set a tenant, touch its rows, then fail mid-transaction."""
        db = get_session()
        set_context(db, tenant_id=tenant_id)
        db.execute(text("SELECT count(*) FROM users"))
        if kind == "sql":
            db.execute(text("SELECT 1 / 0"))
        raise RuntimeError("injected failure")

    @faults.get("/peek")
    @public
    def peek() -> dict[str, object]:
        """No tenant set: what a pooled connection would leak if a context survived."""
        db = get_session()
        users = db.execute(text("SELECT count(*) FROM users")).scalar_one()
        setting = db.execute(text("SELECT current_setting('app.tenant_id', true)")).scalar_one()
        return {"users": users, "tenant_setting": setting or ""}

    flask_app.register_blueprint(faults)
    database = get_database(flask_app)
    tenants = []
    with database.transaction() as session:
        for _ in range(TENANTS):
            tenant = create_tenant(session)
            users = [create_user(session, tenant, roles=[Role.ADMINISTRATOR]) for _ in range(3)]
            set_context(session, tenant_id=tenant.id, user_id=users[0].id)
            _row, token = auth.create_token(session, users[0], name="soak", scopes={"read"})
            tenants.append((tenant.id, token, {u.email for u in users}))
    return tenants


def test_interleaved_requests_with_faults_never_return_a_foreign_row(soak_app) -> None:
    flask_app, tenants = soak_app
    assert get_database(flask_app).engine.pool.size() == 1  # plus one overflow: 2 connections
    leaks: list[str] = []
    outcomes: Counter[int] = Counter()
    lock = threading.Lock()
    per_thread = REQUESTS // THREADS

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        client = flask_app.test_client()
        for _ in range(per_thread):
            tenant_id, token, emails = tenants[rng.randrange(TENANTS)]
            roll = rng.random()
            if roll < 0.15:
                kind = "sql" if roll < 0.075 else "python"
                response = client.get(f"/fault/{tenant_id}/{kind}")
            elif roll < 0.25:
                response = client.get("/peek")
                if response.get_json() != {"users": 0, "tenant_setting": ""}:
                    with lock:
                        leaks.append(f"no tenant set, yet saw {response.get_json()}")
            else:
                response = client.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"})
                if response.status_code == 200:
                    seen = {u["email"] for u in response.get_json()}
                    if seen != emails:
                        with lock:
                            leaks.append(f"tenant {tenant_id} saw {sorted(seen - emails)}")
            with lock:
                outcomes[response.status_code] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert leaks == []
    assert sum(outcomes.values()) == REQUESTS
    assert outcomes[200] > REQUESTS * 0.75, outcomes
    assert set(outcomes) == {200, 500}, outcomes
