"""How the candidates and the census read the database at scale (bench/candidates.py times
it): the fresh articles and the older ones' counts through the partial index by age, the
pool read once for every desk of ``curator candidates``, full rows of the chosen only.
Same answers as each desk's own reads. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, insert
from sqlalchemy.engine import Connection, Engine

from bot.candidate_pool import PoolReads, candidates_by_desk, census, todays_candidates, why_none
from bot.rules.candidates import CandidateRules, fresh_since
from bot.rules.desks import Route
from storage import posts
from storage.articles import older_unpublished
from storage.models import Article
from tests.test_candidates import NOW, _ages

INDEX = "ix_article_on_offer_by_age"
POOL = re.compile(r"\bAS card\b")  # the pool read, with its taken marks
FULL_ROWS = re.compile(r"\barticle\.excerpt\b")  # what a card shows: the chosen only


@contextmanager
def statements(engine: Engine) -> Iterator[list[tuple[str, object]]]:
    seen: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def plan_of(conn: Connection, statement: str, parameters: object) -> str:
    """The database's plan for ``statement``; PostgreSQL told to avoid reading the table
    (these tables are tiny), so a plan names the index whenever the index can serve it."""
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
        return "\n".join(str(row[-1]) for row in rows)
    conn.exec_driver_sql("SET enable_seqscan = off")
    return "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters))


def test_fresh_articles_are_read_and_old_ones_counted_through_the_index_by_age(engine):
    """The pool read (its topics with it) is a range of the partial index (its terms repeated
    as written): at a million articles, a few thousand entries read. The older articles are
    those on offer less the pool, counted with the articles in the repo in one pass of
    ``ix_article_live`` (from the index alone): not a count of the old range of the index by
    age (900,000 entries) beside it. ``older_unpublished`` alone counts that range."""
    _ages(engine)
    with statements(engine) as seen, engine.connect() as conn:
        census(conn, CandidateRules(max_age_days=7), now=NOW)
        older_unpublished(conn, before=fresh_since(CandidateRules(), now=NOW))
    by_age = [(s, p) for s, p in seen if "coalesce(article.dated, article.added_at)" in s]
    pool = [(s, p) for s, p in by_age if POOL.search(s)]
    topics = [(s, p) for s, p in by_age if s.lstrip().startswith("SELECT article_topic")]
    # The count of every older article (the taken ones are counted from the cards and URLs).
    ends_old = re.compile(r"added_at\) < [^()]*$")  # PostgreSQL's %(name)s made a ?
    old = [(s, p) for s, p in by_age if ends_old.search(re.sub(r"%\(\w+\)s", "?", s))]
    assert len(pool) == 1 and not topics  # the topics' keys come with the pool
    assert len(old) == 1  # older_unpublished's own, not the census's
    (counts,) = [(s, p) for s, p in seen if "count(article.error)" in s]
    with engine.connect() as conn:
        for statement, parameters in (*pool, *old):
            assert INDEX in plan_of(conn, statement, parameters), statement
        plan = plan_of(conn, *counts)
    covering = "COVERING INDEX ix_article_live" if engine.dialect.name == "sqlite" else "Only"
    assert covering in plan and "ix_article_live" in plan, plan


def test_every_desk_s_candidates_come_from_one_pool_read(engine):
    """``curator candidates`` with desks: one pool read (per ``max_age_days``) for all, full
    rows for the chosen only; the same candidates, and the same reasons for none, as each
    desk's own ``todays_candidates`` and ``why_none``."""
    _ages(engine)
    routes = (Route.of("AI", ["ai"]), Route.of("Sports", ["Sports"]), Route.of("General", []))
    desks = [
        CandidateRules(per_day=2, desk=route.desk, routes=routes, min_quality=q)
        for route, q in zip(routes, (None, 60, 10), strict=True)
    ]
    with engine.connect() as conn:
        alone = []
        for rules in desks:
            chosen = todays_candidates(conn, rules, now=NOW)
            alone.append((chosen, None if chosen else why_none(conn, rules, now=NOW)))
        with statements(engine) as seen:
            together = candidates_by_desk(conn, desks, now=NOW)
    assert together == alone
    assert [len(chosen) for chosen, _ in together] == [2, 0, 0]
    assert sum(1 for s, _ in seen if POOL.search(s)) == 1
    full = [s for s, _ in seen if FULL_ROWS.search(s)]
    assert full and all(re.search(r"\barticle\.id IN\b", s) for s in full)


