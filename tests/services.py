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

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
HOW_TO_START_PG = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


def pg_url(database: str, user: str = "postgres", password: str | None = None) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    scheme, rest = base.split("://", 1)
    host = rest.split("@", 1)[-1]
    auth = user if password is None else f"{user}:{password}"
    return f"{scheme}://{auth}@{host}/{database}"


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
