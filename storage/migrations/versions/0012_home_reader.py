"""home_reader: who opened the Home tab lately, and the queue their view was built from

Readers were kept in each process's memory, and every replica watched every reader. In the
database, any replica's watcher (one per tick, under a lock) sends a reader's refresh once,
and readers who stop opening the tab are forgotten.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 03:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "home_reader",
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("desks", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("mark", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_index(op.f("ix_home_reader_opened_at"), "home_reader", ["opened_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_home_reader_opened_at"), table_name="home_reader")
    op.drop_table("home_reader")
