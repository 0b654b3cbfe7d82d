"""article.content_hash, post.voted_hash/votes_since/changed_keys/changed_commit

An article that changes after the votes on its card goes back to a vote: the scan keeps a
fingerprint of what editors vote on (title, excerpt, URL, body...), the card keeps the one
its votes were cast on, and when they differ, from when votes count again and what changed.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("voted_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("votes_since", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True)
        )
        batch_op.add_column(
            sa.Column("changed_keys", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("changed_commit", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_column("changed_commit")
        batch_op.drop_column("changed_keys")
        batch_op.drop_column("votes_since")
        batch_op.drop_column("voted_hash")
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_column("content_hash")
