"""The cost of the isolation wall: a list endpoint with row-level security on vs off.

``GET /api/v1/audit-events?limit=50`` (token auth, the tenant-scoped ORM session, then
PostgreSQL) on a fresh database of 10 tenants × 10,000 audit events, dropped afterwards.
The app runs under gunicorn as the role it uses in production (no superuser, no
BYPASSRLS), driven with the 10 tenants' read tokens in turn. Between rounds the superuser
turns RLS off (NO FORCE + DISABLE) or on again (ENABLE + FORCE) on every tenant-owned
table, on the same running server; the app's own tenant filter (loader criteria) stays in
both, so the ratio isolates the database wall. Rounds alternate (on, off, on, ...).
Ratio = the median over rounds of on req/s / the same round's off req/s; higher is better.
Pairing each round's two measurements (seconds apart) cancels most of a neighbour's load,
which at under 100 req/s moves single measurements by a third; the figure is the median
of the on measurements.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import psycopg
from psycopg import sql

from bench.app_overhead import SERVER_SETTINGS
from bench.harness import (
    BenchResult,
    GunicornServer,
    clean_env,
    http_get,
    load_driver,
    measure_rps,
    median,
    note,
    pids_cpu_seconds,
)

NAME = "rls"
TARGET = 0.8
LIMIT = 50
PATH = f"/api/v1/audit-events?limit={LIMIT}"
TENANTS = 10
EVENTS_PER_TENANT = 10_000
ROUNDS = 5
SECONDS = 4.0
WARMUP = 1.0
CONNECTIONS = 4
#: Connections per gunicorn worker: one per thread (SERVER_SETTINGS has 4 threads).
DB_POOL_SIZE = 4

#: The local socket: over TCP loopback a query costs several times more (tests/services.py).
PG_SOCKET_DIR = "/var/run/postgresql"
OWNER = "postgres"
APP_ROLE = "cjji_app"
HOW_TO_START_PG = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


@dataclass(frozen=True)
class SeededTenant:
    tenant_id: int
    token: str
    #: Ids the endpoint must answer with, newest first.
    newest_ids: tuple[int, ...]


def pg_url(database: str, user: str = OWNER) -> str:
    return f"postgresql://{user}@/{database}?host={PG_SOCKET_DIR}"


def _connect(database: str, user: str = OWNER, *, autocommit: bool = True) -> psycopg.Connection:
    try:
        return psycopg.connect(pg_url(database, user), autocommit=autocommit, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise RuntimeError(
            f"PostgreSQL is not reachable on {PG_SOCKET_DIR} ({exc}). Start it with: "
            + HOW_TO_START_PG
        ) from None


# Small copies of tests/services.py and tests/conftest.py: benchmarks do not import tests.
def ensure_app_role() -> None:
    """The role the app connects as: it owns nothing and cannot bypass row-level security."""
    with _connect("postgres") as conn, contextlib.suppress(psycopg.errors.DuplicateObject):
        # Look first, so a run does not leave "already exists" errors in the server's log.
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone():
            return
        conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS")


@contextlib.contextmanager
def scratch_database(bench: str = NAME) -> Iterator[str]:
    """A new, empty database for one benchmark, dropped on the way out (also after an error)."""
    name = f"cjji_bench_{bench}_{uuid.uuid4().hex[:8]}"
    with _connect("postgres") as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with _connect("postgres") as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        note(f"{bench}: dropped database {name}")


def migrate(database: str) -> None:
    """``alembic upgrade head`` as the owner, granting the app role its rights."""
    from alembic import command

    from app.cli import alembic_config

    command.upgrade(alembic_config(pg_url(database), APP_ROLE), "head")


def seed_tenants(database: str) -> list[tuple[int, str]]:
    """(tenant id, read token) for each new tenant, made through the app's models as the app
    role, like tests/tenants/fixtures.py: one administrator and one token per tenant."""
    from app.audit import Actor
    from app.db import Database, set_context
    from tenants.auth import create_token
    from tenants.models import Role, Tenant, User, UserRole

    db = Database(pg_url(database, APP_ROLE), pool_size=1)
    seeded = []
    try:
        with db.transaction() as session:
            session.info["actor"] = Actor(None, None, "bench")
            for n in range(1, TENANTS + 1):
                slug = f"bench{n:02d}"
                set_context(session, tenant_id=None, platform_admin=True)
                tenant = Tenant(
                    slug=slug,
                    name=f"Bench inspectorate {n}",
                    short_name=slug.upper(),
                    senior_oversight_title="Team Leader",
                    email_domains=f"{slug}.example.gov.uk",
                )
                session.add(tenant)
                session.flush()
                set_context(session, tenant_id=tenant.id)
                user = User(
                    tenant_id=tenant.id,
                    email=f"admin@{slug}.example.gov.uk",
                    name=f"Administrator {n}",
                )
                user.role_rows = [UserRole(role=Role.ADMINISTRATOR.value, tenant_id=tenant.id)]
                session.add(user)
                session.flush()
                set_context(session, tenant_id=tenant.id, user_id=user.id)
                _row, token = create_token(session, user, name="bench", scopes={"read"})
                seeded.append((tenant.id, token))
    finally:
        db.engine.dispose()
    return seeded


#: Fills every tenant's chain up to EVENTS_PER_TENANT links after the ones seeding wrote,
#: the tenants' events interleaved as a shared log would be; hashes are not real links.
#: Replica mode skips triggers (the append-only ones, and foreign key checks).
_FILL_AUDIT_LOG = """
INSERT INTO audit_events (
    tenant_id, seq, actor_user_id, actor_tenant_id, actor_label, action, object_type,
    object_id, changes, request_id, ip_address, created_at, prev_hash, hash
)
SELECT
    h.tenant_id, h.seq + g, NULL, h.tenant_id, 'bench',
    (ARRAY['user.updated', 'user.signed_in', 'api_token.created', 'user_role.created'])[1 + g %% 4],
    'user', g::text, json_build_object('field', json_build_array(g - 1, g)),
    md5(g::text), '127.0.0.1', now() - make_interval(secs => %(per_tenant)s - g),
    md5(h.tenant_id || ':' || (g - 1)) || md5((g - 1) || ':' || h.tenant_id),
    md5(h.tenant_id || ':' || g) || md5(g || ':' || h.tenant_id)
