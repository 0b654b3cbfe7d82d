"""post.window_from, post_unpublish.left_hash

A card sent back to a vote (its article changed after the votes) gets a full voting window
from then: ``window_from`` is when its window started again (None, as for every card this
finds: at ``created_at``, its posting). An unpublished article is offered again only
once what editors vote on changes: ``left_hash`` is the fingerprint of its file as
unpublishing left it, so a collector's new quality or heat is no change.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.add_column(sa.Column("window_from", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("post_unpublish", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("left_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("post_unpublish", schema=None) as batch_op:
        batch_op.drop_column("left_hash")
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_column("window_from")
