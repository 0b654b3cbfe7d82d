"""publishing: write-ahead batches and blocked-post holds

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 09:24:45.908417
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "publish_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("base_sha", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("commit_sha", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    with op.batch_alter_table("publish_batch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_publish_batch_state"), ["state"], unique=False)

    op.create_table(
        "publish_hold",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("blob_sha", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["post.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("post_id"),
    )


def downgrade() -> None:
    op.drop_table("publish_hold")
    with op.batch_alter_table("publish_batch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_publish_batch_state"))

    op.drop_table("publish_batch")