FROM audit_chain_heads AS h CROSS JOIN generate_series(1, %(per_tenant)s) AS g
WHERE h.seq + g <= %(per_tenant)s
ORDER BY g, h.tenant_id
"""
_MOVE_CHAIN_HEADS = """
UPDATE audit_chain_heads AS h SET seq = e.seq, hash = e.hash
FROM audit_events AS e WHERE e.tenant_id = h.tenant_id AND e.seq = %(per_tenant)s
"""


def fill_audit_log(database: str, tenants: Sequence[tuple[int, str]]) -> list[SeededTenant]:
    """Bulk-insert the audit events as the superuser, ANALYZE, and read back what to expect."""
    with _connect(database) as conn:
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")
            conn.execute(_FILL_AUDIT_LOG, {"per_tenant": EVENTS_PER_TENANT})
            conn.execute(_MOVE_CHAIN_HEADS, {"per_tenant": EVENTS_PER_TENANT})
        conn.execute("ANALYZE")
        counts = dict(
            conn.execute("SELECT tenant_id, count(*) FROM audit_events GROUP BY tenant_id")
        )
        expected = {tenant_id: EVENTS_PER_TENANT for tenant_id, _token in tenants}
        if counts != expected:
            raise RuntimeError(f"audit events per tenant {counts}, expected {expected}")
        seeded = []
        for tenant_id, token in tenants:
            ids = conn.execute(
                "SELECT id FROM audit_events WHERE tenant_id = %s ORDER BY seq DESC LIMIT %s",
                (tenant_id, LIMIT),
            )
            seeded.append(SeededTenant(tenant_id, token, tuple(row[0] for row in ids)))
    return seeded


def tenant_tables() -> list[str]:
    """Every table with a ``tenant_id`` column, i.e. every table behind the wall."""
    from app import _import_models
    from app.tenancy import tenant_owned_tables

    _import_models()
    return tenant_owned_tables()


def set_row_level_security(conn: psycopg.Connection, tables: Sequence[str], on: bool) -> None:
    """As the superuser: RLS as migrated (ENABLE + FORCE) or off (NO FORCE + DISABLE)."""
    if on:
        templates = (
            "ALTER TABLE {} ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE {} FORCE ROW LEVEL SECURITY",
        )
    else:
        templates = (
            "ALTER TABLE {} NO FORCE ROW LEVEL SECURITY",
            "ALTER TABLE {} DISABLE ROW LEVEL SECURITY",
        )
    with conn.transaction():
        # Idle pooled connections hold no locks; anything else should fail, not hang.
        conn.execute("SET LOCAL lock_timeout = '5s'")
        for table in tables:
            for template in templates:
                conn.execute(sql.SQL(template).format(sql.Identifier(table)))


def check_wall(database: str, on: bool) -> None:
    """The app role with no tenant set sees no audit event with RLS on, all of them off."""
    with _connect(database, APP_ROLE) as conn:
        visible = conn.execute("SELECT count(*) FROM audit_events").fetchone()
    expected = 0 if on else TENANTS * EVENTS_PER_TENANT
    if visible is None or visible[0] != expected:
        raise RuntimeError(
            f"RLS {'on' if on else 'off'}: the app role sees {visible} audit events "
            f"with no tenant set, expected {expected}"
        )


def check_answers(port: int, tenants: Sequence[SeededTenant]) -> None:
    """Every tenant's token gets 200 and exactly its own newest LIMIT events."""
    for tenant in tenants:
        status, body = http_get(port, PATH, headers=auth_header(tenant), timeout=10.0)
        if status != 200:
            raise RuntimeError(f"{PATH} for tenant {tenant.tenant_id}: {status} {body[:300]!r}")
        ids = tuple(event["id"] for event in json.loads(body))
        if ids != tenant.newest_ids:
            raise RuntimeError(
                f"{PATH} for tenant {tenant.tenant_id} answered {len(ids)} events "
                f"{ids[:5]}..., expected its newest {LIMIT} {tenant.newest_ids[:5]}..."
            )


