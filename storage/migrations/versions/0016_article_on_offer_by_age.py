"""article: a partial index of the unpublished articles by age; post: of the unposted cards

``curator candidates``, the post job's plan and ``curator status`` read the unpublished
articles of the last days and count the older ones. At a million articles, reading the fresh
ones through ``ix_article_dated`` visited every undated article's row too, and counting the
old ones read the whole table. This index holds only the unpublished, readable articles in
the repo, by their age (their date, else when their file was added): the fresh ones are a
short range of it, and the old ones are counted from it without the table. Its terms are
written as ``storage.models.on_offer_by_age`` writes them for each database, so each
matches them.

``curator status`` also counts each desk's cards planned and not yet in Slack: a few rows,
found through ``ix_post_desk_day`` among every card of the desk, each read for its ``ts``.
``ix_post_unposted`` holds those few only.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATISTICS = "st_article_age"
ON_OFFER = {
    # SQLite, never analyzed: no other index serves these terms (storage.models)
    "sqlite": "coalesce(published, 1) IS 0 AND coalesce(error, NULL) IS NULL "
    "AND coalesce(removed_at, NULL) IS NULL",
    "postgresql": "published IS false AND error IS NULL AND removed_at IS NULL",
}


def upgrade() -> None:
    op.create_index(
        "ix_article_on_offer_by_age",
        "article",
        [sa.text("coalesce(dated, added_at)")],
        unique=False,
        sqlite_where=sa.text(ON_OFFER["sqlite"]),
        postgresql_where=sa.text(ON_OFFER["postgresql"]),
        # What the pool read and the counts of old articles read of an article: PostgreSQL
        # answers them from the index alone, not from rows spread over the whole table.
        postgresql_include=["id", "dated", "added_at", "url", "quality", "heat"],
    )
    op.create_index(
        "ix_post_unposted",
        "post",
        ["desk"],
        unique=False,
        sqlite_where=sa.text("ts IS NULL"),
        postgresql_where=sa.text("ts IS NULL"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # PostgreSQL keeps no statistics of a partial index's expression: without these it
        # guesses a third of the table is fresh, and reads the whole table (PostgreSQL 14+).
        op.execute(f"CREATE STATISTICS {STATISTICS} ON (coalesce(dated, added_at)) FROM article")


def downgrade() -> None:
    op.drop_index("ix_post_unposted", table_name="post")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP STATISTICS {STATISTICS}")
    op.drop_index("ix_article_on_offer_by_age", table_name="article")
