"""post.window_from, post_unpublish.left_hash

A card sent back to a vote (its article changed after the votes) gets a full voting window
from then: ``window_from`` is when its window started again (None: at ``created_at``, its
posting). A card this finds already sent back (``votes_since``, the change as a Slack
timestamp) gets its window from the change, so the upgrade does not expire it. An
unpublished article is offered again only once what editors vote on changes: ``left_hash``
is the fingerprint of its file as unpublishing left it, so a collector's new quality or heat
is no change.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 03:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

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
    post = sa.table(
        "post",
        sa.column("id", sa.Integer()),
        sa.column("votes_since", sa.String()),
        sa.column("window_from", sa.DateTime(timezone=True)),
    )
    conn = op.get_bind()
    # A Slack timestamp to a date in Python: the same on SQLite and PostgreSQL.
    reopened = conn.execute(
        sa.select(post.c.id, post.c.votes_since).where(post.c.votes_since.is_not(None))
    ).all()
    for post_id, since in reopened:
        changed = datetime.fromtimestamp(float(since), UTC)
        conn.execute(sa.update(post).where(post.c.id == post_id).values(window_from=changed))


def downgrade() -> None:
    with op.batch_alter_table("post_unpublish", schema=None) as batch_op:
        batch_op.drop_column("left_hash")
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_column("window_from")
