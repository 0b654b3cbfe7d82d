"""The URLs more than one article holds (``url_twin``): kept in step by triggers through
every write of an article, filled by the migration, and what the census reads to find the
old copies of stories done (not a pass over every URL). SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, insert, update

from bot.candidate_pool import census
from bot.rules.candidates import CandidateRules
from storage import migrate, url_twins
from storage.db import make_engine
from storage.models import Article
from tests.test_candidate_reads import POOL, statements
from tests.test_candidates import NOW, _ages

ARTICLE = Article.__table__
WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def _add(conn, article_id: int, url: str | None) -> None:
    conn.execute(
        insert(ARTICLE).values(
            id=article_id, path=f"a/{article_id}.md", blob_sha="0" * 40, url=url,
            published=False, first_seen_at=WHEN, updated_at=WHEN,
        )
    )  # fmt: skip


def _set_url(conn, article_id: int, url: str | None) -> None:
    conn.execute(update(ARTICLE).where(ARTICLE.c.id == article_id).values(url=url))


def test_every_write_of_an_article_keeps_the_urls_held_twice(engine):
    steps = [
        (lambda c: _add(c, 1, "https://x/a"), []),
        (lambda c: _add(c, 2, "https://x/a"), ["https://x/a"]),
        (lambda c: _add(c, 3, None), ["https://x/a"]),
        (lambda c: _add(c, 4, "https://x/a"), ["https://x/a"]),  # three holders
        (lambda c: _set_url(c, 4, "https://x/b"), ["https://x/a"]),
        (lambda c: _set_url(c, 2, "https://x/b"), ["https://x/b"]),  # a: one holder left
        (lambda c: _set_url(c, 3, "https://x/a"), ["https://x/a", "https://x/b"]),
        (lambda c: _set_url(c, 3, "https://x/a"), ["https://x/a", "https://x/b"]),  # the same
        (lambda c: c.execute(update(ARTICLE).values(title="t")), ["https://x/a", "https://x/b"]),
        (lambda c: c.execute(delete(ARTICLE).where(ARTICLE.c.id == 1)), ["https://x/b"]),
        (lambda c: _set_url(c, 4, None), []),
    ]
    for number, (write, expected) in enumerate(steps):
        with engine.begin() as conn:
            write(conn)
        with engine.connect() as conn:
            assert url_twins.shared_urls(conn) == expected, number
            assert url_twins.out_of_step(conn) == (set(), set()), number


def test_the_migration_fills_the_table_from_the_articles_there(db_url):
    engine = make_engine(db_url)
    migrate.upgrade(engine, "0018")
    with engine.begin() as conn:
        for article_id, url in enumerate(["https://x/a", "https://x/a", "https://x/b", None], 1):
            _add(conn, article_id, url)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert url_twins.shared_urls(conn) == ["https://x/a"]
    with engine.begin() as conn:  # and the triggers are there: a bulk load then fills it
        conn.execute(delete(url_twins.URL_TWIN))
        url_twins.fill(conn)
        assert url_twins.shared_urls(conn) == ["https://x/a"]
    engine.dispose()


def test_the_census_finds_the_urls_held_twice_in_their_table(engine):
    """Not a pass over the index of every article's URL (a million entries at a million
    articles) grouped to find the few held twice; the same counts (tests/test_candidates.py
    counts the copies themselves)."""
    _ages(engine)  # old-copy.md repeats live.md, published
    with statements(engine) as seen, engine.connect() as conn:
        counted = census(conn, CandidateRules(max_age_days=7), now=NOW)
    assert counted.same_story == 1
    assert not [s for s, _ in seen if "HAVING" in s]
    assert [s for s, _ in seen if "FROM url_twin" in s]


def test_the_pool_asks_the_table_whether_an_article_s_url_is_held_twice(engine):
    """Before looking for a story done at its URL: one probe of a handful of rows, not a
    count of the article's URL in the index of every URL, for each fresh article."""
    _ages(engine)
    with statements(engine) as seen, engine.connect() as conn:
        census(conn, CandidateRules(max_age_days=7), now=NOW)
    (pool,) = [s for s, _ in seen if POOL.search(s)]
    assert "FROM url_twin" in pool and "AS twin" not in pool
