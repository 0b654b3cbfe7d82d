"""reminder: the voting round an editor was reminded of, and a DM Slack will never take

An article changed after the votes starts a new round on its card (``post.votes_since``):
votes from before it no longer count, so its editors are reminded once more. A reminder row
keeps the round it was claimed for (``''``: the card's first), and a claim for a later round
takes the row over. ``error`` keeps Slack's answer when it can never DM that editor (a user
deleted or deactivated, a bot): the claim stays, so the editor is not asked again for it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 03:00:00
"""

from collections.abc import Sequence

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


def downgrade() -> None:
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_column("error")
        batch_op.drop_column("round")
