"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from storage import migrate
from storage.db import make_engine
from storage.schema_version import newest_revision, recorded_revisions, schema_is_current


def test_upgrade_matches_models(db_url: str):
    engine = make_engine(db_url)
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == [], f"models and migrations disagree; write a migration: {diff}"
    migrate.upgrade(engine)  # a second upgrade is a no-op
    engine.dispose()


def test_schema_version_agrees_with_alembic(db_url: str):
    """The check every command makes before it opens the database, without Alembic: current
    only when Alembic would say so."""
    assert newest_revision() == migrate.head_revision()
    engine = make_engine(db_url)
    assert recorded_revisions(engine) == []
    assert not schema_is_current(engine)
    migrate.upgrade(engine, "0006")  # one behind
    assert recorded_revisions(engine) == [migrate.current_revision(engine)] == ["0006"]
    assert not schema_is_current(engine)
    migrate.upgrade(engine)
    assert recorded_revisions(engine) == [migrate.head_revision()]
    assert schema_is_current(engine)
    engine.dispose()


def test_sqlite_uses_wal(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
