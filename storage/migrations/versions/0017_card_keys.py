"""post: a copy of what /digest filters and sorts a card's article by, kept in step by triggers

``/digest`` tests each card in scope (tens of thousands at a million articles): removed?
quality? topics? words? and sorts by quality, heat and date. Read from ``article``, each card
was a random lookup into a million rows. Each card now carries those values (``art_*``) and
its topic keys (``art_topics``), so the query reads ``post`` alone (storage/card_keys.py),
and ``ix_post_best`` holds the best-first order over the cards. On SQLite, ``ix_post_scope``
holds the cards by state and time of their last change with every copied value: a digest
reads a run of it and no row of the table.

Triggers keep the copies in step, in the transaction of the write: a card's are set when it
is inserted (or pointed at another article), an article's columns copied to its card when
they change, its topics when a topic row is inserted, updated or deleted. This migration
fills them for the cards already there.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 07:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here, as this migration made them (storage/card_keys.py has moved on since):
# article column -> its copy on post.
COPIED = {
    "quality": "art_quality",
    "heat": "art_heat",
    "dated": "art_dated",
    "removed_at": "art_removed_at",
    "title": "art_title",
    "excerpt": "art_excerpt",
}


def topics_expr(dialect: str, article_id: str) -> str:
    """SQL for a card's ``art_topics``: every topic key of ``article_id`` between two U+001F."""
    agg = "group_concat(key, char(31))" if dialect == "sqlite" else "string_agg(key, chr(31))"
    sep = "char(31)" if dialect == "sqlite" else "chr(31)"
    return (
        f"(SELECT {sep} || {agg} || {sep} FROM article_topic t WHERE t.article_id = {article_id})"
    )


COLUMNS = ", ".join(COPIED.values())
FROM_ARTICLE = ", ".join(f"a.{c}" for c in COPIED)
CHANGED = {
    "sqlite": " OR ".join(f"old.{c} IS NOT new.{c}" for c in COPIED),
    "postgresql": " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in COPIED),
}
WATCHED = ", ".join(COPIED)
SCOPE = (
    "status", "status_changed_at", "art_removed_at", "art_quality", "art_heat", "art_dated",
    "created_at", "article_id", "art_topics", "art_title", "art_excerpt",
)  # fmt: skip


def _sqlite_set_card(post_id: str, article_id: str) -> str:
    return (
        f"UPDATE post SET ({COLUMNS}, art_topics) = (SELECT {FROM_ARTICLE}, "
        f"{topics_expr('sqlite', 'a.id')} FROM article a WHERE a.id = {article_id}) "
        f"WHERE id = {post_id};"
    )


def _sqlite_set_topics(article_id: str) -> str:
    return (
        f"UPDATE post SET art_topics = {topics_expr('sqlite', article_id)} "
        f"WHERE article_id = {article_id};"
    )


SQLITE = (
    "CREATE TRIGGER post_card_keys_insert AFTER INSERT ON post BEGIN "
    f"{_sqlite_set_card('new.id', 'new.article_id')} END",
    "CREATE TRIGGER post_card_keys_repoint AFTER UPDATE OF article_id ON post BEGIN "
    f"{_sqlite_set_card('new.id', 'new.article_id')} END",
    f"CREATE TRIGGER article_card_keys AFTER UPDATE OF {WATCHED} ON article "
    f"WHEN {CHANGED['sqlite']} BEGIN UPDATE post SET ({COLUMNS}) = "
    f"({', '.join(f'new.{c}' for c in COPIED)}) WHERE article_id = new.id; END",
    "CREATE TRIGGER article_topic_card_keys_insert AFTER INSERT ON article_topic BEGIN "
    f"{_sqlite_set_topics('new.article_id')} END",
    "CREATE TRIGGER article_topic_card_keys_delete AFTER DELETE ON article_topic BEGIN "
    f"{_sqlite_set_topics('old.article_id')} END",
    "CREATE TRIGGER article_topic_card_keys_update AFTER UPDATE ON article_topic BEGIN "
    f"{_sqlite_set_topics('old.article_id')} {_sqlite_set_topics('new.article_id')} END",
)
SQLITE_TRIGGERS = (
    "post_card_keys_insert", "post_card_keys_repoint", "article_card_keys",
    "article_topic_card_keys_insert", "article_topic_card_keys_delete",
    "article_topic_card_keys_update",
)  # fmt: skip

