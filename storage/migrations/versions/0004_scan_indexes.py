"""article indexes that follow what the scan reads and writes

Nothing looks an article up by blob sha, yet every changed file rewrote that index at a
random place, which doubled the pages a rescan dirties. The scan's closing counts (live
articles, and how many of them are broken) read a narrow covering index instead of the table.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 11:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_blob_sha"))
        batch_op.create_index("ix_article_live", ["removed_at", "error"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_index("ix_article_live")
        batch_op.create_index(batch_op.f("ix_article_blob_sha"), ["blob_sha"], unique=False)
