"""New rows reach the database as plain tuples through one executemany per table and batch
(storage.scan.bulk), stored exactly as a Core insert stores them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import event, insert, select
from sqlalchemy.engine import Engine

from storage.fields import FieldMap
from storage.gitrepo import ContentRepo
from storage.models import Article, ArticleTopic
from storage.pathfilter import PathFilter
from storage.scan import scan
from storage.scan.bulk import bulk_insert
from storage.scan.write import INSERTED
from tests.helpers import Newsroom, article

ARTICLE, TOPIC = Article.__table__, ArticleTopic.__table__


def _values(path: str) -> tuple[object, ...]:
    when = datetime(2021, 4, 29, 20, 46, 0, 123456, tzinfo=UTC)
    values = {
        "path": path, "blob_sha": "a" * 40, "title": "Überraschung “smart” 😀",
        "excerpt": None, "url": "https://x.y/z", "quality": 39.5, "heat": -1.0,
        "published": False, "dated": when, "provider_name": "GCN", "provider_domain": None,
        "image_url": None, "related_json": "[]", "error": None, "warning": "w",
        "content_hash": "{}", "first_seen_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "updated_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5))),
    }  # fmt: skip
    return tuple(values[name] for name in INSERTED)


def test_bulk_rows_are_stored_as_a_core_insert_stores_them(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(ARTICLE), [dict(zip(INSERTED, _values("core.md"), strict=True))])
        bulk_insert(conn, ARTICLE, INSERTED, [_values("bulk.md"), _values("bulk2.md")])
        ids = {p: i for p, i in conn.execute(select(ARTICLE.c.path, ARTICLE.c.id))}
        bulk_insert(conn, TOPIC, ("article_id", "key", "topic"), [(ids["bulk.md"], "ai", "AI")])
    with engine.connect() as conn:
        got = {r.path: r for r in conn.execute(select(ARTICLE))}
        # The text SQLite keeps for each timestamp, or PostgreSQL's own value.
        raw = {r.path: r for r in conn.exec_driver_sql("SELECT * FROM article")}
        assert conn.execute(select(TOPIC.c.topic)).scalars().all() == ["AI"]
    names = [name for name in INSERTED if name != "path"]
    for path in ("bulk.md", "bulk2.md"):
        assert [getattr(got[path], n) for n in names] == [getattr(got["core.md"], n) for n in names]
        assert [getattr(raw[path], n) for n in names] == [getattr(raw["core.md"], n) for n in names]


def test_a_full_scan_inserts_plain_rows_once_per_batch(
    engine: Engine, newsroom: Newsroom, content_repo: ContentRepo
) -> None:
    for i in range(30):
        newsroom.write(f"news/{i:02}.md", article(f"A {i}", published=i % 3 == 0, topics=("AI",)))
    newsroom.commit("thirty articles")
    calls: list[tuple[str, bool, int]] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO article"):
            count = len(parameters) if executemany else 1
            calls.append((statement.split(" (")[0], executemany, count))

    content_repo.fetch()
    event.listen(engine, "before_cursor_execute", record)
    try:
        result = scan(engine, content_repo, FieldMap(), PathFilter(["**/*.md"]), workers=1)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert result.new == 30
    # One executemany of every new row, no RETURNING; one of the candidates' topics.
    assert calls == [("INSERT INTO article", True, 30), ("INSERT INTO article_topic", True, 20)]


def test_one_value_in_two_columns_goes_through_each_columns_own_processor() -> None:
    """The cache of processed values is per column: the same object in two columns with
    different bind processors is converted by each, not by whichever came first."""
    from sqlalchemy import Column, Integer, MetaData, String, Table, TypeDecorator, create_engine

    class Upper(TypeDecorator):
        impl = String
        cache_ok = True

        def process_bind_param(self, value, dialect):
            return None if value is None else value.upper()

    class Lower(Upper):
        cache_ok = True

        def process_bind_param(self, value, dialect):
            return None if value is None else value.lower()

    table = Table(
        "pair", MetaData(), Column("id", Integer, primary_key=True),
        Column("up", Upper), Column("down", Lower),
    )  # fmt: skip
    engine = create_engine("sqlite://")
    table.metadata.create_all(engine)
    word = "MiXeD"
    with engine.begin() as conn:
        bulk_insert(conn, table, ("up", "down"), [(word, word)])
        assert conn.execute(select(table.c.up, table.c.down)).one() == ("MIXED", "mixed")


def test_a_full_scan_looks_up_the_ids_of_new_candidates_only(
    engine: Engine, newsroom: Newsroom, content_repo: ContentRepo
) -> None:
    """A new live article's id is never needed by the scan (its topics are not read, git
    does not age it): only the new candidates with topics or without a date are looked up."""
    for i in range(30):
        newsroom.write(f"news/{i:02}.md", article(f"A {i}", published=i % 3 == 0))
    newsroom.write("news/bare.md", article("Bare", topics=(), dated='""'))
    newsroom.write("news/dated.md", article("Dated", topics=()))
    newsroom.commit("thirty-two articles")
    looked_up: list[int] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith("SELECT article.path, article.id"):
            looked_up.append(len(parameters))

    content_repo.fetch()
    event.listen(engine, "before_cursor_execute", record)
    try:
        result = scan(engine, content_repo, FieldMap(), PathFilter(["**/*.md"]), workers=1)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert result.new == 32
    # 20 candidates with topics and one undated one; not the 10 live ones, nor "dated.md".
    assert sum(looked_up) == 21
    with engine.connect() as conn:
        topics = conn.execute(select(TOPIC.c.article_id)).scalars().all()
        added = conn.execute(select(ARTICLE.c.added_at).where(ARTICLE.c.path == "news/bare.md"))
    assert len(topics) == 20
    assert added.scalar_one() is not None  # aged by the commit that added it
