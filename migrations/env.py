"""Alembic environment: the only way a schema is made (tests included)."""

from __future__ import annotations

from alembic import context

from app.config import Config
from app.db import Base, make_engine

config = context.config


def _url() -> str:
    return config.attributes.get("database_url") or Config.from_env().database_owner_url


def _metadata():  # type: ignore[no-untyped-def]
    from app import _import_models

    _import_models()
    return Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=_metadata(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=_metadata(),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        app_role = config.attributes.get("app_role")
        if app_role and connection.dialect.name == "postgresql":
            from app.rls import grant_app_role

            for statement in grant_app_role(app_role):
                connection.exec_driver_sql(statement)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
