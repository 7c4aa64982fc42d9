"""The evidence list of a workspace with 100,000 items, filtered and paged, against the bare
``/healthz`` endpoint of the same server.

A scratch PostgreSQL database (migrated, row-level security on, the app as ``cjji_app``)
gets two inspectorates in one workspace, five sites and 100,000 evidence items (a tenth kept
to the other inspectorate, a third linked to a criterion), inserted with SQL, then ANALYZE.
The app runs under gunicorn (2 gthread workers x 4 threads). Throughput is measured on
the method filter; the one-at-a-time latency rotates over four filtered, paged requests (by
method, by site, by criterion, a text search with a keyset cursor), each answering a page of
50 with the total (counted up to 1,000). Rounds alternate list and baseline.
Ratio = list req/s ÷ /healthz req/s (higher is better, target 0.04: see bench/README.md);
stderr also gives the p95 latency of the list, measured one request at a time.
"""

from __future__ import annotations

import json
import tempfile
import time

from bench.harness import (
    BenchResult,
    GunicornServer,
    http_get,
    load_driver,
    measure_rps,
    median,
    note,
)
from bench.rls import _connect, ensure_app_role, migrate, pg_url, scratch_database, server_env

NAME = "evidence_list"
TARGET = 0.04
ITEMS = 100_000
ROUNDS = 3
SECONDS = 4.0
WARMUP = 1.0
CONNECTIONS = 4
LATENCY_SAMPLES = 200
METHODS = ("interview", "data", "file_examination", "document_review", "focus_group")


