"""SQLite's trigram index behind ``/digest``'s words: which articles may contain a word.

A digest word matches anywhere in the title or the excerpt, case-insensitively: a substring,
so "olice" finds "Police" (``storage.post_views`` keeps that exact test). A trigram index
finds substrings of three characters or more: the FTS5 table ``article_text`` (migration
0015; trigram tokenizer, external content ``article``), kept in step by triggers in the
transaction that writes the article. Its answer is a superset (the tokenizer folds case in
every script, SQLite's ``LIKE`` in ASCII only), so the exact test still decides; a shorter
word has no trigram and is only tested. A word in more than :data:`FEW` articles is not
looked up at all: testing it on each card in scope is cheaper than an IN list that long.

PostgreSQL has no such index. ``pg_trgm`` GIN indexes on the title and the excerpt were built
and measured at 1M articles (bench/digest.py): ``pg_trgm`` splits a pattern into words, so a
phrase of two common words ("broadband grid") found 84,000 candidate rows to recheck for
4,000 true matches (2.4 s), against a few hundred milliseconds testing the ~21,000 cards in
scope; and a common word is worse. PostgreSQL tests the words per card (post_views).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, text

TEXT_TABLE = "article_text"
MIN_INDEXED = 3  # characters: the shortest piece a trigram index can look up
FEW = 5000  # articles: a word found in more is tested on each card, not looked up
# Made by migration 0015 with a sort order (and included columns) the models cannot say, or
# for SQLite only: Alembic's comparison of models and schema leaves them out.
MIGRATION_ONLY = frozenset({"ix_article_best", "ix_article_card_keys", "ix_post_best", TEXT_TABLE})


def indexed(word: str) -> bool:
    """Whether the index can look ``word`` up (else only the exact test finds it)."""
    return len(word) >= MIN_INDEXED


def fts_phrase(word: str) -> str:
    """An FTS5 query for ``word`` as a run of characters: one quoted string (a ``"`` in it
    doubled), which the trigram tokenizer turns into its trigrams in sequence."""
    return '"' + word.replace('"', '""') + '"'


def few_candidates(conn: Connection, words: Sequence[str]) -> set[int] | None:
    """SQLite: the ids of the articles that may contain every one of ``words`` that is rare
    (found in at most :data:`FEW` articles), or None when none of them is: a word in a
    quarter of the articles is tested faster on each card than looked up (reading its
    matches off the index stops at ``FEW + 1``, so a common word costs little)."""
    found: set[int] | None = None
    for word in words:
        if not indexed(word):
            continue
        query = text(f"SELECT rowid FROM {TEXT_TABLE} WHERE {TEXT_TABLE} MATCH :p LIMIT :n")
        ids = set(conn.execute(query, {"p": fts_phrase(word), "n": FEW + 1}).scalars())
        if len(ids) <= FEW:
            found = ids if found is None else found & ids
    return found


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
