"""Row-level security DDL for PostgreSQL, used by migrations (the second isolation wall).

Policies read the per-transaction settings that app.db.set_context writes. An unset tenant
is NULL, and ``tenant_id = NULL`` is never true: no rows, fail closed.
"""

from __future__ import annotations

CURRENT_TENANT_FUNCTION = """
CREATE OR REPLACE FUNCTION app_current_tenant() RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::integer $$
"""

APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION app_refuse_change() RETURNS trigger
LANGUAGE plpgsql
AS $$ BEGIN
  RAISE EXCEPTION 'the audit log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME;
END $$
"""


def tenant_isolation(table: str) -> list[str]:
    """Enable and force RLS on ``table`` with one policy for reads and writes."""
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON {table} "
        "USING (tenant_id = app_current_tenant()) "
        "WITH CHECK (tenant_id = app_current_tenant())",
    ]


def purpose_read(table: str, purpose: str) -> str:
    """Let a narrow purpose (sign-in, token lookup) read ``table`` across tenants."""
    name = "purpose_" + purpose.replace("-", "_")
    return (
        f"CREATE POLICY {name} ON {table} FOR SELECT "
        f"USING (current_setting('app.purpose', true) = '{purpose}')"
    )


def platform_admin(table: str, command: str = "ALL") -> str:
    """Let a platform administrator's transaction write to any tenant's ``table``."""
    check = "current_setting('app.platform_admin', true) = 'on'"
    if command == "INSERT":
        return f"CREATE POLICY platform_admin ON {table} FOR INSERT WITH CHECK ({check})"
    return (
        f"CREATE POLICY platform_admin ON {table} FOR {command} "
        f"USING ({check}) WITH CHECK ({check})"
    )


def grant_app_role(role: str) -> list[str]:
    """What the app's role may do: read and write rows, never change the audit log's past."""
    quoted = '"' + role.replace('"', '""') + '"'
    return [
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM {quoted}",
        f"REVOKE DELETE, TRUNCATE ON audit_chain_heads FROM {quoted}",
        f"REVOKE ALL ON alembic_version FROM {quoted}",
        f"GRANT SELECT ON alembic_version TO {quoted}",
    ]


def append_only(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION app_refuse_change()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION app_refuse_change()",
    ]


def drop_tenant_isolation(table: str) -> list[str]:
    return [
        f"DROP POLICY IF EXISTS tenant_isolation ON {table}",
        f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
    ]


#: Workspaces the current tenant participates in. SECURITY DEFINER so the policies of
#: workspace_participants can use it without recursing into themselves: the function's owner
#: (the migration role) must be a superuser or have BYPASSRLS (checked by the migration).
MY_WORKSPACES_FUNCTION = """
CREATE OR REPLACE FUNCTION app_my_workspaces() RETURNS SETOF integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$ SELECT workspace_id FROM workspace_participants WHERE tenant_id = app_current_tenant() $$
"""

#: Whether the current tenant leads the workspace (only the lead adds participants).
LEADS_FUNCTION = """
CREATE OR REPLACE FUNCTION app_leads(ws integer) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$ SELECT EXISTS (
  SELECT 1 FROM workspaces WHERE id = ws AND lead_tenant_id = app_current_tenant()
) $$
"""

OWNER_BYPASSES_RLS_CHECK = """
DO $$ BEGIN
  IF NOT (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user) THEN
    RAISE EXCEPTION 'migrations must run as a role with BYPASSRLS (or a superuser): the '
      'workspace visibility function runs as that role';
  END IF;
END $$
"""


def workspace_isolation(
    table: str, column: str = "workspace_id", private: bool = False
) -> list[str]:
    """Rows visible to participating tenants only (and, when private, to their owner only)."""
    visible = f"{column} IN (SELECT app_my_workspaces())"
    if private:
        visible = f"tenant_id = app_current_tenant() AND {visible}"
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY workspace_isolation ON {table} USING ({visible}) WITH CHECK ({visible})",
    ]