def test_a_report_counts_the_articles_once_whatever_its_cutoffs(engine):
    _ages(engine)
    with statements(engine) as seen, engine.connect() as conn:
        reads = PoolReads(conn)
        for days in (7, 3, 7):
            census(conn, CandidateRules(max_age_days=days), now=NOW, reads=reads)
    assert sum(1 for s, _ in seen if "count(article.error)" in s) == 1
    assert sum(1 for s, _ in seen if POOL.search(s)) == 2  # one per cutoff


def test_a_desk_s_unposted_cards_are_counted_from_their_own_index(engine):
    """``curator status`` counts each desk's cards not yet in Slack: the few such rows, not
    every card of the desk read for its ``ts``."""
    _ages(engine)
    with statements(engine) as seen, engine.connect() as conn:
        assert posts.count_unposted(conn, desk="AI") == 0
    (statement, parameters), *_ = seen
    with engine.connect() as conn:
        assert "ix_post_unposted" in plan_of(conn, statement, parameters)


def test_the_old_articles_with_a_card_are_looked_up_by_id_from_an_index(engine):
    """The census counts the old unpublished articles that have a card, each looked up by
    its id in the order of the ids: on PostgreSQL an index-only probe of
    ``ix_article_on_offer_by_id`` per card (not the old range of the index by age, 900,000
    entries at a million articles, hashed against the cards); on SQLite by rowid, the cards'
    article ids read in order from the index of post by article (so the article table's
    pages are read in order, not post scanned and one random page read per card)."""
    _ages(engine)
    old = NOW - timedelta(days=100)
    with engine.begin() as conn:  # many more old articles than cards, as a newsroom has
        conn.execute(
            insert(Article.__table__),
            [dict(id=i, path=f"old/{i}.md", blob_sha="0" * 40, published=False, dated=old,
                  first_seen_at=old, updated_at=old) for i in range(100, 3100)],
        )  # fmt: skip
    if engine.dialect.name != "sqlite":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE article, post")
    with statements(engine) as seen, engine.connect() as conn:
        counted = census(conn, CandidateRules(max_age_days=7), now=NOW)
    assert (counted.posted, counted.taken_back) == (1, 1)
    carded = [
        (s, p) for s, p in seen if re.search(r"\barticle\.id IN \(SELECT post\.article_id", s)
    ]
    assert len(carded) == 2  # every card, and the taken back
    with engine.connect() as conn:  # a tiny table's plan: the probe per card, as at scale
        if engine.dialect.name != "sqlite":
            conn.exec_driver_sql("SET enable_hashjoin = off")
            conn.exec_driver_sql("SET enable_mergejoin = off")
        plans = [plan_of(conn, *statement) for statement in carded]
    for plan in plans:
        if engine.dialect.name == "sqlite":
            assert "SEARCH article USING INTEGER PRIMARY KEY" in plan, plan
            assert "SCAN" not in plan, plan  # the ids from an index of post, in order
        else:
            assert "using ix_article_on_offer_by_id" in plan, plan


def test_the_pool_looks_each_article_s_card_and_topics_up_by_index(engine):
    """The pool read probes, for each fresh article, the index of post by article (its
    card's state: posted or taken back) and the topics' primary key (their keys, read from
    the index alone), in the statement of the pool: at a million articles PostgreSQL hashed
    every card (an ``EXISTS``) and every topic (a second statement) to find those of
    10,000 articles. And PostgreSQL does not compile it (JIT) for longer than it runs."""
    _ages(engine)
    with statements(engine) as seen, engine.connect() as conn:
        census(conn, CandidateRules(max_age_days=7), now=NOW)
        if engine.dialect.name == "postgresql":
            assert conn.exec_driver_sql("SHOW jit").scalar() == "off"
    (pool,) = [(s, p) for s, p in seen if POOL.search(s)]
    with engine.connect() as conn:
        plan = plan_of(conn, *pool)
    if engine.dialect.name == "sqlite":
        assert "SEARCH post USING INDEX sqlite_autoindex_post_1 (article_id=?)" in plan, plan
        assert "USING COVERING INDEX sqlite_autoindex_article_topic_1 (article_id=?)" in plan
    else:
        assert "Index Scan using post_article_id_key on post" in plan, plan
        assert "article_topic_pkey" in plan, plan
        assert "Hash" not in plan, plan
