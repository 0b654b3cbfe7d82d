"""post: the words of a card's article kept lowered once, in one column (art_text)

``/digest`` tests each of its words on every card in scope (about 53,000 of them for
``status:all since:60d`` at a million articles). Migration 0017 copied the title and the
excerpt to the card, and the test was ``art_title ILIKE '%word%' OR art_excerpt ILIKE
'%word%'``. On PostgreSQL, in UTF-8, ILIKE lowers the text and the pattern with ``lower()``
for each row of each query, and that was most of a phrase's time. The card now carries the
text lowered once, when it is written: ``lower(title) || U+001F || lower(excerpt)`` (the
separator, which a word without it cannot span, keeps a phrase from matching across the
two), and a word is ``strpos(art_text, lower(word)) > 0`` (SQLite: ``instr``), the same
answer as ILIKE on both databases (SQLite's ILIKE is ``lower() LIKE lower()``, and its
``lower()`` is the one used here too). ``art_title`` and ``art_excerpt`` go: nothing else
read them, and the row a digest reads is narrower.

The triggers of migration 0017 that wrote those two columns are replaced; the topic
triggers stay. SQL frozen here, as it is at this revision.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# article column -> its copy on post, and the watched text columns
KEYS = {"quality": "art_quality", "heat": "art_heat", "dated": "art_dated",
        "removed_at": "art_removed_at"}  # fmt: skip
TEXT_OF = ("title", "excerpt")
WATCHED = ", ".join((*KEYS, *TEXT_OF))
CHANGED = {
    "sqlite": " OR ".join(f"old.{c} IS NOT new.{c}" for c in (*KEYS, *TEXT_OF)),
    "postgresql": " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in (*KEYS, *TEXT_OF)),
}
SEP = {"sqlite": "char(31)", "postgresql": "chr(31)"}
# The SQLite index of the cards in scope (0017's, with art_text for the title and excerpt).
SCOPE = (
    "status", "status_changed_at", "art_removed_at", "art_quality", "art_heat", "art_dated",
    "created_at", "article_id", "art_topics", "art_text",
)  # fmt: skip


def text_of(dialect: str, row: str) -> str:
    """SQL for the ``art_text`` of the article ``row`` (a table alias, NEW or new)."""
    return (
        f"coalesce(lower({row}.title), '') || {SEP[dialect]} || coalesce(lower({row}.excerpt), '')"
    )


def topics_of(dialect: str, article_id: str) -> str:
    agg = "group_concat(key, char(31))" if dialect == "sqlite" else "string_agg(key, chr(31))"
    sep = SEP[dialect]
    return (
        f"(SELECT {sep} || {agg} || {sep} FROM article_topic t WHERE t.article_id = {article_id})"
    )


COLUMNS = ", ".join((*KEYS.values(), "art_text"))


def _sqlite_set_card() -> str:
    return (
        f"UPDATE post SET ({COLUMNS}, art_topics) = (SELECT "
        f"{', '.join(f'a.{c}' for c in KEYS)}, {text_of('sqlite', 'a')}, "
        f"{topics_of('sqlite', 'a.id')} FROM article a WHERE a.id = new.article_id) "
        "WHERE id = new.id;"
    )


SQLITE = (
    f"CREATE TRIGGER post_card_keys_insert AFTER INSERT ON post BEGIN {_sqlite_set_card()} END",
    "CREATE TRIGGER post_card_keys_repoint AFTER UPDATE OF article_id ON post BEGIN "
    f"{_sqlite_set_card()} END",
    f"CREATE TRIGGER article_card_keys AFTER UPDATE OF {WATCHED} ON article "
    f"WHEN {CHANGED['sqlite']} BEGIN UPDATE post SET ({COLUMNS}) = "
    f"({', '.join(f'new.{c}' for c in KEYS)}, {text_of('sqlite', 'new')}) "
    "WHERE article_id = new.id; END",
)
SQLITE_TRIGGERS = ("post_card_keys_insert", "post_card_keys_repoint", "article_card_keys")

POSTGRESQL = (
    "CREATE OR REPLACE FUNCTION post_card_keys() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"SELECT {', '.join(f'a.{c}' for c in KEYS)}, {text_of('postgresql', 'a')} "
    f"INTO {', '.join(f'NEW.{c}' for c in (*KEYS.values(), 'art_text'))} "
    "FROM article a WHERE a.id = NEW.article_id; "
    f"NEW.art_topics := {topics_of('postgresql', 'NEW.article_id')}; RETURN NEW; END $$",
    "CREATE OR REPLACE FUNCTION article_card_keys() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN UPDATE post SET ({COLUMNS}) = ({', '.join(f'NEW.{c}' for c in KEYS)}, "
    f"{text_of('postgresql', 'NEW')}) WHERE article_id = NEW.id; RETURN NULL; END $$",
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        # SQLite drops no column that an index or a trigger names.
        op.drop_index("ix_post_scope", table_name="post")
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_column("post", "art_title")
    op.drop_column("post", "art_excerpt")
    op.add_column("post", sa.Column("art_text", sa.String(), nullable=True))
    op.execute(
        f"UPDATE post SET art_text = (SELECT {text_of(dialect, 'a')} FROM article a "
        "WHERE a.id = post.article_id)"
    )
    for statement in SQLITE if dialect == "sqlite" else POSTGRESQL:
        op.execute(statement)
    if dialect == "sqlite":
        op.create_index("ix_post_scope", "post", list(SCOPE))


# --- back to 0018: migration 0017's columns, triggers and index, as it made them -----------

OLD_KEYS = {**KEYS, "title": "art_title", "excerpt": "art_excerpt"}
OLD_COLUMNS = ", ".join(OLD_KEYS.values())
OLD_SCOPE = (*SCOPE[:-1], "art_title", "art_excerpt")


def _old_sqlite_set_card() -> str:
    return (
        f"UPDATE post SET ({OLD_COLUMNS}, art_topics) = (SELECT "
        f"{', '.join(f'a.{c}' for c in OLD_KEYS)}, {topics_of('sqlite', 'a.id')} "
        "FROM article a WHERE a.id = new.article_id) WHERE id = new.id;"
    )


OLD_SQLITE = (
    f"CREATE TRIGGER post_card_keys_insert AFTER INSERT ON post BEGIN {_old_sqlite_set_card()} END",
    "CREATE TRIGGER post_card_keys_repoint AFTER UPDATE OF article_id ON post BEGIN "
    f"{_old_sqlite_set_card()} END",
    f"CREATE TRIGGER article_card_keys AFTER UPDATE OF {WATCHED} ON article "
    f"WHEN {CHANGED['sqlite']} BEGIN UPDATE post SET ({OLD_COLUMNS}) = "
    f"({', '.join(f'new.{c}' for c in OLD_KEYS)}) WHERE article_id = new.id; END",
)
OLD_POSTGRESQL = (
    "CREATE OR REPLACE FUNCTION post_card_keys() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"SELECT {', '.join(f'a.{c}' for c in OLD_KEYS)} "
    f"INTO {', '.join(f'NEW.{c}' for c in OLD_KEYS.values())} "
    "FROM article a WHERE a.id = NEW.article_id; "
    f"NEW.art_topics := {topics_of('postgresql', 'NEW.article_id')}; RETURN NEW; END $$",
    "CREATE OR REPLACE FUNCTION article_card_keys() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN UPDATE post SET ({OLD_COLUMNS}) = ({', '.join(f'NEW.{c}' for c in OLD_KEYS)}) "
    "WHERE article_id = NEW.id; RETURN NULL; END $$",
)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.drop_index("ix_post_scope", table_name="post")
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_column("post", "art_text")
    op.add_column("post", sa.Column("art_title", sa.String(), nullable=True))
    op.add_column("post", sa.Column("art_excerpt", sa.String(), nullable=True))
    op.execute(
        "UPDATE post SET (art_title, art_excerpt) = (SELECT a.title, a.excerpt FROM article a "
        "WHERE a.id = post.article_id)"
    )
    for statement in OLD_SQLITE if dialect == "sqlite" else OLD_POSTGRESQL:
        op.execute(statement)
    if dialect == "sqlite":
        op.create_index("ix_post_scope", "post", list(OLD_SCOPE))
