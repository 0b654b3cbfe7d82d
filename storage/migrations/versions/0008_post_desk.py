"""post: the desk a card belongs to

A newsroom runs several desks, each with its own channel, editors and rules; a card is
planned for one of them and stays there when the desks' topics change. Cards from before
desks have none: the bot gives them to its default desk when it starts
(``storage.posts.rehome_cards``), since which desk is the default only the config knows.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("desk", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
        batch_op.create_index("ix_post_desk_day", ["desk", "day"])


def downgrade() -> None:
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_index("ix_post_desk_day")
        batch_op.drop_column("desk")
