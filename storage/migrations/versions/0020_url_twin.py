"""url_twin: the URLs more than one article holds, kept by triggers on article; ix_article_live
with published

The census of ``curator status`` counts the old unpublished articles that repeat a story
already published or posted (same URL). It found the URLs held twice by a pass over the
index of every URL: a million entries at a million articles (0.2-0.4 s) for a handful of
URLs. This table holds that handful; triggers on ``article`` keep it in step in the
transaction of each insert, URL change and delete (one probe of the index on URL per
write), and this migration fills it from the articles there (storage/url_twins.py).

The census also counted the old unpublished articles, a range of 900,000 entries of the index
by age, beside the count of the articles in the repo (``ix_article_live``, a million). With
``published`` in that index, one pass counts the articles, the unreadable and the ones on
offer; the old ones are those on offer less the fresh ones the pool read.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 10:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HELD_TWICE = "SELECT url FROM article WHERE url IS NOT NULL GROUP BY url HAVING count(*) > 1"


def _holders(url: str) -> str:
    """How many articles hold ``url`` (an SQL expression), counted up to 2."""
    return f"(SELECT count(*) FROM (SELECT 1 FROM article WHERE url = {url} LIMIT 2) h)"


SQLITE = (
    # An insert (a million at a first scan): one probe in the trigger's condition, no
    # statement run unless the URL is held twice.
    "CREATE TRIGGER article_url_twin_insert AFTER INSERT ON article "
    "WHEN new.url IS NOT NULL AND EXISTS "
    "(SELECT 1 FROM article WHERE url = new.url AND id != new.id) BEGIN "
    "INSERT OR IGNORE INTO url_twin (url) VALUES (new.url); END",
    "CREATE TRIGGER article_url_twin_update AFTER UPDATE OF url ON article "
    "WHEN old.url IS NOT new.url BEGIN "
    "INSERT OR IGNORE INTO url_twin (url) SELECT new.url "
    f"WHERE new.url IS NOT NULL AND {_holders('new.url')} > 1; "
    f"DELETE FROM url_twin WHERE url = old.url AND {_holders('old.url')} < 2; END",
    "CREATE TRIGGER article_url_twin_delete AFTER DELETE ON article "
    "WHEN old.url IS NOT NULL BEGIN "
    f"DELETE FROM url_twin WHERE url = old.url AND {_holders('old.url')} < 2; END",
)
SQLITE_TRIGGERS = ("article_url_twin_insert", "article_url_twin_update", "article_url_twin_delete")

POSTGRESQL = (
    # NEW is null on a delete and OLD on an insert: each is read under its own IF.
    "CREATE FUNCTION article_url_twin() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP = 'UPDATE' THEN IF OLD.url IS NOT DISTINCT FROM NEW.url THEN RETURN NULL; "
    "END IF; END IF; "
    f"IF TG_OP <> 'DELETE' THEN IF NEW.url IS NOT NULL AND {_holders('NEW.url')} > 1 THEN "
    "INSERT INTO url_twin (url) VALUES (NEW.url) ON CONFLICT DO NOTHING; END IF; END IF; "
    f"IF TG_OP <> 'INSERT' THEN IF OLD.url IS NOT NULL AND {_holders('OLD.url')} < 2 THEN "
    "DELETE FROM url_twin WHERE url = OLD.url; END IF; END IF; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER article_url_twin AFTER INSERT OR UPDATE OF url OR DELETE ON article "
    "FOR EACH ROW EXECUTE FUNCTION article_url_twin()",
)


def upgrade() -> None:
    op.drop_index("ix_article_live", table_name="article")
    op.create_index("ix_article_live", "article", ["removed_at", "error", "published"])
    op.create_table("url_twin", sa.Column("url", sa.String(), nullable=False, primary_key=True))
    op.execute(f"INSERT INTO url_twin (url) {HELD_TWICE}")
    for statement in SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    else:
        op.execute("DROP TRIGGER article_url_twin ON article")
        op.execute("DROP FUNCTION article_url_twin()")
    op.drop_table("url_twin")
    op.drop_index("ix_article_live", table_name="article")
    op.create_index("ix_article_live", "article", ["removed_at", "error"])
