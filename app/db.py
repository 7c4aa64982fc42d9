"""Database: declarative base, engine, and the one-transaction-per-request session.

Services receive a ``Session`` and only ``flush()``; the request (or job) wrapper
commits or rolls back. Nothing connects at import time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True)}


def utcnow() -> datetime:
    from app.clock import clock

    return clock.now()


def make_engine(url: str, *, pool_size: int = 5, **kwargs: Any) -> Engine:
    """Create an engine with the settings this app relies on for each dialect."""
    if url.startswith("sqlite"):
        if url in {"sqlite://", "sqlite:///:memory:"}:
            kwargs.setdefault("poolclass", StaticPool)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    kwargs.setdefault("pool_size", pool_size)
    kwargs.setdefault("max_overflow", pool_size)
    return create_engine(url, pool_pre_ping=True, **kwargs)


#: PostgreSQL settings carried per transaction for row-level security (see set_context).
CONTEXT_SETTINGS = ("tenant_id", "user_id", "purpose", "platform_admin")


def _apply_context(session: Session, _transaction: Any, connection: Connection) -> None:
    """At the start of every transaction, tell PostgreSQL who is asking.

    ``set_config(..., true)`` lasts for the transaction only, so a pooled connection never
    carries one request's tenant into the next; an unset tenant matches no rows.
    """
    if connection.dialect.name != "postgresql":
        return
    values = {name: str(session.info.get(name) or "") for name in CONTEXT_SETTINGS}
    connection.exec_driver_sql(
        "SELECT set_config('app.tenant_id', %(tenant_id)s, true),"
        " set_config('app.user_id', %(user_id)s, true),"
        " set_config('app.purpose', %(purpose)s, true),"
        " set_config('app.platform_admin', %(platform_admin)s, true)",
        values,
    )


def set_context(
    session: Session,
    *,
    tenant_id: int | None,
    user_id: int | None = None,
    purpose: str | None = None,
    platform_admin: bool = False,
) -> None:
    """Scope ``session`` to a tenant (and user) from now on, in this transaction and later ones."""
    wanted = {
        "tenant_id": tenant_id,
        "user_id": user_id,
        "purpose": purpose,
        "platform_admin": "on" if platform_admin else None,
    }
    unchanged = all(session.info.get(key) == value for key, value in wanted.items())
    session.info.update(wanted)
    if session.in_transaction() and not unchanged:
        connection = session.connection()
        _apply_context(session, None, connection)


class Database:
    """The engine and session factory for one app; kept in ``app.extensions``."""

    def __init__(self, url: str, *, pool_size: int = 5) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size)
        self.sessionmaker = sessionmaker(bind=self.engine, expire_on_commit=False)
        event.listen(self.sessionmaker, "after_begin", _apply_context)
        self._pid = os.getpid()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def bind_to(self, connection: Connection) -> None:
        """Tests: make every session join ``connection``'s outer transaction as a savepoint."""
        self.sessionmaker.configure(bind=connection, join_transaction_mode="create_savepoint")

    def after_fork(self) -> None:
        """In a forked process (an rq work horse) never reuse the parent's connections."""
        if os.getpid() != self._pid:
            self.engine.dispose(close=False)
            self._pid = os.getpid()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits on success and rolls back on any error."""
        self.after_fork()
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def get_database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["database"]


def get_session() -> Session:
    """The current request's session, created on first use."""
    if "db_session" not in g:
        g.db_session = get_database().sessionmaker()
    return g.db_session


def commit_despite_status() -> None:
    """Keep this request's work although it answers with an error status: a 409 that reports
    a conflict has just stored the writer's text so that it is never lost."""
    g.commit_despite_status = True


def init_app(app: Flask, database: Database) -> None:
    app.extensions["database"] = database

    @app.after_request
    def _commit(response):  # type: ignore[no-untyped-def]
        session: Session | None = g.get("db_session")
        if session is not None:
            if response.status_code < 400 or g.get("commit_despite_status"):
                session.commit()
            else:
                session.rollback()
        return response

    @app.teardown_appcontext
    def _close(exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()


def verify_app_role(engine: Engine) -> str | None:
    """On PostgreSQL, the reason the app's role is unsafe for row-level security, or None.

    The role must not be a superuser, must not bypass RLS and must own no table (owners
    could disable the policies).
    """
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        role = conn.exec_driver_sql(
            "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        ).one()
        owned = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_tables WHERE tableowner = current_user "
            "AND schemaname NOT IN ('pg_catalog', 'information_schema')"
        ).scalar_one()
    if role.rolsuper:
        return f"DATABASE_URL connects as {role.rolname}, a superuser; use a role that owns nothing"
    if role.rolbypassrls:
        return f"DATABASE_URL role {role.rolname} has BYPASSRLS; it must be NOBYPASSRLS"
    if owned:
        return f"DATABASE_URL role {role.rolname} owns {owned} tables; migrate as another role"
    return None


@contextmanager
def purpose(session: Session, name: str) -> Iterator[Session]:
    """Read with a narrow cross-tenant purpose (e.g. "sign-in"), then restore the context."""
    saved = {key: session.info.get(key) for key in CONTEXT_SETTINGS}
    set_context(
        session,
        tenant_id=saved["tenant_id"],
        user_id=saved["user_id"],
        purpose=name,
        platform_admin=saved["platform_admin"] == "on",
    )
    try:
        yield session
    finally:
        set_context(
            session,
            tenant_id=saved["tenant_id"],
            user_id=saved["user_id"],
            purpose=saved["purpose"],
            platform_admin=saved["platform_admin"] == "on",
        )
