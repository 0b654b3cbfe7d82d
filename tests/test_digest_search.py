"""The digest's words answer the plain test on both databases, SQLite's from one index of the
cards in scope (migration 0017); the search follows every insert, update and delete of an
article; a digest of more matches than it counts says so, and still shows the best first;
the migration finds the cards already there."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, event, insert, text, update
from sqlalchemy.engine import Engine

import bot.slack.digest_cards as digest_cards
from bot.cli.terminal import render_blocks
from bot.rules.digest_query import parse_digest_query
from bot.slack.digest import answer_digest
from bot.slack.digest_cards import run_digest
from storage import migrate
from storage.db import make_engine
from storage.models import Article
from storage.post_views import find_posts
from tests.test_digest import add_card, make_config, titles

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
ALL = ("open", "approved", "blocked", "published", "rejected", "expired")
CARDS = [
    ("Police face search audit", "The city council asks for an audit.", 90),
    ("Policing the police", "Oversight of facial recognition by the police.", 80),
    ("Café owners win a naïve résumé case", "A court ruling on CAFÉ signs.", 70),
    ("AI in the city", "Council votes on a pilot of facial recognition.", 60),
    ("Data privacy rules", "Lawmakers draft 100% opt-in rules for data_sharing.", 50),
    ("Broadband map", "Recognition of facial features is not part of it.", 40),
    ("Water grid", None, 30),
]
# Infix, any case, shorter than a trigram, a phrase, the phrase reversed (no
# match), LIKE's wildcards taken literally, non-ASCII letters in either case.
WORDS = [
    ("olice",), ("POLICE",), ("ai",), ("Ai", "city"), ("a",), ("facial recognition",),
    ("recognition facial",), ("recognition of facial",), ("100%",), ("%",), ("_",),
    ("data_sharing",), ("café",), ("CAFÉ",), ("résumé",), ("ice", "audit"), ("zzz",),
    ("RÉSUMÉ CASE",), ("naÏve",), ("on café signs",), ("audit\x1fthe",),
]  # fmt: skip


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        for title, excerpt, quality in CARDS:
            add_card(conn, title=title, excerpt=excerpt, quality=quality, now=NOW)
    yield engine
    engine.dispose()


def _search(engine: Engine, words: tuple[str, ...]) -> list[str | None]:
    with engine.connect() as conn:
        page = find_posts(conn, statuses=ALL, words=words, limit=50, count_up_to=1000)
    assert page.total == len(page.posts) and not page.capped
    return [p.article.title for p in page.posts]


def _fold(text: str, dialect: str) -> str:
    """Case folded as each database's ILIKE folds it: every script on PostgreSQL, ASCII
    letters only on SQLite."""
    if dialect == "sqlite":
        return "".join(c.lower() if c.isascii() else c for c in text)
    return text.lower()


@pytest.mark.parametrize("words", WORDS, ids=" ".join)
def test_words_answer_the_plain_meaning(engine: Engine, words):
    """Found in the title or in the excerpt, never across the two, as ILIKE finds them."""
    found = _search(engine, words)
    d = engine.dialect.name
    expected = [
        t
        for t, x, _ in CARDS
        if all(any(_fold(w, d) in _fold(part or "", d) for part in (t, x)) for w in words)
    ]
    assert found == expected


def test_a_word_is_found_in_the_text_lowered_when_written(engine: Engine, tmp_path):
    """Each word is looked for in the card's title and excerpt as lowered once, when written
    (``art_text``, migration 0019), not by ILIKE, which lowers every card's text on every
    query. On PostgreSQL no row's text is lowered (``lower(post...)``) or ILIKE'd (``~~*``),
    and the words are tested last, on the cards that passed every other test."""
    config = make_config(tmp_path, str(engine.url))
    seen: list[tuple[str, Any]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    with engine.connect() as conn:
        query = parse_digest_query('police "FACIAL Recognition" min:10', NOW, UTC)
        assert titles(run_digest(conn, config, query, now=NOW)) == ["Policing the police"]
    event.remove(engine, "before_cursor_execute", keep)
    statement, parameters = seen[0]
    assert "ILIKE" not in statement.upper() and "art_title" not in statement
    if engine.dialect.name == "sqlite":
        assert statement.count("instr(post.art_text, lower(") == 2, statement
        return
    assert statement.count("scope.art_text LIKE lower(") == 2, statement
    with engine.begin() as conn:
        explained = conn.exec_driver_sql(f"EXPLAIN VERBOSE {statement}", parameters)
        plan = [r[0] for r in explained]
    # The words lowered once, when planned; the cards' text as written.
    words = [line for line in plan if "~~ '%facial recognition%'::text" in line]
    assert words and "~~*" not in "\n".join(plan), plan
    assert not re.search(r"lower\(\(?post", "\n".join(plan)), plan
    # Not in one filter with the other tests (PostgreSQL would order the LIKE first).
    assert all("status" not in line and "art_quality" not in line for line in words), plan


def test_sqlite_reads_the_cards_in_scope_from_one_index(engine: Engine, tmp_path):
    """EXPLAIN QUERY PLAN of the search a digest runs: words, a phrase, and a word with topic,
    state, time and quality filters are tested on the cards from ``ix_post_scope`` alone
    (migration 0017), never a row of ``post`` or ``article`` for a card not shown."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's index entries cannot hold an excerpt (migration 0017)")
    config = make_config(tmp_path, str(engine.url))
    seen: list[tuple[str, Any]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    for typed in ("olice", '"facial recognition"', "topic:AI status:all since:60d min:20 audit"):
        seen.clear()
        event.listen(engine, "before_cursor_execute", keep)
        with engine.connect() as conn:
            run_digest(conn, config, parse_digest_query(typed, NOW, UTC), now=NOW)
        event.remove(engine, "before_cursor_execute", keep)
        statement, parameters = seen[0]
        with engine.begin() as conn:
            explained = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plan = "\n".join(str(r[-1]) for r in explained)
        first = next(line for line in plan.splitlines() if line.startswith(("SEARCH", "SCAN")))
        assert first.startswith("SEARCH post USING COVERING INDEX ix_post_scope"), plan


def test_the_search_follows_inserts_updates_and_deletes(engine: Engine):
    assert _search(engine, ("olice",)) == ["Police face search audit", "Policing the police"]
    a = Article.__table__
    with engine.begin() as conn:
        conn.execute(update(a).where(a.c.title == "Police face search audit")
                     .values(title="Face search audit", excerpt="Constables asked."))  # fmt: skip
        add_card(conn, title="Police drones grounded", excerpt=None, quality=99, now=NOW)
    assert _search(engine, ("olice",)) == ["Police drones grounded", "Policing the police"]
    assert _search(engine, ("onstable",)) == ["Face search audit"]
    with engine.begin() as conn:
        ids = conn.execute(text("SELECT id FROM article WHERE title LIKE 'Policing%'")).scalars()
        for article_id in list(ids):
            conn.execute(text("DELETE FROM post WHERE article_id = :i"), {"i": article_id})
            conn.execute(text("DELETE FROM article_topic WHERE article_id = :i"), {"i": article_id})
            conn.execute(delete(a).where(a.c.id == article_id))
        conn.execute(insert(a).values(path="x.md", blob_sha="x", title=None, excerpt=None,
                                      first_seen_at=NOW, updated_at=NOW))  # fmt: skip
    assert _search(engine, ("olice",)) == ["Police drones grounded"]


def test_more_matches_than_counted_say_so_and_show_the_best(engine: Engine, monkeypatch, tmp_path):
    config = make_config(tmp_path, str(engine.url))
    query = parse_digest_query("status:all limit:2", NOW, UTC)
    with engine.connect() as conn:
        exact = run_digest(conn, config, query, now=NOW)
    assert (exact.total, exact.capped) == (7, False)
    monkeypatch.setattr(digest_cards, "COUNT_UP_TO", 4)
    with engine.connect() as conn:
        capped = run_digest(conn, config, query, now=NOW)
    assert titles(capped) == titles(exact) == ["Police face search audit", "Policing the police"]
    assert (capped.total, capped.capped) == (4, True)
    _, blocks = answer_digest(engine, config, query, now=NOW)
    assert "2 of 4+ matches, best first" in render_blocks(blocks)
    # At the cap exactly, the count is exact.
    monkeypatch.setattr(digest_cards, "COUNT_UP_TO", 7)
    with engine.connect() as conn:
        assert run_digest(conn, config, query, now=NOW).capped is False


def test_the_upgrade_finds_the_cards_already_there(db_url: str):
    engine = make_engine(db_url)
    migrate.upgrade(engine, "0014")
    with engine.begin() as conn:
        for title, excerpt, quality in CARDS:
            add_card(conn, title=title, excerpt=excerpt, quality=quality, now=NOW - timedelta(0))
    migrate.upgrade(engine)
    assert _search(engine, ("olice",)) == ["Police face search audit", "Policing the police"]
    assert _search(engine, ("facial recognition",)) == ["Policing the police", "AI in the city"]
    migrate.upgrade(engine)  # again: nothing to do
    engine.dispose()
