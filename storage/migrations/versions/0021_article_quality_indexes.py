"""article: drop ix_article_quality and ix_article_candidate, which no statement needs

Both date from the first schema, when the day's candidates were read by quality. Today the
pool is read by age (``ix_article_on_offer_by_age``, migration 0016) and nothing orders or
filters articles by quality first. Every statement that reads ``article`` was explained on
both databases (over the storage tests, and at 100,000 articles): SQLite never used either;
PostgreSQL used them in the pool's read only when a desk sets ``min_quality``, and was as
fast or faster without them (4.5 -> 2.8 ms at 7 days and min 90; 244 -> 223 ms at 400 days
and min 50) but for one corner (400 days and min 99: 11.7 -> 16.5 ms). Each cost every
inserted row and every changed quality an index write: a full scan of 20,000 articles on
SQLite spends 0.16 s less CPU without them (2.50 -> 2.34 s, medians of five, alternating).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 14:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_article_quality", table_name="article")
    op.drop_index("ix_article_candidate", table_name="article")


def downgrade() -> None:
    op.create_index("ix_article_candidate", "article", ["published", "quality"])
    op.create_index("ix_article_quality", "article", ["quality"])
