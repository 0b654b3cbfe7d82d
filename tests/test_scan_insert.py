"""New articles are inserted with one DBAPI executemany (storage.scan.write._insert) and
stored exactly as a Core insert stores them: every column, as the database holds it, on the
shared corpora and on both backends."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, insert
from sqlalchemy.engine import Engine

from storage.gitrepo import ContentRepo
from storage.models import Article, ArticleTopic
from storage.scan import scan, write
from tests.helpers import Newsroom
from tests.test_extract import CORPORA, CORPUS_FILES
from tests.test_scan_slices import ALL_MD, FIELDS, clear

NOW = datetime(2026, 12, 2, 7, 30, 1, 250, tzinfo=UTC)


def core_insert(conn: Connection, rows: list[tuple[object, ...]]) -> dict[str, int]:
    """The insert as it was: Core, RETURNING the ids."""
    stmt = insert(Article.__table__).returning(Article.__table__.c.id, Article.__table__.c.path)
    result = conn.execute(stmt, [dict(zip(write.INSERTED, row, strict=True)) for row in rows])
    return {r.path: r.id for r in result}


def raw_rows(engine: Engine) -> list[tuple[object, ...]]:
    """Every article and topic as the driver hands it back, ids by path."""
    with engine.connect() as conn:
        articles = conn.exec_driver_sql("SELECT * FROM article ORDER BY path").all()
        topics = conn.exec_driver_sql(
            "SELECT a.path, t.key, t.topic FROM article_topic t JOIN article a "
            "ON a.id = t.article_id ORDER BY a.path, t.key"
        ).all()
    return [tuple(row)[1:] for row in articles] + [tuple(row) for row in topics]


@pytest.mark.skipif(not CORPUS_FILES, reason="shared corpora not present")
def test_inserted_rows_are_those_of_a_core_insert(
    engine: Engine, newsroom: Newsroom, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    for path in CORPUS_FILES:
        newsroom.write(str(path.relative_to(CORPORA)), path.read_bytes())
    newsroom.commit()
    repo = ContentRepo(tmp_path / "clone.git", str(newsroom.remote), "main")
    repo.fetch()
    monkeypatch.setattr(write, "utcnow", lambda: NOW)
    monkeypatch.setattr(write, "WRITE_BATCH", 97)  # many batches, some not full

    result = scan(engine, repo, FIELDS, ALL_MD, workers=1)
    assert result.new == len(CORPUS_FILES)
    fast = raw_rows(engine)
    clear(engine)
    monkeypatch.setattr(write, "_insert", core_insert)
    scan(engine, repo, FIELDS, ALL_MD, workers=1)
    assert raw_rows(engine) == fast
    assert len(fast) > len(CORPUS_FILES)  # topics too
    with engine.connect() as conn:
        assert conn.execute(ArticleTopic.__table__.select().limit(1)).first() is not None
