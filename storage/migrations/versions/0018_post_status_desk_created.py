"""post: an index of the cards by state, desk and age

``curator status`` counts each desk's cards waiting for votes or the publisher, and lists the
oldest 30. At a million articles a desk has tens of thousands of cards: through
``ix_post_desk_day`` every one was read for its state, for each desk (a third of a second
at 100,000 cards). This index holds the cards by state, desk and age: a desk's waiting cards
are a few short ranges of it, the oldest of each range first. The state comes first so that
counting a desk's cards not yet in Slack (of any state but skipped) stays with the smaller
``ix_post_unposted``.

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-02 07:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_post_status_desk_created", "post", ["status", "desk", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_post_status_desk_created", table_name="post")
