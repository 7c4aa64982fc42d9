"""The audit log: every change recorded, hash-chained per tenant, verifiable, exportable."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.audit import AuditEvent, verify_chain
from app.db import set_context
from tenants.models import Role
from tenants.service import set_roles
from tests import services
from tests.conftest import committed_app
from tests.tenants.fixtures import create_tenant, create_user, sign_in


def _events(session: Session, tenant_id: int) -> list[AuditEvent]:
    set_context(session, tenant_id=tenant_id)
    return list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def test_changes_are_recorded_with_before_and_after(session: Session) -> None:
    tenant = create_tenant(session)
    user = create_user(session, tenant, roles=[Role.INSPECTOR])
    set_context(session, tenant_id=tenant.id)
    session.info["actor"] = audit.Actor(user.id, tenant.id, user.email)
    user.name = "Renamed Person"
    set_roles(session, user, {Role.LEAD_INSPECTOR})
    events = _events(session, tenant.id)
    actions = [e.action for e in events]
    assert actions[0] == "tenant.created"
    assert "user.created" in actions and "user_role.deleted" in actions
    renamed = next(e for e in events if e.action == "user.updated")
    assert renamed.changes["name"][1] == "Renamed Person"
    assert renamed.actor_user_id == user.id
    created = next(e for e in events if e.action == "user.created")
    assert created.changes["password_hash"] == "[redacted]"
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert verify_chain(session, tenant.id) is None


def test_each_tenant_has_its_own_chain(session: Session) -> None:
    a, b = create_tenant(session), create_tenant(session)
    create_user(session, a)
    create_user(session, b)
    assert [e.seq for e in _events(session, a.id)] == [1, 2, 3]
    assert {e.tenant_id for e in _events(session, b.id)} == {b.id}


def test_requests_record_the_request_id_and_address(client: FlaskClient, session: Session) -> None:
    tenant = create_tenant(session)
    user = create_user(session, tenant)
    response = client.post(
        "/sign-in",
        data={"email": user.email, "password": "correct horse battery staple"},
        headers={"X-Request-Id": "req-42"},
        environ_base={"REMOTE_ADDR": "10.2.3.4"},
    )
    assert response.status_code == 302
    signed_in = [e for e in _events(session, tenant.id) if e.action == "user.signed_in"]
    assert signed_in[0].request_id == "req-42"
    assert signed_in[0].ip_address == "10.2.3.4"


@pytest.fixture
def audit_db(tmp_path) -> Iterator[tuple[Flask, str]]:
    """A committed database (the CLI runs its own transactions)."""
    with committed_app("cjji_audit", tmp_path) as pair:
        yield pair


def test_audit_verify_passes_then_names_the_row_changed_by_hand(audit_db) -> None:
    flask_app, name = audit_db
    runner = flask_app.test_cli_runner()
    assert runner.invoke(args=["seed", "--demo"]).exit_code == 0
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "hmcpsi: ok" in result.output
    with psycopg.connect(services.pg_url(name), autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # a DBA bypassing the trigger
        tenant_id = conn.execute("SELECT id FROM tenants WHERE slug = 'hmiprisons'").fetchone()[0]
        event_id = conn.execute(
            "SELECT id FROM audit_events WHERE tenant_id = %s AND seq = 7", (tenant_id,)
        ).fetchone()[0]
        conn.execute(
            "UPDATE audit_events SET actor_label = 'someone else' WHERE id = %s", (event_id,)
        )
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"hmiprisons: BROKEN at link 7 (event id {event_id}): was changed" in result.output
    assert "hmcpsi: ok" in result.output


def test_audit_verify_detects_a_deleted_row(audit_db) -> None:
    flask_app, name = audit_db
    runner = flask_app.test_cli_runner()
    runner.invoke(args=["seed"])
    runner.invoke(
        args=[
            "users",
            "create",
            "--tenant",
            "hmcpsi",
            "--email",
            "a@hmcpsi.example.gov.uk",
            "--name",
            "A",
            "--password",
            "long enough password",
        ]
    )
    with psycopg.connect(services.pg_url(name), autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            "DELETE FROM audit_events WHERE seq = 1 AND tenant_id ="
            " (SELECT id FROM tenants WHERE slug = 'hmcpsi')"
        )
    result = runner.invoke(args=["audit", "verify", "--tenant", "hmcpsi"])
    assert result.exit_code == 1
    assert "BROKEN at link 1" in result.output


def test_admin_browses_filters_and_exports_the_log_as_csv(
    client: FlaskClient, session: Session
) -> None:
    tenant = create_tenant(session)
    admin = create_user(session, tenant, roles=[Role.ADMINISTRATOR], name='=HYPERLINK("x")')
    sign_in(client, admin)
    page = client.get("/admin/audit?action=signed_in")
    assert page.status_code == 200
    assert "user.signed_in" in page.get_data(as_text=True)
    assert "tenant.created" not in page.get_data(as_text=True)
    csv_response = client.get("/admin/audit.csv")
    assert csv_response.status_code == 200
    body = csv_response.get_data(as_text=True)
    assert body.splitlines()[0].startswith("seq,created_at,actor_label,action")
    assert "user.signed_in" in body
    assert ",=HYPERLINK" not in body  # formulas are neutralised
    assert "audit_log.exported" in [e.action for e in _events(session, tenant.id)]


@pytest.mark.parametrize(
    "query", ["?page=0", "?page=abc", "?page=999999999999", "?action=%27%3B--"]
)
def test_hostile_audit_filters_do_not_break_the_page(
    client: FlaskClient, session: Session, query
) -> None:
    tenant = create_tenant(session)
    sign_in(client, create_user(session, tenant, roles=[Role.ADMINISTRATOR]))
    assert client.get("/admin/audit" + query).status_code == 200