def seed(database: str) -> tuple[str, list[str]]:
    """Two tenants, a token, a workspace with 100,000 items; returns the token and paths."""
    from app.audit import Actor
    from app.db import Database, set_context
    from shared_workspace import service
    from tenants.auth import create_token
    from tenants.models import Role, Tenant, User, UserRole

    db = Database(pg_url(database, "cjji_app"), pool_size=1)
    try:
        with db.transaction() as session:
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
                for slug in ("benchlead", "benchpartner")
            ]
            session.add_all(tenants)
            session.flush()
            users = []
            for tenant in tenants:
                set_context(session, tenant_id=tenant.id)
                user = User(tenant_id=tenant.id, email=f"b@{tenant.slug}.example.gov.uk", name="B")
                user.password_hash = "!"  # noqa: S105 - no password: the bench uses a token
                user.role_rows = [UserRole(role=r.value, tenant_id=tenant.id) for r in Role]
                session.add(user)
                session.flush()
                users.append(user)
            set_context(session, tenant_id=tenants[0].id, user_id=users[0].id)
            _row, token = create_token(session, users[0], name="bench", scopes={"read"})
            workspace = service.create_workspace(
                session, title="Bench", lead=users[0], participants=[tenants[1]]
            )
            ids = {"ws": workspace.id, "a": tenants[0].id, "b": tenants[1].id}
            ids.update(ua=users[0].id, ub=users[1].id)
    finally:
        db.engine.dispose()
    with _connect(database) as conn:
        sites = [
            conn.execute(
                "INSERT INTO workspace_sites (workspace_id, name, body_type) VALUES (%s, %s,"
                " 'prison') RETURNING id",
                (ids["ws"], f"HMP Bench {n}"),
            ).fetchone()[0]
            for n in range(5)
        ]
        conn.execute(
            """
            INSERT INTO evidence_items (workspace_id, tenant_id, title, method, site_id,
              inspected_body, source, collected_by_id, protective_marking, visibility,
              retention_class, search_text, created_at)
            SELECT %(ws)s, CASE WHEN n %% 2 = 0 THEN %(a)s ELSE %(b)s END,
              'Evidence ' || n || CASE WHEN n %% 7 = 0 THEN ' housing' ELSE ' staffing' END,
              (%(methods)s::text[])[1 + n %% 5], (%(sites)s::int[])[1 + n %% 5], '',
              'Senior probation officer', CASE WHEN n %% 2 = 0 THEN %(ua)s ELSE %(ub)s END,
              'OFFICIAL', CASE WHEN n %% 10 = 1 THEN 'inspectorate' ELSE 'workspace' END,
              'standard',
              lower('Evidence ' || n || CASE WHEN n %% 7 = 0 THEN ' housing' ELSE ' staffing'
                END || ' senior probation officer'),
              now() - (n || ' seconds')::interval
            FROM generate_series(1, %(items)s) AS n
            """,
            {**ids, "methods": list(METHODS), "sites": sites, "items": ITEMS},
        )
        conn.execute(
            """
            INSERT INTO evidence_criteria (item_id, workspace_id, tenant_id, visibility, criterion)
            SELECT id, workspace_id, tenant_id, visibility, 'Accommodation on release'
            FROM evidence_items WHERE workspace_id = %s AND id %% 3 = 0
            """,
            (ids["ws"],),
        )
        conn.execute("ANALYZE")
        middle = conn.execute(
            "SELECT id FROM evidence_items WHERE workspace_id = %s ORDER BY id LIMIT 1 OFFSET %s",
            (ids["ws"], ITEMS // 2),
        ).fetchone()[0]
    from shared_workspace.evidence.service import encode_cursor

    base = f"/api/v1/workspaces/{ids['ws']}/evidence?limit=50"
    paths = [
        f"{base}&method=interview",
        f"{base}&site_id={sites[2]}",
        f"{base}&criterion=Accommodation%20on%20release",
        f"{base}&q=housing&cursor={encode_cursor(middle)}",
    ]
    return token, paths


def p95_ms(port: int, paths: list[str], headers: dict[str, str]) -> tuple[float, float]:
    samples = []
    for n in range(LATENCY_SAMPLES):
        started = time.perf_counter()
        status, _body = http_get(port, paths[n % len(paths)], headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert status == 200
    samples.sort()
    return samples[len(samples) // 2], samples[int(len(samples) * 0.95) - 1]


def run() -> BenchResult:
    driver = load_driver()
    ensure_app_role()
    with scratch_database(NAME) as database, tempfile.TemporaryDirectory() as instance:
        migrate(database)
        token, paths = seed(database)
        headers = {"Authorization": f"Bearer {token}"}
        note(f"{NAME}: {ITEMS:,} items seeded; driver {driver}")
        with GunicornServer("app.wsgi:app", env=server_env(database, instance)) as server:
            for path in paths:
                status, body = http_get(server.port, path, headers=headers)
                page = json.loads(body)
                if status != 200 or len(page["items"]) != 50 or not page["total_is_capped"]:
                    raise RuntimeError(f"{path} answered {status}: {body[:300]!r}")
                note(f"{NAME}: {path.split('?')[1]} -> total {page['total']:,}")
            rps: dict[str, list[float]] = {"list": [], "healthz": []}
            for round_number in range(1, ROUNDS + 1):
                for label in ("healthz", "list"):
                    load = measure_rps(
                        server.port,
                        "/healthz" if label == "healthz" else paths[0],
                        seconds=SECONDS,
                        warmup=WARMUP,
                        connections=CONNECTIONS,
                        driver=driver,
                        header_sets=[]
                        if label == "healthz"
                        else [{**headers, "X-Path": p} for p in paths],
                    )
                    rps[label].append(load.rps)
                    note(f"{NAME}: round {round_number} {label} {load.rps:.0f} req/s")
            p50, p95 = p95_ms(server.port, paths, headers)
    list_rps, base_rps = median(rps["list"]), median(rps["healthz"])
    note(f"{NAME}: list p50 {p50:.1f} ms, p95 {p95:.1f} ms (one request at a time)")
    note(f"{NAME}: median list {list_rps:.0f} req/s, /healthz {base_rps:.0f} req/s")
    return BenchResult(
        name=NAME,
        figure=list_rps,
        unit="req/s",
        ratio=list_rps / base_rps,
        target=TARGET,
        higher_is_better=True,
    )