PG_TOPICS = topics_expr("postgresql", "{id}")
POSTGRESQL = (
    "CREATE FUNCTION post_card_keys() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"SELECT {FROM_ARTICLE} INTO {', '.join(f'NEW.{c}' for c in COPIED.values())} "
    "FROM article a WHERE a.id = NEW.article_id; "
    f"NEW.art_topics := {PG_TOPICS.format(id='NEW.article_id')}; RETURN NEW; END $$",
    "CREATE TRIGGER post_card_keys_insert BEFORE INSERT ON post FOR EACH ROW "
    "EXECUTE FUNCTION post_card_keys()",
    "CREATE TRIGGER post_card_keys_repoint BEFORE UPDATE OF article_id ON post FOR EACH ROW "
    "WHEN (OLD.article_id IS DISTINCT FROM NEW.article_id) EXECUTE FUNCTION post_card_keys()",
    "CREATE FUNCTION article_card_keys() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"UPDATE post SET ({COLUMNS}) = ({', '.join(f'NEW.{c}' for c in COPIED)}) "
    "WHERE article_id = NEW.id; RETURN NULL; END $$",
    f"CREATE TRIGGER article_card_keys AFTER UPDATE OF {WATCHED} ON article FOR EACH ROW "
    f"WHEN ({CHANGED['postgresql']}) EXECUTE FUNCTION article_card_keys()",
    "CREATE FUNCTION article_topic_card_keys() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP <> 'DELETE' THEN UPDATE post SET art_topics = "
    f"{PG_TOPICS.format(id='NEW.article_id')} WHERE article_id = NEW.article_id; END IF; "
    "IF TG_OP <> 'INSERT' THEN UPDATE post SET art_topics = "
    f"{PG_TOPICS.format(id='OLD.article_id')} WHERE article_id = OLD.article_id; END IF; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER article_topic_card_keys AFTER INSERT OR UPDATE OR DELETE ON article_topic "
    "FOR EACH ROW EXECUTE FUNCTION article_topic_card_keys()",
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.add_column(sa.Column("art_quality", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("art_heat", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("art_dated", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("art_removed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("art_title", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("art_excerpt", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("art_topics", sa.String(), nullable=True))
    op.execute(
        f"UPDATE post SET ({COLUMNS}, art_topics) = (SELECT {FROM_ARTICLE}, "
        f"{topics_expr(dialect, 'post.article_id')} FROM article a WHERE a.id = post.article_id)"
    )
    for statement in SQLITE if dialect == "sqlite" else POSTGRESQL:
        op.execute(statement)
    # The best-first order over the cards (quality, heat, date; newest card on ties):
    # a digest of thousands of matches reads the first few in order.
    op.create_index(
        "ix_post_best", "post", ["art_quality", "art_heat", "art_dated", "id"],
        postgresql_ops={"art_quality": "DESC NULLS LAST", "art_heat": "DESC NULLS LAST",
                        "art_dated": "DESC NULLS LAST", "id": "DESC"},
    )  # fmt: skip
    if dialect == "sqlite":
        # The cards in scope (by state and time of their last change) with every value a
        # digest tests them by: a query reads a run of this index, never a row of the table
        # (row reads, spread over the table, were most of the cost). PostgreSQL's index
        # entries are limited to a third of a page, which a long excerpt would pass.
        op.create_index("ix_post_scope", "post", list(SCOPE))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.drop_index("ix_post_scope", table_name="post")
    op.drop_index("ix_post_best", table_name="post")
    if dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    else:
        op.execute("DROP TRIGGER post_card_keys_insert ON post")
        op.execute("DROP TRIGGER post_card_keys_repoint ON post")
        op.execute("DROP TRIGGER article_card_keys ON article")
        op.execute("DROP TRIGGER article_topic_card_keys ON article_topic")
        for name in ("post_card_keys", "article_card_keys", "article_topic_card_keys"):
            op.execute(f"DROP FUNCTION {name}()")
    with op.batch_alter_table("post", schema=None) as batch_op:
        for name in ("art_topics", *reversed(COPIED.values())):
            batch_op.drop_column(name)
