"""SQLite's trigram index of the articles' titles and excerpts (migration 0015), and the names
of the schema objects migrations make that the models cannot describe.

The FTS5 table ``article_text`` (trigram tokenizer, external content ``article``) is kept in
step by triggers in the transaction that writes the article. ``/digest`` looked its words up
there until each card carried a copy of its article's keys (migration 0017, card_keys.py):
since then testing the cards in scope from ``ix_post_scope`` is faster than the look-up,
which reads every trigram's list of articles (80-260 ms at a million articles for a phrase
of common words). The table is still kept in step, but nothing reads it: dropping it (and
the cost of its triggers to the scan) is left to a later migration.

PostgreSQL has no such index: ``pg_trgm`` GIN indexes on the title and the excerpt were built
and measured at 1M articles: a phrase of two common words ("broadband grid") found 84,000
candidate rows to recheck for 4,000 true matches (2.4 s).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

TEXT_TABLE = "article_text"
# Made by migrations 0015 and 0017 with a sort order (and included columns) the models
# cannot say, or for SQLite only: Alembic's comparison of models and schema leaves them out.
MIGRATION_ONLY = frozenset(
    {"ix_article_best", "ix_article_card_keys", "ix_post_best", "ix_post_scope", TEXT_TABLE}
)


def rebuild_text_index(conn: Connection) -> None:
    """SQLite: index every article again (after a bulk load without the triggers)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"INSERT INTO {TEXT_TABLE} ({TEXT_TABLE}) VALUES ('rebuild')")


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic's hook: the comparison of models and schema skips :data:`MIGRATION_ONLY` (and
    the FTS5 table's own shadow tables, ``article_text_*``)."""
    if name is None:
        return True
    return name not in MIGRATION_ONLY and not name.startswith(f"{TEXT_TABLE}_")
