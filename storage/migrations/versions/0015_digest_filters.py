"""digest filters: indexes for the topic filter and the cards by state

Topic keys with their article (the topic filter answered from the index alone), and the
cards by state and the time of their last change (the default view and ``since:``).
/digest's words are tested on each card's copy of its article's keys (migration 0017):
SQLite's FTS5 trigram index and PostgreSQL's ``pg_trgm`` were measured at a million
articles and were slower than that for the bench's phrases (README, Benchmarks).

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


def upgrade() -> None:
    with op.batch_alter_table("article_topic", schema=None) as batch_op:
        batch_op.drop_index("ix_article_topic_key")
        batch_op.create_index("ix_article_topic_key_article", ["key", "article_id"], unique=False)
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_index("ix_post_status")
        batch_op.create_index("ix_post_status_changed", ["status", "status_changed_at"])


def downgrade() -> None:
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_index("ix_post_status_changed")
        batch_op.create_index("ix_post_status", ["status"], unique=False)
    with op.batch_alter_table("article_topic", schema=None) as batch_op:
        batch_op.drop_index("ix_article_topic_key_article")
        batch_op.create_index("ix_article_topic_key", ["key"], unique=False)
