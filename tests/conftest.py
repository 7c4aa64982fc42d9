"""Test fixtures: a migrated PostgreSQL database per run, one app, a rolled-back transaction
per test, real Redis, the S3 API server and Chromium. A missing service fails, never skips."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app import create_app
from app.config import Config
from app.db import Database, get_database
from tests import services

pytest_plugins = ["tests.s3_server", "tests.oidc_provider"]

#: Which real service each fixture stands for: (marker, label in the closing summary).
SERVICE_FIXTURES = {
    "pg_database": ("postgres", "PostgreSQL"),
    "redis": ("redis", "Redis"),
    "s3_server": ("s3", "S3 API server (moto)"),
    "browser": ("browser", "Chromium"),
    "e2e_app": ("postgres", "PostgreSQL"),
}
_service_counts: Counter[str] = Counter()


def migrate(url: str, app_role: str | None = None) -> None:
    from alembic import command

    from app.cli import alembic_config

    command.upgrade(alembic_config(url, app_role), "head")


@contextlib.contextmanager
def committed_app(prefix: str, tmp: Path, **overrides: object) -> Iterator[tuple[Flask, str]]:
    """An app on a database of its own, migrated, whose work really commits (for servers,
    CLI commands and threads that cannot share a test's rolled-back transaction); dropped after."""
    services.ensure_app_role()
    name = services.create_database(prefix)
    flask_app = None
    try:
        migrate(services.pg_url(name), services.APP_ROLE)
        flask_app = create_app(
            make_config(
                tmp,
                database_url=services.app_url(name),
                database_owner_url=services.pg_url(name),
                **overrides,
            )
        )
        yield flask_app, name
    finally:
        if flask_app is not None:
            get_database(flask_app).engine.dispose()
        services.drop_database(name)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database built by ``alembic upgrade head``; dropped afterwards."""
    services.ensure_app_role()
    name = services.create_database()
    try:
        migrate(services.pg_url(name), services.APP_ROLE)
        yield name
    finally:
        services.drop_database(name)


def make_config(tmp: Path, **overrides: object) -> Config:
    values: dict[str, object] = {
        "app_env": "test",
        "secret_key": "test-secret-key-that-is-long-enough-000",
        "instance_path": tmp,
        "storage_url": f"file://{tmp / 'objects'}",
        "jobs_eager": True,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Config(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def app(pg_database: str, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    flask_app = create_app(
        make_config(
            tmp_path_factory.mktemp("instance"),
            database_url=services.app_url(pg_database),
            database_owner_url=services.pg_url(pg_database),
        )
    )
    # Most tests post forms directly; tests of CSRF itself switch it back on.
    flask_app.config["WTF_CSRF_ENABLED"] = False
    return flask_app


@pytest.fixture(autouse=True)
def _reset_clock() -> Iterator[None]:
    from app.clock import clock

    yield
    clock.reset()


@pytest.fixture
def owner(pg_database: str) -> Iterator[psycopg.Connection]:
    """A superuser connection that seeds rows by hand (skipping the append-only trigger)."""
    with psycopg.connect(services.pg_url(pg_database), autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        yield conn


@pytest.fixture
def app_conn(pg_database: str) -> Iterator[psycopg.Connection]:
    """A connection as the app's role, to which row-level security applies."""
    with psycopg.connect(services.app_url(pg_database)) as conn:
        yield conn


@pytest.fixture
def database(app: Flask) -> Iterator[Database]:
    """The app's database with every session joined to one transaction rolled back after."""
    database = get_database(app)
    connection = database.engine.connect()
    outer = connection.begin()
    database.bind_to(connection)
    try:
        yield database
    finally:
        database.sessionmaker.configure(
            bind=database.engine, join_transaction_mode="conservative_savepoint"
        )
        outer.rollback()
        connection.close()


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    s = database.sessionmaker()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def client(app: Flask, database: Database) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def redis():  # type: ignore[no-untyped-def]
    client = services.redis_client()
    client.flushdb()
    yield client
    client.flushdb()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, (marker, _label) in SERVICE_FIXTURES.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(marker)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.passed:
        labels = {
            label
            for _fixture, (marker, label) in SERVICE_FIXTURES.items()
            if item.get_closest_marker(marker) is not None
        }
        for label in labels:
            _service_counts[label] += 1


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    terminalreporter.section("real services used")
    for label in dict.fromkeys(label for _marker, label in SERVICE_FIXTURES.values()):
        terminalreporter.write_line(f"{label}: {_service_counts[label]} passing tests")
