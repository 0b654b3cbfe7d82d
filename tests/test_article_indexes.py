"""The indexes on ``article``: each serves a statement, since each costs every inserted row.

A full scan inserts every article of the repo and a collector's refresh rewrites qualities:
an index no statement reads is a write per row for nothing. ix_article_quality and
ix_article_candidate were such (migration 0021 says how that was found).
"""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect

from storage import migrate
from storage.db import make_engine

# What reads each one: the path is the scan's lookup, the URL the duplicate-story checks,
# the date the scan's undated articles, live the counts, on offer by age the pool (0016).
SERVING = {
    "ix_article_url", "ix_article_dated", "ix_article_live", "ix_article_on_offer_by_age",
}  # fmt: skip
UNREAD = {"ix_article_quality", "ix_article_candidate"}


def _indexes(engine) -> set[str]:  # type: ignore[no-untyped-def]
    """The named indexes on article, less the one behind the unique path (PostgreSQL names
    it for the constraint; SQLite's has no name)."""
    names = {index["name"] for index in inspect(engine).get_indexes("article")}
    return names - {None, "article_path_key"}  # type: ignore[operator]


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_article_keeps_only_indexes_a_statement_reads(db_url: str):
    engine = make_engine(db_url)
    try:
        migrate.upgrade(engine)
        found = _indexes(engine)
        # SQLite cannot reflect the index on an expression; PostgreSQL lists it, and the
        # PostgreSQL-only one by id (0016).
        assert found - {"ix_article_on_offer_by_age", "ix_article_on_offer_by_id"} == (
            SERVING - {"ix_article_on_offer_by_age"}
        )
        assert not found & UNREAD
    finally:
        engine.dispose()


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_migration_0021_goes_both_ways(db_url: str):
    engine = make_engine(db_url)
    try:
        migrate.upgrade(engine)
        with engine.begin() as conn:
            command.downgrade(migrate._alembic_config(conn), "0020")
        assert _indexes(engine) >= UNREAD
        migrate.upgrade(engine)
        assert not _indexes(engine) & UNREAD
    finally:
        engine.dispose()
