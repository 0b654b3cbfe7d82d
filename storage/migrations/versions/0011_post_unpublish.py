"""post_unpublish: published posts taken back, who asked, and the blob left behind

Unpublishing (``votes.unpublish`` reactions or ``curator unpublish``) flips a published
article's flag back in the next publish run. The operator who asked is kept for the commit's
``Unpublished-by:`` trailer, and the blob the file was left at, so the article is offered as a
candidate again only once it changes.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 23:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "post_unpublish",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("blob_sha", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["post.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("post_id"),
    )


def downgrade() -> None:
    op.drop_table("post_unpublish")
