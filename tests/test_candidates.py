"""Today's candidates: the pure rules, and the pool query on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, update

from bot.candidate_pool import census, on_no_desk, todays_candidates
from bot.rules.candidates import (
    CandidateRules,
    describe,
    fresh_since,
    passes_quality,
    refusal,
    select_candidates,
    take_census,
)
from bot.rules.desks import Route, desk_for
from storage.articles import ArticleView, unpublished_pool
from storage.fields import FieldMap
from storage.models import Article as ArticleRow
from storage.models import ArticleTopic, Post
from storage.pathfilter import PathFilter
from storage.scan import scan
from tests.helpers import article

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def view(i: int, **kw: object) -> ArticleView:
    base = dict(
        id=i,
        path=f"a{i}.md",
        title=f"Story {i}",
        excerpt=None,
        url=f"https://example.org/{i}",
        quality=50.0,
        heat=0.0,
        dated=NOW - timedelta(days=1),
        first_seen_at=NOW - timedelta(days=1),
        provider_name=None,
        provider_domain=None,
        image_url=None,
        topics=("AI",),
        related=(),
    )
    base.update(kw)
    return ArticleView(**base)  # type: ignore[arg-type]


def test_best_quality_first_then_heat_then_newest():
    pool = [
        view(1, quality=40),
        view(2, quality=90),
        view(3, quality=70, heat=1),
        view(4, quality=70, heat=5),
        view(5, quality=70, heat=5, dated=NOW - timedelta(hours=1)),
    ]
    got = select_candidates(pool, CandidateRules(per_day=10), now=NOW)
    assert [a.id for a in got] == [2, 5, 4, 3, 1]


@pytest.mark.parametrize(
    "rules, expected",
    [
        (CandidateRules(per_day=2), [1, 2]),
        (CandidateRules(min_quality=61), [1, 2]),
        (CandidateRules(min_quality=60), [1, 2, 3]),
        (CandidateRules(max_age_days=2), [1, 2, 4]),
        (CandidateRules(topics=("climate",)), [2]),
        (CandidateRules(topics=("CLIMATE", "cities")), [2, 4]),
    ],
)
def test_rules_filter(rules: CandidateRules, expected: list[int]):
    pool = [
        view(1, quality=80),
        view(2, quality=70, topics=("Climate",)),
        view(3, quality=60, dated=NOW - timedelta(days=5)),
        view(4, quality=50, topics=("Cities",)),
        view(5, quality=40, dated=None, first_seen_at=NOW - timedelta(days=30)),
    ]
    assert [a.id for a in select_candidates(pool, rules, now=NOW)] == expected


def test_one_card_per_story_keeps_the_better_copy():
    pool = [view(1, quality=50, url="https://x/same"), view(2, quality=60, url="https://x/same")]
    assert [a.id for a in select_candidates(pool, CandidateRules(), now=NOW)] == [2]


def test_limit_overrides_per_day():
    pool = [view(i) for i in range(20)]
    assert len(select_candidates(pool, CandidateRules(per_day=3), now=NOW, limit=7)) == 7


def test_pool_excludes_published_broken_posted_and_done_stories(engine, newsroom, content_repo):
    newsroom.write("fresh.md", article("Fresh", quality=60))
    newsroom.write("low.md", article("Low", quality=5))
    newsroom.write("live.md", article("Live", published=True, url="https://x/story"))
    newsroom.write("copy.md", article("Copy of live", url="https://x/story"))
    newsroom.write("posted.md", article("Posted"))
    newsroom.write("broken.md", "---\ntitle: [\n---\n")
    newsroom.commit()
    content_repo.fetch()
    scan(engine, content_repo, FieldMap(), PathFilter())
    with engine.begin() as conn:
        pool = unpublished_pool(conn, min_quality=None)
        posted = next(a for a in pool if a.path == "posted.md")
        conn.execute(
            insert(Post.__table__).values(
                article_id=posted.id, channel="C1", day="2026-11-26", status="open"
            )
        )
    with engine.connect() as conn:
        assert {a.path for a in unpublished_pool(conn, min_quality=None)} == {"fresh.md", "low.md"}
        assert {a.path for a in unpublished_pool(conn, min_quality=10)} == {"fresh.md"}
        fresh = unpublished_pool(conn, min_quality=10)[0]
    assert fresh.topics == ("AI",)
    assert fresh.related[0]["title"] == "Related 0 to Fresh"
    assert fresh.related[0]["provider"] == "Other"
    assert fresh.dated == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


# --- unscored articles, the one quality rule, and why nothing qualifies (issue 9) ----------


def test_unscored_articles_are_offered_after_every_scored_one():
    """Most Hugo/Jekyll repos score nothing: the default offers them, ranked after scored
    ones (which may score below zero), then by heat, then newest."""
    pool = [
        view(1, quality=None, heat=1),
        view(2, quality=-5),
        view(3, quality=None, heat=9),
        view(4, quality=80),
        view(5, quality=None, heat=9, dated=NOW - timedelta(hours=1)),
    ]
    got = select_candidates(pool, CandidateRules(), now=NOW)
    assert [a.id for a in got] == [4, 2, 5, 3, 1]
    scored_only = CandidateRules(require_score=True)
    assert [a.id for a in select_candidates(pool, scored_only, now=NOW)] == [4, 2]
    # A minimum applies to scores; unscored ones still pass unless scores are required.
    minimum = CandidateRules(min_quality=40)
    assert [a.id for a in select_candidates(pool, minimum, now=NOW)] == [4, 5, 3, 1]
    both = CandidateRules(min_quality=40, require_score=True)
    assert [a.id for a in select_candidates(pool, both, now=NOW)] == [4]


def test_age_is_the_date_else_when_the_file_was_added_never_first_sight():
    pool = [
        view(1, dated=None, added_at=NOW - timedelta(days=2000), first_seen_at=NOW),
        view(2, dated=None, added_at=NOW - timedelta(days=1)),
        view(3, dated=None, added_at=None, first_seen_at=NOW),  # git has not said yet
    ]
    assert [a.id for a in select_candidates(pool, CandidateRules(), now=NOW)] == [2]


@pytest.mark.parametrize(
    "rules",
    [
        CandidateRules(),
        CandidateRules(min_quality=40),
        CandidateRules(min_quality=0),
        CandidateRules(require_score=True),
        CandidateRules(min_quality=40, require_score=True),
        CandidateRules(min_quality=-10),
    ],
    ids=["default", "min40", "min0", "require", "min40-require", "min-10"],
)
def test_the_sql_prefilter_agrees_with_the_rule(engine, newsroom, content_repo, rules):
    """unpublished_pool leaves out in SQL exactly what passes_quality refuses."""
    scores = {"none": None, "neg": -20, "zero": 0, "low": 39.5, "at": 40, "high": 95}
    for name, score in scores.items():
        text = article(name.title(), quality=0)
        if score is None:
            text = text.replace("quality: 0\n", "")
        else:
            text = text.replace("quality: 0\n", f"quality: {score}\n")
        newsroom.write(f"{name}.md", text)
    newsroom.commit()
    content_repo.fetch()
    scan(engine, content_repo, FieldMap(), PathFilter())
    with engine.connect() as conn:
        everything = unpublished_pool(conn)
        prefiltered = unpublished_pool(
            conn, min_quality=rules.min_quality, require_score=rules.require_score
        )
    assert len(everything) == len(scores)
    expected = {a.path for a in everything if passes_quality(a.quality, rules)}
    assert {a.path for a in prefiltered} == expected


def test_the_census_counts_each_article_under_the_first_rule_it_fails():
    rules = CandidateRules(min_quality=40, max_age_days=7, topics=("AI",))
    old = NOW - timedelta(days=30)
    pool = [
        *(view(i, dated=old) for i in range(2390)),
        *(view(3000 + i, quality=10) for i in range(20)),
        *(view(4000 + i, topics=("Sports",)) for i in range(7)),
        view(5000, taken="posted", dated=old),
        view(5001, taken="same story"),
        view(5002, dated=None),
    ]
    census = take_census(pool, rules, now=NOW, scanned=2600, unreadable=3)
    assert (census.unpublished, census.qualify, census.too_old) == (2420, 0, 2390)
    assert (census.below_min, census.off_topic, census.posted, census.same_story) == (20, 7, 1, 1)
    assert census.undated == 1
    assert describe(census, rules) == (
        "no candidates today: 2,420 unpublished; 1 already posted, 1 repeating a story "
        "already published or posted, 1 of unknown age ('curator scan --full' dates them "
        "from git), 2,390 older than 7 days, 20 below min_quality 40, 7 not on a listed "
        "topic; "
        "3 files could not be read (see 'curator scan --errors')"
    )
    required = CandidateRules(require_score=True)
    unscored = take_census([view(1, quality=None), view(2)], required, now=NOW, scanned=2)
    assert describe(unscored, required) == (
        "candidates today: 1 of 2 unpublished (1 unscored (candidates.require_score is true))"
    )
    assert describe(take_census([], rules, now=NOW), rules) == (
        "no candidates today: no articles scanned yet (run 'curator scan')"
    )
    assert describe(take_census([], rules, now=NOW, scanned=12), rules) == (
        "no candidates today: 0 unpublished of 12 articles"
    )


def test_the_census_reads_posted_and_copies_from_the_database(engine, newsroom, content_repo):
    newsroom.write("fresh.md", article("Fresh", quality=60))
    newsroom.write("live.md", article("Live", published=True, url="https://x/story"))
    newsroom.write("copy.md", article("Copy of live", url="https://x/story"))
    newsroom.write("posted.md", article("Posted"))
    newsroom.write("broken.md", "---\ntitle: [\n---\n")
    newsroom.commit()
    content_repo.fetch()
    scan(engine, content_repo, FieldMap(), PathFilter())
    with engine.begin() as conn:
        posted = next(a for a in unpublished_pool(conn) if a.path == "posted.md")
        conn.execute(
            insert(Post.__table__).values(
                article_id=posted.id, channel="C1", day="2026-11-26", status="open"
            )
        )
    with engine.connect() as conn:
        counts = census(conn, CandidateRules(), now=NOW)
    assert (counts.scanned, counts.unreadable, counts.unpublished) == (5, 1, 3)
    assert (counts.qualify, counts.posted, counts.same_story) == (1, 1, 1)


def _ages(engine) -> None:
    """Unpublished articles of every age, taken or not, straight into the tables."""
    day = timedelta(days=1)
    rows = [  # (path, dated, added_at, published, url)
        ("fresh.md", NOW - day, None, False, None),
        ("added-fresh.md", None, NOW - day, False, None),
        ("unknown-age.md", None, None, False, None),
        ("at-the-limit.md", NOW - 7 * day, None, False, None),
        ("just-too-old.md", NOW - 7 * day - timedelta(seconds=1), None, False, None),
        ("a-day-too-old.md", NOW - 8 * day + timedelta(hours=1), None, False, None),
        ("old.md", NOW - 30 * day, None, False, "https://x/old"),
        ("added-old.md", None, NOW - 30 * day, False, None),
        ("old-posted.md", NOW - 30 * day, None, False, None),
        ("old-taken-back.md", NOW - 30 * day, None, False, None),
        ("old-copy.md", NOW - 40 * day, None, False, "https://x/live"),
        ("live.md", NOW - 40 * day, None, True, "https://x/live"),
        ("old-sports.md", NOW - 30 * day, None, False, None),
    ]
    ids = {}
    with engine.begin() as conn:
        for i, (path, dated, added_at, published, url) in enumerate(rows, 1):
            conn.execute(
                insert(ArticleRow.__table__).values(
                    id=i, path=path, blob_sha="0" * 40, title=path, url=url, quality=50.0,
                    published=published, dated=dated, added_at=added_at,
                    first_seen_at=NOW, updated_at=NOW,
                )
            )  # fmt: skip
            ids[path] = i
            topic = "Sports" if "sports" in path else "AI"
            conn.execute(
                insert(ArticleTopic.__table__).values(
                    article_id=i, key=topic.casefold(), topic=topic
                )
            )
        for path, status in (("old-posted.md", "open"), ("old-taken-back.md", "unpublished")):
            conn.execute(
                insert(Post.__table__).values(
                    article_id=ids[path], channel="C1", day="2026-10-27", status=status
                )
            )


def test_the_pool_reads_fresh_articles_only_and_the_census_counts_the_older_in_sql(engine):
    """The pool read leaves out in SQL what the age rule refuses (a day's margin), never what it
    keeps; the census counts the rest as before: same numbers as reading every article."""
    _ages(engine)
    rules = CandidateRules(max_age_days=7)
    elsewhere = NOW.astimezone(ZoneInfo("Pacific/Auckland"))  # the same moment, not UTC
    with engine.connect() as conn:
        read = unpublished_pool(conn, taken=True, dated_since=fresh_since(rules, now=elsewhere))
        counts = census(conn, rules, now=elsewhere)
        everything = unpublished_pool(conn, taken=True)
        chosen = todays_candidates(conn, rules, now=elsewhere)
    assert {a.path for a in read} == {
        "fresh.md", "added-fresh.md", "unknown-age.md", "at-the-limit.md", "just-too-old.md",
        "a-day-too-old.md",
    }  # fmt: skip
    assert {a.path for a in chosen} == {"fresh.md", "added-fresh.md", "at-the-limit.md"}
    assert counts == take_census(everything, rules, now=NOW, scanned=13)
    assert (counts.unpublished, counts.too_old, counts.undated) == (12, 5, 1)
    assert (counts.posted, counts.taken_back, counts.same_story) == (1, 1, 1)
    assert describe(counts, rules) == (
        "candidates today: 3 of 12 unpublished (1 already posted, 1 unpublished (taken back), "
        "1 repeating a story already published or posted, 1 of unknown age ('curator scan "
        "--full' dates them from git), 5 older than 7 days)"
    )


def test_old_copies_are_counted_by_their_url_shared_with_a_story_done(engine):
    """Among old articles whose URL is held twice, only a copy of a story published or
    carded is "same story": two old copies of nothing done are simply too old."""
    _ages(engine)
    old = NOW - timedelta(days=35)
    rows = [  # (id, path, url): 9 is old-posted.md, carded; 14 copies it
        (14, "old-copy-of-posted.md", "https://x/posted"),
        (15, "old-twin.md", "https://x/twin"),
        (16, "old-twin-again.md", "https://x/twin"),
    ]
    with engine.begin() as conn:
        conn.execute(update(ArticleRow.__table__).where(ArticleRow.id == 9).values(url=rows[0][2]))
        for i, path, url in rows:
            conn.execute(
                insert(ArticleRow.__table__).values(
                    id=i, path=path, blob_sha="0" * 40, title=path, url=url, quality=50.0,
                    published=False, dated=old, first_seen_at=NOW, updated_at=NOW,
                )
            )  # fmt: skip
    rules = CandidateRules(max_age_days=7)
    with engine.connect() as conn:
        counts = census(conn, rules, now=NOW)
        everything = unpublished_pool(conn, taken=True)
    assert counts == take_census(everything, rules, now=NOW, scanned=16)
    assert (counts.same_story, counts.too_old) == (2, 7)


def test_articles_on_no_desk_are_counted_in_sql_as_routing_decides(engine):
    _ages(engine)
    topical = (Route.of("AI", ["ai"]), Route.of("Policy", ["Policy"]))
    with engine.connect() as conn:
        offered = unpublished_pool(conn)
        for routes in (topical, topical[1:], (*topical, Route.of("General", []))):
            expected = sum(1 for a in offered if desk_for(a.topics, routes) is None)
            assert on_no_desk(conn, routes) == expected
        assert on_no_desk(conn, topical) == 1  # old-sports.md: no age limit on this count


def test_a_pool_is_routed_once_per_set_of_topics(monkeypatch):
    """The rules over a pool of 10,000 articles and three desks: the desk worked out once
    for each set of topics (a few hundred), not for each article and desk again; the same
    counts and the same candidates as one article at a time."""
    import bot.rules.candidates as rules_module

    routes = (Route.of("AI", ["ai"]), Route.of("General", []))
    rules = CandidateRules(per_day=3, desk="AI", routes=routes)
    pool = [view(i, topics=(("AI",), ("Sports",), ("ai", "Zoo"))[i % 3]) for i in range(300)]
    calls = []

    def counted(topics, routes):
        calls.append(tuple(topics))
        return desk_for(topics, routes)

    monkeypatch.setattr(rules_module, "desk_for", counted)
    counts = take_census(pool, rules, now=NOW)
    chosen = select_candidates(pool, rules, now=NOW)
    assert len(calls) == 6  # three sets of topics, for the census and for the choice
    one_by_one = [refusal(a, rules, now=NOW) for a in pool]
    assert counts.qualify == one_by_one.count(None) == 200
    assert counts.other_desk == one_by_one.count("other_desk") == 100
    assert len(chosen) == 3 and all(one_by_one[a.id] is None for a in chosen)
