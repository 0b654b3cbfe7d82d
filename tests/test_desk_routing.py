"""Which desk an article belongs to, and how a desk's candidates and census follow it:
the pure rules of bot.rules.desks and bot.rules.candidates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.rules.candidates import CandidateRules, describe, select_candidates, take_census
from bot.rules.desks import Route, desk_for

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
ROUTES = (
    Route.of("AI", ["AI", "Machine Learning"]),
    Route.of("Policy", ["Policy", "Regulation"]),
    Route.of("General", []),
)


@dataclass(frozen=True)
class Story:
    topics: tuple[str, ...]
    url: str | None = None
    quality: float | None = 0.8
    heat: float | None = None
    dated: datetime | None = NOW - timedelta(hours=2)
    added_at: datetime | None = None
    taken: str | None = None


def test_the_first_desk_listing_a_topic_takes_the_article_in_any_case():
    assert desk_for(["machine learning"], ROUTES) == "AI"
    assert desk_for(["REGULATION"], ROUTES) == "Policy"
    assert desk_for(["Regulation", "AI"], ROUTES) == "AI"  # config order, not topic order


def test_the_catch_all_desk_takes_the_rest_and_without_one_an_article_is_nobodys():
    assert desk_for(["Sports"], ROUTES) == "General"
    assert desk_for([], ROUTES) == "General"
    assert desk_for(["Sports"], ROUTES[:2]) is None
    assert desk_for([], ROUTES[:2]) is None


@given(st.lists(st.sampled_from(["AI", "ai", "Policy", "Sports", "Machine Learning", ""])))
def test_an_article_belongs_to_at_most_one_desk_and_a_catch_all_takes_every_one(topics):
    assert desk_for(topics, ROUTES) in {"AI", "Policy", "General"}
    routed = [r.desk for r in ROUTES[:2] if desk_for(topics, [r]) is not None]
    assert desk_for(topics, ROUTES[:2]) == (routed[0] if routed else None)


def rules(desk: str, routes=ROUTES, per_day: int = 10) -> CandidateRules:
    return CandidateRules(per_day=per_day, desk=desk, routes=routes)


def test_each_desk_offers_only_its_own_articles():
    pool = [
        Story(("AI",), url="u1", quality=0.9),
        Story(("Policy", "AI"), url="u2", quality=0.8),
        Story(("Policy",), url="u3", quality=0.7),
        Story(("Sports",), url="u4", quality=0.6),
    ]
    assert [s.url for s in select_candidates(pool, rules("AI"), now=NOW)] == ["u1", "u2"]
    assert [s.url for s in select_candidates(pool, rules("Policy"), now=NOW)] == ["u3"]
    assert [s.url for s in select_candidates(pool, rules("General"), now=NOW)] == ["u4"]
    # Without routes (one desk, no desks: in the config) every article is on offer.
    assert len(select_candidates(pool, CandidateRules(), now=NOW)) == 4


def test_a_desks_census_counts_articles_for_other_desks_and_for_none():
    pool = [Story(("AI",)), Story(("Policy",)), Story(("Sports",)), Story(("Sports",))]
    census = take_census(pool, rules("Policy", ROUTES[:2]), now=NOW, scanned=4)
    assert (census.qualify, census.other_desk, census.no_desk) == (1, 1, 2)
    line = describe(census, rules("Policy", ROUTES[:2]))
    assert line == (
        "candidates today: 1 of 4 unpublished (1 for other desks, 2 on no desk's topics)"
    )