def auth_header(tenant: SeededTenant) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant.token}"}


def query_plan(database: str, tenant_id: int) -> str:
    """The plan of the endpoint's query as the app role in a tenant, on one line."""
    with _connect(database, APP_ROLE, autocommit=False) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(tenant_id),))
        rows = conn.execute(
            sql.SQL(
                "EXPLAIN (COSTS OFF) SELECT * FROM audit_events WHERE tenant_id = {} "
                "ORDER BY seq DESC LIMIT {}"
            ).format(sql.Literal(tenant_id), sql.Literal(LIMIT))
        ).fetchall()
        conn.rollback()
    return " | ".join(" ".join(row[0].replace("->", "").split()) for row in rows)


def backend_pids(conn: psycopg.Connection, database: str) -> list[int]:
    """The server processes serving the app role in ``database`` (the app's pools)."""
    rows = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND usename = %s",
        (database, APP_ROLE),
    )
    return [row[0] for row in rows]


def server_env(database: str, instance_path: str) -> dict[str, str]:
    """The app on PostgreSQL as the app role; everything else on its embedded defaults."""
    return clean_env(
        {
            "DATABASE_URL": pg_url(database, APP_ROLE),
            "DATABASE_OWNER_URL": pg_url(database),
            "INSTANCE_PATH": instance_path,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "APP_ENV": "development",
            # Request logs at INFO would measure the log handler, not the wall.
            "LOG_LEVEL": "WARNING",
            "DB_POOL_SIZE": str(DB_POOL_SIZE),
        }
    )


