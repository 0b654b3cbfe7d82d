"""reminder: the voting round an editor was reminded of, and a DM Slack will never take

An article changed after the votes starts a new round on its card (``post.votes_since``):
votes from before it no longer count, so its editors are reminded once more. A reminder row
keeps the round it was claimed for (``''``: the card's first), and a claim for a later round
takes the row over. A row this finds for a card already sent back was claimed either in the
round the card is in now (after the change: it takes that round, so the editor is not
reminded twice) or in its first (before it: the editor hears of the new round). ``error``
keeps Slack's answer when it can never DM that editor (a user deleted or deactivated, a
bot): the claim stays, so the editor is not asked again for it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 03:00:00
"""

from collections.abc import Sequence
from datetime import UTC

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "round",
                sqlmodel.sql.sqltypes.AutoString(length=24),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(
            sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
    post = sa.table("post", sa.column("id", sa.Integer()), sa.column("votes_since", sa.String()))
    reminder = sa.table(
        "reminder",
        sa.column("post_id", sa.Integer()),
        sa.column("user_id", sa.String()),
        sa.column("claimed_at", sa.DateTime(timezone=True)),
        sa.column("round", sa.String()),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(reminder.c.post_id, reminder.c.user_id, reminder.c.claimed_at, post.c.votes_since)
        .join(post, post.c.id == reminder.c.post_id)
        .where(post.c.votes_since.is_not(None))
    ).all()
    for post_id, user, claimed_at, since in rows:
        # Slack timestamps and dates compare in Python: the same on SQLite and PostgreSQL.
        claimed = claimed_at if claimed_at.tzinfo else claimed_at.replace(tzinfo=UTC)
        if claimed.timestamp() >= float(since):
            conn.execute(
                sa.update(reminder)
                .where(reminder.c.post_id == post_id, reminder.c.user_id == user)
                .values(round=since)
            )


def downgrade() -> None:
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_column("error")
        batch_op.drop_column("round")
