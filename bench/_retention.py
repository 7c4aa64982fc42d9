"""Shared set-up of the retention benchmarks: a scratch PostgreSQL database (migrated, row-level
security on, the app connecting as ``cjji_app``), HMCPSI and HMI Prisons with their founding
rules, one joint inspection, and schedules inserted with SQL."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from flask import Flask

from bench.harness import note
from bench.rls import APP_ROLE, _connect, ensure_app_role, migrate, pg_url, scratch_database


@dataclass(frozen=True)
class World:
    database: str
    lead: int
    partner: int
    workspace: int
    item: int
    user: int
    rule: int


def app_for(database: str, instance: Path, **overrides: object) -> Flask:
    """The real app on the scratch database as the app role (RLS applies)."""
    from app import create_app
    from app.config import Config

    values: dict[str, object] = {
        "app_env": "development",
        "secret_key": secrets.token_urlsafe(48),
        "instance_path": instance,
        "database_url": pg_url(database, APP_ROLE),
        "database_owner_url": pg_url(database),
        "storage_url": f"file://{instance / 'objects'}",
        "jobs_eager": True,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return create_app(Config(**values))  # type: ignore[arg-type]


def seed(app: Flask, database: str, publication: date) -> World:
    """Two inspectorates with their founding rules, a joint workspace and an evidence item."""
    from app.audit import Actor
    from app.db import get_database, set_context
    from retention.models import RetentionRule
    from retention.rules import seed_founding_rules
    from shared_workspace import service
    from shared_workspace.evidence.models import EvidenceItem
    from tenants.models import Role, Tenant, User, UserRole

    with app.app_context(), get_database(app).transaction() as session:
        session.info["actor"] = Actor(None, None, "bench")
        set_context(session, tenant_id=None, platform_admin=True)
        tenants = [
            Tenant(
                slug=slug,
                name=slug,
                short_name=slug.upper(),
                senior_oversight_title="Team Leader",
                email_domains=f"{slug}.example.gov.uk",
            )
            for slug in ("hmcpsi", "hmiprisons")
        ]
        session.add_all(tenants)
        session.flush()
        users = []
        for tenant in tenants:
            set_context(session, tenant_id=tenant.id)
            user = User(tenant_id=tenant.id, email=f"b@{tenant.slug}.example.gov.uk", name="B")
            user.password_hash = "!"  # noqa: S105 - nobody signs in
            user.role_rows = [UserRole(role=r.value, tenant_id=tenant.id) for r in Role]
            session.add(user)
            session.flush()
            users.append(user)
            seed_founding_rules(session, tenant.id, tenant.slug)
        set_context(session, tenant_id=tenants[0].id, user_id=users[0].id)
        workspace = service.create_workspace(
            session,
            title="Bench",
            lead=users[0],
            participants=[tenants[1]],
            publication_date=publication,
        )
        item = EvidenceItem(
            workspace_id=workspace.id,
            tenant_id=tenants[0].id,
            title="Interview notes",
            method="interview",
            collected_by_id=users[0].id,
            visibility="inspectorate",
        )
        session.add(item)
        session.flush()
        rule = session.query(RetentionRule).filter_by(material_class="all").one()
        return World(
            database, tenants[0].id, tenants[1].id, workspace.id, item.id, users[0].id, rule.id
        )


def insert_files(world: World, count: int) -> list[int]:
    """``count`` clean evidence files of the item; returns their ids."""
    with _connect(world.database) as conn:
        rows = conn.execute(
            """
            INSERT INTO evidence_files (item_id, workspace_id, tenant_id, visibility,
              uploaded_by_id, filename, declared_size, declared_sha256, declared_type, size,
              sha256, content_type, state, reason, upload_id, part_size, created_at)
            SELECT %(item)s, %(ws)s, %(t)s, 'inspectorate', %(u)s, 'notes-' || n || '.pdf', 16,
              '', '', 16, md5(n::text) || md5(n::text), 'application/pdf', 'clean', '', '', 0,
              now()
            FROM generate_series(1, %(count)s) AS n
            RETURNING id
            """,
            {
                "item": world.item,
                "ws": world.workspace,
                "t": world.lead,
                "u": world.user,
                "count": count,
            },
        ).fetchall()
    return sorted(row[0] for row in rows)


def insert_schedules(
    world: World,
    *,
    due_file_ids: list[int],
    future: int,
    publication: date,
) -> None:
    """Due claims on the given files (their disposal a day ago), then ``future`` claims due the
    day before ``publication``; all the lead's, all on the publication trigger."""
    key = f"evidence/{world.lead}/{world.workspace}/{world.item}/"
    params = {
        "ws": world.workspace,
        "t": world.lead,
        "rule": world.rule,
        "key": key,
        "pub": publication,
        "future": future,
        "files": due_file_ids,
        # Claims with no material row behind them: ids no real file has, distinct per workspace.
        "base": 100_000_000 + world.workspace * 2_000_000,
    }
    columns = """workspace_id, tenant_id, visibility, material_type, material_id,
      owner_tenant_id, joint, title, object_key, sha256, material_class, sensitivity,
      created_on, rule_id, trigger, trigger_on, action, disposal_on, due_at, override_action,
      override_reason, state, destroy_object, created_at"""
    with _connect(world.database) as conn:
        if due_file_ids:
            conn.execute(
                f"""
                INSERT INTO retention_schedules ({columns})
                SELECT %(ws)s, %(t)s, 'inspectorate', 'evidence_file', f, %(t)s, false,
                  'Interview notes: notes-' || f || '.pdf', %(key)s || f, md5(f::text),
                  'interview_notes,evidence.interview,evidence,all', 'standard',
                  current_date - 30, %(rule)s, 'publication', current_date,
                  'destroy', current_date - 1, now() - interval '1 day', '', '', 'scheduled',
                  false, now()
                FROM unnest(%(files)s::int[]) AS f
                """,  # noqa: S608 - columns are ours
                params,
            )
        if future:
            conn.execute(
                f"""
                INSERT INTO retention_schedules ({columns})
                SELECT %(ws)s, %(t)s, 'inspectorate', 'evidence_file', %(base)s + n, %(t)s,
                  false, 'Evidence ' || n, '', '', 'evidence.file_examination,evidence,all',
                  'standard', current_date - 30, %(rule)s, 'publication', %(pub)s, 'destroy',
                  %(pub)s - 1, (%(pub)s - 1)::timestamp AT TIME ZONE 'Europe/London', '', '',
                  'scheduled', false, now()
                FROM generate_series(1, %(future)s) AS n
                """,  # noqa: S608
                params,
            )
        conn.execute("ANALYZE retention_schedules")
        conn.execute("ANALYZE evidence_files")


@contextlib.contextmanager
def scratch(bench: str) -> Iterator[str]:
    ensure_app_role()
    with scratch_database(bench) as database:
        note(f"{bench}: migrating {database}")
        migrate(database)
        yield database


def far_publication() -> date:
    """A publication date far enough ahead that nothing but the seeded due rows is due."""
    return date.today() + timedelta(days=400)