def run() -> BenchResult:
    """Seed a scratch database, then measure RLS on and off ``ROUNDS`` times each, interleaved.

    The server is stopped and the database dropped on return, also after an error.
    """
    driver = load_driver()
    note(
        f"{NAME}: driver {driver}, {TENANTS} tenants x {EVENTS_PER_TENANT} audit events, "
        f"{ROUNDS} rounds of {WARMUP:g}s warm-up + {SECONDS:g}s"
    )
    tables = tenant_tables()
    ensure_app_role()
    samples: dict[str, list[float]] = {"on": [], "off": []}
    #: Server CPU microseconds per request, app (gunicorn) and database (its backends).
    cpu_us: dict[str, list[tuple[float, float]]] = {"on": [], "off": []}
    with scratch_database() as database:
        migrate(database)
        tenants = fill_audit_log(database, seed_tenants(database))
        note(f"{NAME}: seeded {database}; RLS tables: {', '.join(tables)}")
        header_sets = [auth_header(tenant) for tenant in tenants]
        with (
            tempfile.TemporaryDirectory(prefix="bench-rls-") as instance,
            GunicornServer(
                "app.wsgi:app",
                env=server_env(database, instance),
                path="/healthz",
                expect_json={"status": "ok"},
                **SERVER_SETTINGS,
            ) as server,
            _connect(database) as owner,
        ):
            for round_number in range(1, ROUNDS + 1):
                for label, on in (("on", True), ("off", False)):
                    set_row_level_security(owner, tables, on)
                    check_wall(database, on)
                    check_answers(server.port, tenants)
                    if round_number == 1:
                        plan = query_plan(database, tenants[0].tenant_id)
                        note(f"{NAME}: plan with RLS {label}: {plan}")
                    pids = backend_pids(owner, database)
                    app_before, db_before = server.cpu_seconds(), pids_cpu_seconds(pids)
                    load = measure_rps(
                        server.port,
                        PATH,
                        seconds=SECONDS,
                        warmup=WARMUP,
                        connections=CONNECTIONS,
                        header_sets=header_sets,
                        driver=driver,
                    )
                    app_after = server.cpu_seconds()
                    # Backends opened during the load count in full; ones closed, not at all.
                    pids = sorted(set(pids) | set(backend_pids(owner, database)))
                    db_after = pids_cpu_seconds(pids)
                    samples[label].append(load.rps)
                    cpu_note = ""
                    if app_before is not None and app_after is not None:
                        app_us = (app_after - app_before) / load.sent * 1e6
                        db_us = (db_after - db_before) / load.sent * 1e6
                        cpu_us[label].append((app_us, db_us))
                        cpu_note = f", CPU/request app {app_us:.0f} us + database {db_us:.0f} us"
                    note(
                        f"{NAME}: round {round_number} RLS {label} {load.rps:.0f} req/s "
                        f"({load.requests} ok, {load.errors} errors{cpu_note})"
                    )
    on_rps, off_rps = median(samples["on"]), median(samples["off"])
    ratios = [on / off for on, off in zip(samples["on"], samples["off"], strict=True)]
    ratio = median(ratios)
    note(
        f"{NAME}: median RLS on {on_rps:.0f} req/s, off {off_rps:.0f} req/s; on/off per round "
        f"{', '.join(f'{r:.3f}' for r in ratios)}, median {ratio:.3f} "
        f"(ratio of the medians {on_rps / off_rps:.3f})"
    )
    if cpu_us["on"] and cpu_us["off"]:
        on_db = median([db for _app, db in cpu_us["on"]])
        off_db = median([db for _app, db in cpu_us["off"]])
        on_all = median([app + db for app, db in cpu_us["on"]])
        off_all = median([app + db for app, db in cpu_us["off"]])
        note(
            f"{NAME}: median CPU/request database on {on_db:.0f} us, off {off_db:.0f} us; "
            f"app + database on {on_all:.0f} us, off {off_all:.0f} us "
            f"(off/on {off_all / on_all:.3f}, for comparison with the ratio)"
        )
    return BenchResult(
        name=NAME,
        figure=on_rps,
        unit="req/s",
        ratio=ratio,
        target=TARGET,
        higher_is_better=True,
    )
