"""The migrations build exactly the schema the models declare (SQLite and PostgreSQL), and the
initial one can be undone and redone: a migration edited by hand (0001 is folded with local
helpers) must still emit the same DDL."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from bulwark.store import Store
from bulwark.store.models import Base

MIGRATIONS = Path(__file__).parents[3] / "src" / "bulwark" / "store" / "migrations"


def _schema_diff(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn), Base.metadata))
    finally:
        engine.dispose()


def test_the_migrated_schema_is_the_models(store: Store) -> None:
    assert _schema_diff(store.url) == []


def test_the_initial_schema_goes_down_and_up_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    Store(url).close()
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    Store(url).close()  # migrated up again on open
    assert _schema_diff(url) == []
