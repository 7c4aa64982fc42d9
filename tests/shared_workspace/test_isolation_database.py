"""PostgreSQL row-level security on workspace tables: participating tenants only, private
notes to their owner only. Tables come from the metadata; a new workspace table fails here
until it has a seed row below."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from app import _import_models
from app.tenancy import workspace_scoped_tables
from tests import services

_import_models()
TABLES = workspace_scoped_tables()

#: How to insert one row of each workspace table for workspace %(ws)s on behalf of tenant %(t)s.
SEEDS = {
    "workspace_participants": "INSERT INTO workspace_participants (workspace_id, tenant_id,"
    " joined_at) VALUES (%(ws)s, %(t)s, now())",
    "workspace_members": "INSERT INTO workspace_members (workspace_id, tenant_id, user_id, role)"
    " VALUES (%(ws)s, %(t)s, %(u)s, 'team_member')",
    "workspace_sites": "INSERT INTO workspace_sites (workspace_id, name, body_type)"
    " VALUES (%(ws)s, 'HMP Example', 'prison')",
    "checklist_items": "INSERT INTO checklist_items (workspace_id, stage, reference, text, status,"
    " link) VALUES (%(ws)s, 1, '', 'x', 'open', '')",
    "decision_subjects": "INSERT INTO decision_subjects (workspace_id, kind, title, content,"
    " version, content_hash, updated_at) VALUES (%(ws)s, 'terms_of_reference', 't', '{}', 1,"
    " 'h', now())",
    "decisions": "INSERT INTO decisions (workspace_id, kind, subject_id, subject_version,"
    " subject_hash, status, created_at, voided_reason) SELECT %(ws)s, 'methodology', id, 1, 'h',"
    " 'open', now(), '' FROM decision_subjects WHERE workspace_id = %(ws)s LIMIT 1",
    "approvals": "INSERT INTO approvals (decision_id, workspace_id, tenant_id, user_id, verdict,"
    " reason, subject_hash, created_at) SELECT id, %(ws)s, %(t)s, %(u)s, 'approved', '', 'h',"
    " now() FROM decisions WHERE workspace_id = %(ws)s LIMIT 1",
    "milestones": "INSERT INTO milestones (workspace_id, stage, title, owner_tenant_id, due_on,"
    " created_at) VALUES (%(ws)s, 1, 'm', %(t)s, '2030-01-01', now())",
    "documents": "INSERT INTO documents (workspace_id, kind, title, marking, head_number,"
    " created_at, updated_at) VALUES (%(ws)s, 'report', 'r', 'OFFICIAL', 1, now(), now())",
    "document_versions": "INSERT INTO document_versions (document_id, workspace_id, number,"
    " base_number, sections, content_hash, tenant_id, note, created_at) SELECT id, %(ws)s, 1, 0,"
    " '[]', 'h', %(t)s, '', now() FROM documents WHERE workspace_id = %(ws)s LIMIT 1",
    "document_section_owners": "INSERT INTO document_section_owners (document_id, workspace_id,"
    " section_key, tenant_id) SELECT id, %(ws)s, 'k', %(t)s FROM documents"
    " WHERE workspace_id = %(ws)s LIMIT 1",
    "document_pending_saves": "INSERT INTO document_pending_saves (document_id, workspace_id,"
    " tenant_id, author_id, base_number, head_number, sections, conflicts, created_at) SELECT id,"
    " %(ws)s, %(t)s, %(u)s, 1, 1, '[]', '[]', now() FROM documents WHERE workspace_id = %(ws)s"
    " LIMIT 1",
    "document_comments": "INSERT INTO document_comments (document_id, workspace_id, section_key,"
    " quote, body, kind, source, response, author_id, tenant_id, created_at) SELECT id, %(ws)s,"
    " 'k', '', 'b', 'comment', '', '', %(u)s, %(t)s, now() FROM documents"
    " WHERE workspace_id = %(ws)s LIMIT 1",
    "document_suggestions": "INSERT INTO document_suggestions (document_id, workspace_id,"
    " section_key, operation, quote, text, reason, version_number, status, author_id, tenant_id,"
    " created_at) SELECT id, %(ws)s, 'k', 'insert', '', 't', '', 1, 'open', %(u)s, %(t)s, now()"
    " FROM documents WHERE workspace_id = %(ws)s LIMIT 1",
    "red_lines": "INSERT INTO red_lines (workspace_id, tenant_id, text, author_id, created_at)"
    " VALUES (%(ws)s, %(t)s, 'line', %(u)s, now())",
    "document_presence": "INSERT INTO document_presence (document_id, workspace_id, user_id,"
    " tenant_id, section_key, seen_at) SELECT id, %(ws)s, %(u)s, %(t)s, '', now() FROM documents"
    " WHERE workspace_id = %(ws)s LIMIT 1",
    "document_exports": "INSERT INTO document_exports (document_id, workspace_id, tenant_id,"
    " requested_by_id, version_number, format, status, progress, storage_key, error, draft,"
    " created_at) SELECT id, %(ws)s, %(t)s, %(u)s, 1, 'pdf', 'queued', 0, '', '', true, now()"
    " FROM documents WHERE workspace_id = %(ws)s LIMIT 1",
    "live_document_sections": "INSERT INTO live_document_sections (document_id, workspace_id,"
    " section_key, synced_number, created_at) SELECT id, %(ws)s, 'k', 1, now() FROM documents"
    " WHERE workspace_id = %(ws)s LIMIT 1",
    "live_document_updates": "INSERT INTO live_document_updates (live_section_id, workspace_id,"
    " user_id, tenant_id, payload, compacted, created_at) SELECT id, %(ws)s, %(u)s, %(t)s,"
    " '\\x0000', false, now() FROM live_document_sections WHERE workspace_id = %(ws)s LIMIT 1",
    "evidence_items": "INSERT INTO evidence_items (workspace_id, tenant_id, title, method,"
    " inspected_body, source, collected_by_id, protective_marking, visibility, retention_class,"
    " search_text, created_at) VALUES (%(ws)s, %(t)s, 'e', 'interview', '', '', %(u)s,"
    " 'OFFICIAL', 'workspace', 'standard', '', now())",
    "evidence_criteria": "INSERT INTO evidence_criteria (item_id, workspace_id, tenant_id,"
    " visibility, criterion) SELECT id, %(ws)s, %(t)s, 'workspace', 'c' FROM evidence_items"
    " WHERE workspace_id = %(ws)s LIMIT 1",
    "evidence_files": "INSERT INTO evidence_files (item_id, workspace_id, tenant_id, visibility,"
    " uploaded_by_id, filename, declared_size, declared_sha256, declared_type, content_type,"
    " state, reason, upload_id, part_size, created_at) SELECT id, %(ws)s, %(t)s, 'workspace',"
    " %(u)s, 'f.pdf', 1, '', '', '', 'clean', '', '', 0, now() FROM evidence_items"
    " WHERE workspace_id = %(ws)s LIMIT 1",
    # One export per participating inspectorate: exports are private to the one that asked.
    "evidence_exports": "INSERT INTO evidence_exports (workspace_id, tenant_id, requested_by_id,"
    " state, total_files, done_files, error, created_at) SELECT %(ws)s, p.tenant_id,"
    " (SELECT u.id FROM users u WHERE u.tenant_id = p.tenant_id LIMIT 1), 'queued', 0, 0, '',"
    " now() FROM workspace_participants p WHERE p.workspace_id = %(ws)s",
    "stakeholder_nominations": "INSERT INTO stakeholder_nominations (workspace_id, tenant_id,"
    " entry_id, purpose, kind, title, given_name, family_name, role, organisation, emails,"
    " phones, address, category, created_at) SELECT %(ws)s, %(t)s, n, 'both', 'person', '',"
    " 'A', 'B', '', '', '[]', '[]', '', 'other', now() FROM generate_series(1, 2) AS n",
    "distribution_lists": "INSERT INTO distribution_lists (workspace_id, mode, status, progress,"
    " stats) VALUES (%(ws)s, 'lead_sends_all', 'empty', 0, '{}')",
    "distribution_recipients": "INSERT INTO distribution_recipients (workspace_id, name, role,"
    " organisation, email, phone, address, category, sender_tenant_id, sources, reasons) VALUES"
    " (%(ws)s, 'n', '', '', '', '', '', 'other', %(t)s, '[]', '[]')",
    "stakeholder_match_candidates": "INSERT INTO stakeholder_match_candidates (workspace_id,"
    " left_id, right_id, score, reasons) SELECT %(ws)s, min(id), max(id), 0.5, '[]' FROM"
    " stakeholder_nominations WHERE workspace_id = %(ws)s",
    "stakeholder_match_decisions": "INSERT INTO stakeholder_match_decisions (workspace_id,"
    " left_id, right_id, same, tenant_id, decided_by_id, decided_at) SELECT %(ws)s, min(id),"
    " max(id), false, %(t)s, %(u)s, now() FROM stakeholder_nominations"
    " WHERE workspace_id = %(ws)s",
    "letters": "INSERT INTO letters (workspace_id, site_id, document_id, addressee_name,"
    " addressee_role, addressee_email, title, status, delivery, created_at) SELECT %(ws)s,"
    " (SELECT id FROM workspace_sites WHERE workspace_id = %(ws)s LIMIT 1), id, 'a', '', '', 't',"
    " 'draft', '', now() FROM documents WHERE workspace_id = %(ws)s LIMIT 1",
    "circulations": "INSERT INTO circulations (workspace_id, document_id, version_number,"
    " recipient, organisation, kind, scope, sent_on, working_days, due_on) SELECT %(ws)s, id, 1,"
    " 'r', '', 'critical_reader', 'factual_accuracy', '2030-01-01', 10, '2030-01-15' FROM"
    " documents WHERE workspace_id = %(ws)s LIMIT 1",
    "circulation_comments": "INSERT INTO circulation_comments (workspace_id, circulation_id,"
    " text, source, reference, received_on, recorded_by_id, recorded_at, response) SELECT"
    " %(ws)s, id, 'c', 's', '', '2030-01-02', %(u)s, now(), '' FROM circulations"
    " WHERE workspace_id = %(ws)s LIMIT 1",
    "media_strategies": "INSERT INTO media_strategies (workspace_id, launch, key_messages,"
    " quoted_tenant_ids, interview_bids, spokespeople, briefings, post_publication, updated_at)"
    " VALUES (%(ws)s, 'soft', '', '[]', 'lead_only', '', '', '', now())",
    "scheduled_sends": "INSERT INTO scheduled_sends (workspace_id, kind, sender_tenant_id,"
    " recipient_name, recipient_email, send_on, status, delivery) VALUES (%(ws)s, 'publication',"
    " %(t)s, 'r', '', '2030-01-01', 'scheduled', '')",
    "recommendations": "INSERT INTO recommendations (workspace_id, number, kind, text,"
    " organisation, responsible_tenant_id, measure, evidence, report_section, created_at) VALUES"
    " (%(ws)s, 1, 'recommendation', 't', 'o', %(t)s, '', '', '', now())",
    "recommendation_responses": "INSERT INTO recommendation_responses (workspace_id,"
    " recommendation_id, status, action_taken, responded_on, progress, created_at) SELECT"
    " %(ws)s, id, 'accepted', 'a', '2030-01-01', false, now() FROM recommendations"
    " WHERE workspace_id = %(ws)s LIMIT 1",
    "retention_events": "INSERT INTO retention_events (workspace_id, tenant_id, name,"
    " confirmed_on, confirmed_by_id, created_at) VALUES (%(ws)s, %(t)s, 'notes_transcribed',"
    " '2030-01-01', %(u)s, now())",
    "retention_schedules": "INSERT INTO retention_schedules (workspace_id, tenant_id, visibility,"
    " material_type, material_id, owner_tenant_id, joint, title, object_key, sha256,"
    " material_class, sensitivity, created_on, trigger, action, override_action,"
    " override_reason, state, destroy_object, created_at) VALUES (%(ws)s, %(t)s, 'workspace',"
    " 'document', %(ws)s, %(t)s, true, 'a joint draft', '', '', 'working_drafts,all', 'standard',"
    " '2030-01-01', '', '', '', '', 'waiting', false, now())",
    "private_notes": "INSERT INTO private_notes (workspace_id, tenant_id, author_id, title, body,"
    " created_at, updated_at) VALUES (%(ws)s, %(t)s, %(u)s, 'mine', '', now(), now())",
}
#: Participant-private tables: each participant's own rows only.
PRIVATE = ("private_notes", "document_pending_saves", "document_exports")
ORDER = [
    "workspace_participants",
    "workspace_members",
    "workspace_sites",
    "checklist_items",
    "decision_subjects",
    "decisions",
    "approvals",
    "milestones",
    "documents",
    "document_versions",
    "document_section_owners",
    "document_pending_saves",
    "document_comments",
    "document_suggestions",
    "red_lines",
    "document_presence",
    "document_exports",
    "live_document_sections",
    "live_document_updates",
    "evidence_items",
    "evidence_criteria",
    "evidence_files",
    "evidence_exports",
    "stakeholder_nominations",
    "distribution_lists",
    "distribution_recipients",
    "stakeholder_match_candidates",
    "stakeholder_match_decisions",
    "letters",
    "circulations",
    "circulation_comments",
    "media_strategies",
    "scheduled_sends",
    "recommendations",
    "recommendation_responses",
    "retention_events",
    "retention_schedules",
    "private_notes",
]


def test_every_workspace_table_has_a_seed_row() -> None:
    assert set(TABLES) - {"workspaces"} == set(SEEDS)


def _tenant(owner: psycopg.Connection, slug: str) -> tuple[int, int]:
    tenant = owner.execute(
        "INSERT INTO tenants (slug, name, short_name, colour, senior_oversight_title,"
        " embargoed_copy, retention_summary, mfa_required, email_domains, active, created_at)"
        " VALUES (%s, %s, %s, '#000000', 'T', false, '', false, '', true, now()) RETURNING id",
        (slug, slug, slug),
    ).fetchone()[0]
    user = owner.execute(
        "INSERT INTO users (tenant_id, email, name, job_title, active, is_platform_admin,"
        " mfa_enabled, session_version, created_at) VALUES (%s, %s, 'U', '', true, false, false,"
        " 1, now()) RETURNING id",
        (tenant, f"{slug}@x.example"),
    ).fetchone()[0]
    return tenant, user


@pytest.fixture
def world(owner: psycopg.Connection) -> Iterator[dict[str, int]]:
    """Tenants a, b, c. Workspace A (a alone), workspace AB (a leads, b joins), workspace B."""
    ids: dict[str, int] = {}
    for slug in ("ws-a", "ws-b", "ws-c"):
        ids[slug], ids[slug + "-user"] = _tenant(owner, slug)
    plan = {"A": ["ws-a"], "AB": ["ws-a", "ws-b"], "B": ["ws-b"]}
    for name, members in plan.items():
        ws = owner.execute(
            "INSERT INTO workspaces (title, lead_tenant_id, stage, created_at) VALUES"
            " (%s, %s, 1, now()) RETURNING id",
            (f"W{name}", ids[members[0]]),
        ).fetchone()[0]
        ids["W" + name] = ws
        for table in ORDER:
            for slug in (
                members
                if table in ("workspace_participants", "workspace_members", "approvals", *PRIVATE)
                else members[:1]
            ):
                owner.execute(SEEDS[table], {"ws": ws, "t": ids[slug], "u": ids[slug + "-user"]})
    yield ids
    for table in reversed(ORDER):
        owner.execute(
            f"DELETE FROM {table} WHERE workspace_id IN (%s, %s, %s)",  # noqa: S608
            (ids["WA"], ids["WAB"], ids["WB"]),
        )
    owner.execute(
        "DELETE FROM workspaces WHERE id IN (%s, %s, %s)", (ids["WA"], ids["WAB"], ids["WB"])
    )
    owner.execute(
        "DELETE FROM users WHERE id IN (%s, %s, %s)",
        (ids["ws-a-user"], ids["ws-b-user"], ids["ws-c-user"]),
    )
    owner.execute(
        "DELETE FROM tenants WHERE id IN (%s, %s, %s)", (ids["ws-a"], ids["ws-b"], ids["ws-c"])
    )


def _visible(conn: psycopg.Connection, table: str, tenant: int | None) -> set[int]:
    column = "id" if table == "workspaces" else "workspace_id"
    with conn.transaction():
        conn.execute(
            "SELECT set_config('app.tenant_id', %s, true)", ("" if tenant is None else str(tenant),)
        )
        query = f"SELECT DISTINCT {column} FROM {table}"  # noqa: S608
        return {row[0] for row in conn.execute(query).fetchall()}


@pytest.mark.parametrize("table", TABLES)
def test_participants_see_their_workspaces_and_nobody_else_does(table, app_conn, world) -> None:
    ours = {world["WA"], world["WAB"], world["WB"]}
    assert _visible(app_conn, table, None) & ours == set()
    assert _visible(app_conn, table, world["ws-c"]) & ours == set()
    assert _visible(app_conn, table, world["ws-a"]) & ours == {world["WA"], world["WAB"]}
    assert _visible(app_conn, table, world["ws-b"]) & ours == {world["WAB"], world["WB"]}


@pytest.mark.parametrize("table", PRIVATE)
def test_private_rows_are_seen_by_their_own_inspectorate_only(table, app_conn, world) -> None:
    with app_conn.transaction():
        app_conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(world["ws-a"]),))
        owners = {
            row[0]
            for row in app_conn.execute(
                f"SELECT tenant_id FROM {table} WHERE workspace_id = %s",  # noqa: S608
                (world["WAB"],),
            )
        }
    assert owners == {world["ws-a"]}


@pytest.mark.parametrize("table", TABLES)
def test_rls_is_forced_with_using_and_with_check(table: str, app_conn) -> None:
    enabled, forced, using, check = services.forced_policy(app_conn, table, "workspace_isolation")
    assert enabled and forced and using and check


def test_only_the_lead_adds_participants(app_conn, world) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege), app_conn.transaction():
        app_conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(world["ws-b"]),))
        app_conn.execute(
            "INSERT INTO workspace_participants (workspace_id, tenant_id, joined_at)"
            " VALUES (%s, %s, now())",
            (world["WAB"], world["ws-c"]),
        )
    with app_conn.transaction():
        app_conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(world["ws-a"]),))
        app_conn.execute(
            "INSERT INTO workspace_participants (workspace_id, tenant_id, joined_at)"
            " VALUES (%s, %s, now())",
            (world["WAB"], world["ws-c"]),
        )
        app_conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(world["ws-c"]),))
        seen = {
            r[0]
            for r in app_conn.execute(
                "SELECT id FROM decisions WHERE workspace_id = %s", (world["WAB"],)
            )
        }
        assert seen, "a participant added later sees the history"
        raise psycopg.Rollback()
