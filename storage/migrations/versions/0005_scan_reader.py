"""scan state: which reading of the articles the rows hold

A row keeps what the scan read of its file with the field map and extraction rules of the
time, and a changed file is now often read only in the columns its change feeds. When
``fields:`` or those rules change, every article must be read again: the scan compares this
fingerprint and re-reads the whole repo once.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scan_state", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reader", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("scan_state", schema=None) as batch_op:
        batch_op.drop_column("reader")
