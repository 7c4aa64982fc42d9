"""The second wall: PostgreSQL row-level security on every tenant-owned table, found from
the metadata so new tables are covered without editing this file."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from app import _import_models
from app.db import Base
from app.tenancy import tenant_owned_tables
from tests import services

_import_models()
TENANT_COLUMN_TABLES = tenant_owned_tables()


def test_every_table_with_a_tenant_or_workspace_column_is_declared() -> None:
    """Each such table is tenant-owned or workspace-scoped, so both walls know it."""
    from app.tenancy import workspace_scoped_tables

    scoped = set(workspace_scoped_tables())
    with_columns = {
        t.name
        for t in Base.metadata.sorted_tables
        if "tenant_id" in t.columns or "workspace_id" in t.columns
    }
    assert with_columns - scoped == set(tenant_owned_tables())
    assert not scoped & set(tenant_owned_tables())


def _seed_two_tenants(owner: psycopg.Connection) -> tuple[int, int]:
    ids = []
    for slug in ("rls-a", "rls-b"):
        row = owner.execute(
            "INSERT INTO tenants (slug, name, short_name, colour, senior_oversight_title,"
            " embargoed_copy, retention_summary, mfa_required, email_domains, active, created_at)"
            " VALUES (%s, %s, %s, '#000000', 'T', false, '', false, %s, true, now()) RETURNING id",
            (slug, slug, slug, f"{slug}.example"),
        ).fetchone()
        ids.append(row[0])
    a, b = ids
    for tenant in (a, b):
        user = owner.execute(
            "INSERT INTO users (tenant_id, email, name, job_title, active, is_platform_admin,"
            " mfa_enabled, session_version, created_at) VALUES"
            " (%s, %s, 'U', '', true, false, false, 1, now()) RETURNING id",
            (tenant, f"u{tenant}@x.example"),
        ).fetchone()[0]
        owner.execute(
            "INSERT INTO user_roles (user_id, role, tenant_id) VALUES (%s, 'inspector', %s)",
            (user, tenant),
        )
        owner.execute(
            "INSERT INTO api_tokens (tenant_id, user_id, name, token_hash, prefix, scopes,"
            " expires_at, created_at) VALUES (%s, %s, 't', %s, 'p', 'read', now(), now())",
            (tenant, user, f"{tenant:064d}"),
        )
        owner.execute(
            "INSERT INTO identity_providers (tenant_id, discovery_url, client_id,"
            " client_secret_encrypted, role_claim, role_map, enabled, updated_at) VALUES"
            " (%s, 'https://idp', 'c', 's', 'roles', '{}', true, now())",
            (tenant,),
        )
        owner.execute(
            "INSERT INTO notifications (tenant_id, user_id, key, text, link, created_at)"
            " VALUES (%s, %s, 'k', 'a reminder', '', now())",
            (tenant, user),
        )
        owner.execute(
            "INSERT INTO stakeholder_entries (tenant_id, kind, title, given_name, family_name,"
            " role, organisation, emails, phones, address, category, tags, consent,"
            " do_not_contact, notes, created_at, updated_at) VALUES (%s, 'person', '', 'A', 'B',"
            " '', '', '[]', '[]', '', 'other', '[]', true, false, 'private', now(), now())",
            (tenant,),
        )
        owner.execute(
            "INSERT INTO stakeholder_imports (tenant_id, filename, rows, status, created_by_id,"
            " created_at, imported, storage_key, progress, error) VALUES (%s, 'f.csv', '[]',"
            " 'previewed', %s, now(), 0, '', 0, '')",
            (tenant, user),
        )
        owner.execute(
            "INSERT INTO retention_rules (tenant_id, material_class, sensitivity, trigger,"
            " event_name, offset_amount, offset_unit, action, effective_from, note, created_at)"
            " VALUES (%s, 'all', 'any', 'publication', '', -1, 'days', 'destroy', '2000-01-01',"
            " 'private rule', now())",
            (tenant,),
        )
        owner.execute(
            "INSERT INTO retention_holds (tenant_id, scope, material_type, reason_kind, reason,"
            " review_on, placed_by_id, placed_at, release_reason) VALUES (%s, 'tenant', '',"
            " 'legal', 'a private case', '2030-01-01', %s, now(), '')",
            (tenant, user),
        )
        owner.execute(
            "INSERT INTO retention_settings (tenant_id, warning_days, updated_at)"
            " VALUES (%s, 30, now())",
            (tenant,),
        )
        owner.execute(
            "INSERT INTO retention_certificates (tenant_id, state, started_at, items,"
            " objects_deleted, digest) VALUES (%s, 'complete', now(), 0, 0, '')",
            (tenant,),
        )
        owner.execute(
            "INSERT INTO audit_chain_heads (tenant_id, seq, hash) VALUES (%s, 1, 'h')", (tenant,)
        )
        owner.execute(
            "INSERT INTO audit_events (tenant_id, seq, actor_label, action, object_type, object_id,"
            " changes, request_id, ip_address, created_at, prev_hash, hash) VALUES"
            " (%s, 1, '', 'a', 'o', '', '{}', '', '', now(), 'p', 'h')",
            (tenant,),
        )
    return a, b


@pytest.fixture
def two_tenants(owner: psycopg.Connection) -> Iterator[tuple[int, int]]:
    a, b = _seed_two_tenants(owner)
    yield a, b
    for table in reversed(TENANT_COLUMN_TABLES):
        owner.execute(f"DELETE FROM {table} WHERE tenant_id IN (%s, %s)", (a, b))  # noqa: S608
    owner.execute("DELETE FROM tenants WHERE id IN (%s, %s)", (a, b))


def _count(conn: psycopg.Connection, table: str, tenant: int | None) -> dict[int, int]:
    with conn.transaction():
        conn.execute(
            "SELECT set_config('app.tenant_id', %s, true)", ("" if tenant is None else str(tenant),)
        )
        query = f"SELECT tenant_id, count(*) FROM {table} GROUP BY tenant_id"  # noqa: S608
        rows = conn.execute(query).fetchall()
    return dict(rows)


@pytest.mark.parametrize("table", TENANT_COLUMN_TABLES)
def test_no_tenant_set_means_no_rows(table: str, app_conn, two_tenants) -> None:
    assert _count(app_conn, table, None) == {}


@pytest.mark.parametrize("table", TENANT_COLUMN_TABLES)
def test_tenant_a_never_sees_tenant_b(table: str, app_conn, two_tenants) -> None:
    a, b = two_tenants
    assert set(_count(app_conn, table, a)) == {a}
    assert set(_count(app_conn, table, b)) == {b}


@pytest.mark.parametrize("table", TENANT_COLUMN_TABLES)
def test_rls_is_forced_with_using_and_with_check(table: str, app_conn) -> None:
    enabled, forced, using, check = services.forced_policy(app_conn, table, "tenant_isolation")
    assert enabled and forced and using and check


def test_writing_a_row_for_another_tenant_is_refused(app_conn, two_tenants) -> None:
    a, b = two_tenants
    with pytest.raises(psycopg.errors.InsufficientPrivilege), app_conn.transaction():
        app_conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(a),))
        app_conn.execute("UPDATE users SET tenant_id = %s", (b,))


def test_the_app_role_cannot_rewrite_the_audit_log(app_conn, two_tenants) -> None:
    a, _ = two_tenants
    with pytest.raises(psycopg.errors.InsufficientPrivilege), app_conn.transaction():
        app_conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(a),))
        app_conn.execute("UPDATE audit_events SET action = 'hidden'")


def test_the_app_refuses_to_start_as_a_superuser(pg_database: str, tmp_path, capsys) -> None:
    from app import APP_LOAD_ERROR, create_app
    from tests.conftest import make_config

    url = services.pg_url(pg_database)
    with pytest.raises(SystemExit) as stopped:
        create_app(make_config(tmp_path, database_url=url))
    assert stopped.value.code == APP_LOAD_ERROR  # gunicorn stops instead of respawning
    assert "a superuser; use a role that owns nothing" in capsys.readouterr().err


def test_the_app_role_is_safe(app_conn) -> None:
    role = app_conn.execute(
        "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    assert role == (False, False)
    owned = app_conn.execute(
        "SELECT count(*) FROM pg_tables WHERE tableowner = current_user"
    ).fetchone()[0]
    assert owned == 0


def test_only_a_platform_administrator_changes_the_tenant_directory(app_conn, two_tenants) -> None:
    a, _b = two_tenants
    with app_conn.transaction():
        app_conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(a),))
        assert app_conn.execute("SELECT count(*) FROM tenants").fetchone()[0] >= 2
        changed = app_conn.execute("UPDATE tenants SET name = 'hijacked'").rowcount
    assert changed == 0
    with pytest.raises(psycopg.errors.InsufficientPrivilege), app_conn.transaction():
        app_conn.execute(
            "INSERT INTO tenants (slug, name, short_name, colour, senior_oversight_title,"
            " embargoed_copy, retention_summary, mfa_required, email_domains, active, created_at)"
            " VALUES ('rogue', 'r', 'r', '#000000', 'T', false, '', false, '', true, now())"
        )
