"""Evidence items: sources by role, visibility behind both walls, the list's filters."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import event

from app.db import get_database
from shared_workspace.evidence.service import looks_like_a_name
from tests.shared_workspace.evidence.conftest import World, new_item


@pytest.mark.parametrize(
    ("source", "warned"),
    [
        ("Senior probation officer", False),
        ("Custody sergeant, Greater Manchester Police", False),
        ("focus group of prison officers", False),
        ("Head of Offender Management", False),
        ("John Smith", True),
        ("Dr Patel", True),
        ("Mrs. Jones, governor", True),
        ("probation officer Sarah Connor", True),
        ("", False),
    ],
)
def test_a_source_that_looks_like_a_name_is_warned_about(source: str, warned: bool) -> None:
    assert looks_like_a_name(source) is warned


def test_recording_an_item_warns_but_does_not_refuse_a_name(world: World) -> None:
    body = new_item(world.lead, world.workspace, source="John Smith", criteria=["Leadership"])

    assert body["item"]["source"] == "John Smith"
    assert "role or job title" in body["warnings"][0]
    assert body["item"]["criteria"] == ["Leadership"]
    assert new_item(world.lead, world.workspace, source="Prison governor")["warnings"] == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("method", "gossip"),
        ("protective_marking", "SECRET"),
        ("visibility", "public"),
        ("retention_class", "forever"),
        ("title", ""),
        ("site_id", 999999),
    ],
)
def test_bad_item_fields_are_refused_with_a_field_message(world: World, field, value) -> None:
    body = {"title": "t", "method": "interview", field: value}
    response = world.lead.call("POST", f"/api/v1/workspaces/{world.workspace}/evidence", body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_an_item_kept_to_one_inspectorate_is_invisible_to_the_others(world: World) -> None:
    private = new_item(world.lead, world.workspace, title="Our notes", visibility="inspectorate")
    shared = new_item(world.lead, world.workspace, title="Shared data")
    item_id = private["item"]["id"]
    path = f"/api/v1/workspaces/{world.workspace}/evidence"

    partner_list = world.partner.call("GET", path).get_json()
    assert [i["title"] for i in partner_list["items"]] == ["Shared data"]
    assert partner_list["total"] == 1
    assert world.partner.call("GET", f"{path}/{item_id}").status_code == 404
    assert world.lead.call("GET", f"{path}/{item_id}").status_code == 200

    opened = world.lead.call("PATCH", f"{path}/{item_id}", {"visibility": "workspace"})
    assert opened.status_code == 200
    assert world.partner.call("GET", f"{path}/{item_id}").status_code == 200
    changed = world.partner.call("PATCH", f"{path}/{shared['item']['id']}", {"title": "Mine now"})
    assert changed.status_code == 403


def test_row_level_security_hides_items_kept_to_another_inspectorate(
    owner: psycopg.Connection, app_conn: psycopg.Connection
) -> None:
    def tenant(slug: str) -> tuple[int, int]:
        t = owner.execute(
            "INSERT INTO tenants (slug, name, short_name, colour, senior_oversight_title,"
            " embargoed_copy, retention_summary, mfa_required, email_domains, active, created_at)"
            " VALUES (%s, %s, %s, '#000000', 'T', false, '', false, '', true, now()) RETURNING id",
            (slug, slug, slug),
        ).fetchone()[0]
        u = owner.execute(
            "INSERT INTO users (tenant_id, email, name, job_title, active, is_platform_admin,"
            " mfa_enabled, session_version, created_at) VALUES (%s, %s, 'U', '', true, false,"
            " false, 1, now()) RETURNING id",
            (t, f"{slug}@x.example"),
        ).fetchone()[0]
        return t, u

    (a, ua), (b, _ub) = tenant("ev-rls-a"), tenant("ev-rls-b")
    ws = owner.execute(
        "INSERT INTO workspaces (title, lead_tenant_id, stage, created_at) VALUES ('W', %s, 1,"
        " now()) RETURNING id",
        (a,),
    ).fetchone()[0]
    for t in (a, b):
        owner.execute(
            "INSERT INTO workspace_participants (workspace_id, tenant_id, joined_at)"
            " VALUES (%s, %s, now())",
            (ws, t),
        )
    for visibility in ("workspace", "inspectorate"):
        owner.execute(
            "INSERT INTO evidence_items (workspace_id, tenant_id, title, method, inspected_body,"
            " source, collected_by_id, protective_marking, visibility, retention_class,"
            " search_text, created_at) VALUES (%s, %s, %s, 'interview', '', '', %s, 'OFFICIAL',"
            " %s, 'standard', '', now())",
            (ws, a, visibility, ua, visibility),
        )
    try:
        seen = {}
        for t in (a, b):
            with app_conn.transaction():
                app_conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(t),))
                seen[t] = {r[0] for r in app_conn.execute("SELECT title FROM evidence_items")}
        assert seen[a] == {"workspace", "inspectorate"}
        assert seen[b] == {"workspace"}
        with pytest.raises(psycopg.errors.InsufficientPrivilege), app_conn.transaction():
            app_conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(b),))
            app_conn.execute(
                "INSERT INTO evidence_items (workspace_id, tenant_id, title, method,"
                " inspected_body, source, collected_by_id, protective_marking, visibility,"
                " retention_class, search_text, created_at) VALUES (%s, %s, 'forged',"
                " 'interview', '', '', %s, 'OFFICIAL', 'workspace', 'standard', '', now())",
                (ws, a, ua),
            )
    finally:
        owner.execute("DELETE FROM evidence_items WHERE workspace_id = %s", (ws,))
        owner.execute("DELETE FROM workspace_participants WHERE workspace_id = %s", (ws,))
        owner.execute("DELETE FROM workspaces WHERE id = %s", (ws,))
        owner.execute("DELETE FROM users WHERE tenant_id IN (%s, %s)", (a, b))
        owner.execute("DELETE FROM tenants WHERE id IN (%s, %s)", (a, b))


def test_the_list_filters_searches_and_pages_in_a_fixed_number_of_queries(
    world: World, app
) -> None:
    site = world.lead.call(
        "POST",
        f"/api/v1/workspaces/{world.workspace}/sites",
        {"name": "HMP Manchester", "body_type": "prison"},
    ).get_json()["id"]
    for n in range(12):
        new_item(
            world.lead if n % 2 else world.partner,
            world.workspace,
            title=f"Item {n} {'accommodation' if n % 3 == 0 else 'staffing'}",
            method="interview" if n % 4 == 0 else "data",
            site_id=site if n % 5 == 0 else None,
            criteria=["Accommodation on release"] if n < 4 else [],
        )
    path = f"/api/v1/workspaces/{world.workspace}/evidence"

    def titles(query: str) -> list[str]:
        body = world.lead.call("GET", f"{path}?{query}").get_json()
        return [item["title"] for item in body["items"]]

    assert titles("method=interview") == [
        "Item 8 staffing",
        "Item 4 staffing",
        "Item 0 accommodation",
    ]
    assert titles(f"site_id={site}") == [
        "Item 10 staffing",
        "Item 5 staffing",
        "Item 0 accommodation",
    ]
    assert titles("criterion=Accommodation%20on%20release") == [
        f"Item {n}" + (" accommodation" if n % 3 == 0 else " staffing") for n in (3, 2, 1, 0)
    ]
    assert titles("inspectorate=hmiprisons&q=ACCOMMODATION") == [
        "Item 6 accommodation",
        "Item 0 accommodation",
    ]
    assert titles("q=%25") == []

    statements: list[str] = []
    engine = get_database(app).engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        first = world.lead.call("GET", f"{path}?limit=5").get_json()
        page_queries = len(statements)
        second = world.lead.call("GET", f"{path}?limit=5&cursor={first['next_cursor']}").get_json()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert first["total"] == 12 and len(first["items"]) == 5
    assert [i["title"][:7] for i in second["items"]] == [f"Item {n} "[:7] for n in (6, 5, 4, 3, 2)]
    evidence_queries = [s for s in statements[:page_queries] if "evidence_" in s]
    assert len(evidence_queries) <= 4, evidence_queries
