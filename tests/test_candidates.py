"""Today's candidates: the pure rules, and the pool query on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from bot.candidates import CandidateRules, select_candidates
from storage.fields import FieldMap
from storage.models import Post
from storage.pathfilter import PathFilter
from storage.queries import ArticleView, unpublished_pool
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
