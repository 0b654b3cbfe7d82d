"""Articles as the scan keeps them: the lookups other parts need besides the candidate pool
(storage/queries.py reads the pool and the article views)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine

from storage.models import Article

ARTICLE = Article.__table__


def ids_by_path(engine: Engine) -> dict[str, int]:
    """Every article's id, by its path in the content repo."""
    with engine.connect() as conn:
        return {path: id_ for id_, path in conn.execute(select(ARTICLE.c.id, ARTICLE.c.path))}
