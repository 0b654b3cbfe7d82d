"""digest search: a trigram index for words (SQLite), indexes for each filter and order

``/digest`` matches each word anywhere in the title or the excerpt, case-insensitively
("olice" finds "Police"): a substring, not a word, so a word index would change the answers.
A trigram index answers substrings: on SQLite an FTS5 table with the trigram tokenizer over
the same two columns (external content: it holds the index, not a copy), kept in step with
``article`` by triggers, so in the same transaction as the scan's writes; this migration
fills it from the articles already there. PostgreSQL gets none: ``pg_trgm`` indexes were
measured and left out (storage/text_index.py says why).

Besides: the best-first order as an index (quality, heat, date), so a digest of thousands of
matches reads the first few in order; on PostgreSQL, the columns a card's article is checked
and sorted by, beside its id; topic keys with their article (the topic filter
answered from the index alone); and the cards by state and time of their last change (the
default view and ``since:``).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 06:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite's FTS5 table and the triggers that keep it in step with article (storage/text_index.py
# names them for the queries). A 'delete' gives the values that were indexed: the old row's.
SQLITE_TEXT_INDEX = (
    "CREATE VIRTUAL TABLE article_text USING fts5(title, excerpt, content='article', "
    "content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER article_text_insert AFTER INSERT ON article BEGIN "
    "INSERT INTO article_text (rowid, title, excerpt) VALUES (new.id, new.title, new.excerpt); "
    "END",
    "CREATE TRIGGER article_text_delete AFTER DELETE ON article BEGIN "
    "INSERT INTO article_text (article_text, rowid, title, excerpt) "
    "VALUES ('delete', old.id, old.title, old.excerpt); END",
    "CREATE TRIGGER article_text_update AFTER UPDATE OF id, title, excerpt ON article BEGIN "
    "INSERT INTO article_text (article_text, rowid, title, excerpt) "
    "VALUES ('delete', old.id, old.title, old.excerpt); "
    "INSERT INTO article_text (rowid, title, excerpt) VALUES (new.id, new.title, new.excerpt); "
    "END",
)


def upgrade() -> None:
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.create_index(
            "ix_article_best",
            ["quality", "heat", "dated"],
            unique=False,
            postgresql_ops={"quality": "DESC NULLS LAST", "heat": "DESC NULLS LAST",
                            "dated": "DESC NULLS LAST"},
            # PostgreSQL walks it without reading the rows (SQLite's index holds the rowid).
            postgresql_include=["id", "removed_at"],
        )  # fmt: skip
    with op.batch_alter_table("article_topic", schema=None) as batch_op:
        batch_op.drop_index("ix_article_topic_key")
        batch_op.create_index("ix_article_topic_key_article", ["key", "article_id"], unique=False)
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_index("ix_post_status")
        batch_op.create_index("ix_post_status_changed", ["status", "status_changed_at"])
    if op.get_bind().dialect.name == "postgresql":
        # A card's article checked (removed?) and sorted (quality, heat, date) from a narrow
        # index, not its wide row. SQLite's table is already keyed by id.
        op.create_index(
            "ix_article_card_keys", "article", ["id"],
            postgresql_include=["quality", "heat", "dated", "removed_at"],
        )  # fmt: skip
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_TEXT_INDEX:
            op.execute(statement)
        op.execute("INSERT INTO article_text (article_text) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_article_card_keys", table_name="article")
    if op.get_bind().dialect.name == "sqlite":
        for name in ("article_text_update", "article_text_delete", "article_text_insert"):
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE article_text")
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_index("ix_post_status_changed")
        batch_op.create_index("ix_post_status", ["status"], unique=False)
    with op.batch_alter_table("article_topic", schema=None) as batch_op:
        batch_op.drop_index("ix_article_topic_key_article")
        batch_op.create_index("ix_article_topic_key", ["key"], unique=False)
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_index("ix_article_best")
