"""post: an index of the cards by state, desk and age; article: the unpublished by id (PostgreSQL)

``curator status`` counts each desk's cards waiting for votes or the publisher, and lists the
oldest 30. At a million articles a desk has tens of thousands of cards: through
``ix_post_desk_day`` every one was read for its state, for each desk (a third of a second
at 100,000 cards). This index holds the cards by state, desk and age: a desk's waiting cards
are a few short ranges of it, the oldest of each range first. The state comes first so that
counting a desk's cards not yet in Slack (of any state but skipped) stays with the smaller
``ix_post_unposted``.

The census of ``curator status`` counts the old unpublished articles that have a card. On
PostgreSQL that was the old range of ``ix_article_on_offer_by_age`` (900,000 entries at a
million articles) hashed against every card: a second. ``ix_article_on_offer_by_id`` holds
the same articles by id, with their dates: each card's article is one index-only probe
(a quarter of a second). SQLite finds an article by its rowid, which no index beats there.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 07:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The terms of ix_article_on_offer_by_age on PostgreSQL (migration 0016).
ON_OFFER = "published IS false AND error IS NULL AND removed_at IS NULL"


def upgrade() -> None:
    op.create_index(
        "ix_post_status_desk_created", "post", ["status", "desk", "created_at"], unique=False
    )
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_article_on_offer_by_id",
            "article",
            ["id", sa.text("coalesce(dated, added_at)")],
            unique=False,
            postgresql_where=sa.text(ON_OFFER),
            postgresql_include=["dated", "added_at"],  # what the age is read from
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_article_on_offer_by_id", table_name="article")
    op.drop_index("ix_post_status_desk_created", table_name="post")
