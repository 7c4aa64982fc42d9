"""The schema comes only from Alembic: models and migrations must agree on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from app import _import_models
from app.cli import alembic_config
from app.db import Base, make_engine
from tests import services
from tests.conftest import migrate


def _diff(url: str) -> list[object]:
    _import_models()
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_models_match_migrations_on_postgresql(pg_database: str) -> None:
    assert _diff(services.pg_url(pg_database)) == []


def test_models_match_migrations_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'schema.db'}"
    migrate(url)
    assert _diff(url) == []


def test_there_is_exactly_one_migration_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"two migrations claim to be the head: {heads}"


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_every_migration_downgrades_to_base_and_back(dialect: str, tmp_path: Path) -> None:
    from alembic import command

    if dialect == "sqlite":
        url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
        name = None
    else:
        name = services.create_database("cjji_roundtrip")
        url = services.pg_url(name)
    try:
        cfg = alembic_config(url)
        command.upgrade(cfg, "head")
        command.downgrade(cfg, "base")
        command.upgrade(cfg, "head")
        assert _diff(url) == []
    finally:
        if name:
            services.drop_database(name)
