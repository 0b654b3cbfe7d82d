"""Which unpublished articles are today's candidates: pure rules over plain data."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.queries import ArticleView


@dataclass(frozen=True)
class CandidateRules:
    per_day: int = 10
    min_quality: float = 0
    max_age_days: int = 7
    topics: tuple[str, ...] = ()


def is_fresh(article: ArticleView, *, now: datetime, max_age_days: int) -> bool:
    """Published (by its source) within the window; undated articles count from first sight."""
    when = article.dated or article.first_seen_at
    return when >= now - timedelta(days=max_age_days)


def matches_topics(article: ArticleView, topics: Iterable[str]) -> bool:
    wanted = {t.casefold() for t in topics}
    return not wanted or any(t.casefold() in wanted for t in article.topics)


def rank_key(article: ArticleView) -> tuple[float, float, float]:
    """Best quality first; ties go to the hotter, then the newer article."""
    dated = article.dated.timestamp() if article.dated else 0.0
    return (-(article.quality or 0.0), -(article.heat or 0.0), -dated)


def select_candidates(
    pool: Iterable[ArticleView], rules: CandidateRules, *, now: datetime, limit: int | None = None
) -> list[ArticleView]:
    """The day's candidates: fresh, good enough, on topic, best first, one per story (URL)."""
    eligible = sorted(
        (
            a
            for a in pool
            if (a.quality or 0.0) >= rules.min_quality
            and is_fresh(a, now=now, max_age_days=rules.max_age_days)
            and matches_topics(a, rules.topics)
        ),
        key=rank_key,
    )
    chosen: list[ArticleView] = []
    seen_urls: set[str] = set()
    for article in eligible:
        if article.url and article.url in seen_urls:
            continue  # the same story from a second file: keep the better one
        if article.url:
            seen_urls.add(article.url)
        chosen.append(article)
        if len(chosen) == (limit if limit is not None else rules.per_day):
            break
    return chosen
