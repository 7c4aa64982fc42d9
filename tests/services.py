"""Real services for the test suite: PostgreSQL, Redis. A missing service fails the test.

Settings come from TEST_* variables with this machine's defaults; nothing here skips.
"""

from __future__ import annotations

import contextlib
import os
import uuid

import psycopg
import pytest
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.engine import make_url

PG_SOCKET_DIR = "/var/run/postgresql"
#: The local socket when there is one: on these machines a parameterised query over TCP
#: loopback costs ~1.5 ms against ~0.1 ms on the socket (same server, same data).
_DEFAULT_PG = (
    f"postgresql://postgres@/postgres?host={PG_SOCKET_DIR}"
    if os.path.exists(f"{PG_SOCKET_DIR}/.s.PGSQL.5432")
    else "postgresql://postgres@127.0.0.1:5432/postgres"
)
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", _DEFAULT_PG)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
HOW_TO_START_PG = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


def pg_url(database: str, user: str = "postgres") -> str:
    return (
        make_url(PG_ADMIN_URL)
        .set(database=database, username=user)
        .render_as_string(hide_password=False)
    )


def admin_connection() -> psycopg.Connection:
    try:
        return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({exc}). "
            f"Start it with: {HOW_TO_START_PG}",
            pytrace=False,
        )


APP_ROLE = "cjji_app"


def ensure_app_role() -> None:
    """The role the app connects as: it owns nothing and cannot bypass row-level security."""
    with admin_connection() as conn, contextlib.suppress(psycopg.errors.DuplicateObject):
        conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS")


def app_url(database: str) -> str:
    return pg_url(database, user=APP_ROLE)


def create_database(prefix: str = "cjji_test") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with admin_connection() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(name: str) -> None:
    with admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_client() -> Redis:
    client = Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except RedisConnectionError as exc:
        pytest.fail(
            f"Redis is not reachable at {REDIS_URL} ({exc}). Start it with: redis-server "
            "--daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no",
            pytrace=False,
        )
    return client


def forced_policy(conn: psycopg.Connection, table: str, policy: str) -> tuple[bool, ...]:
    """(RLS enabled, forced, policy has USING, policy has WITH CHECK) for ``table``."""
    enabled, forced = conn.execute(
        "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = %s", (table,)
    ).fetchone()
    row = conn.execute(
        "SELECT qual, with_check FROM pg_policies WHERE tablename = %s AND policyname = %s",
        (table, policy),
    ).fetchone()
    return (enabled, forced, bool(row and row[0]), bool(row and row[1]))
