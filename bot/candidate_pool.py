"""Today's candidates from the database: the pool query, then the pure rules of
``bot.rules.candidates``; and when none qualify, why (the counts every surface shows)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.rules.candidates import (
    CandidateRules,
    Census,
    describe,
    fresh_since,
    select_candidates,
    take_census,
)
from bot.rules.desks import Route, routed_topics
from storage.articles import (
    ArticleView,
    article_counts,
    count_on_offer_without,
    older_unpublished,
    unpublished_pool,
)
from storage.db import Transaction


def todays_candidates(
    tx: Transaction, rules: CandidateRules, *, now: datetime, limit: int | None = None
) -> list[ArticleView]:
    """The day's candidates, best first."""
    pool = unpublished_pool(
        tx,
        min_quality=rules.min_quality,
        require_score=rules.require_score,
        dated_since=fresh_since(rules, now=now),
    )
    return select_candidates(pool, rules, now=now, limit=limit)


def census(
    tx: Transaction,
    rules: CandidateRules,
    *,
    now: datetime,
    older_by_cutoff: dict[datetime, dict[str | None, int]] | None = None,
) -> Census:
    """Every unpublished article counted by the first rule it fails: the fresh ones read,
    the older ones counted in SQL (for when nothing qualifies, or a status line).
    ``older_by_cutoff``: the older ones already counted in this transaction, by cutoff, and
    filled here; desks sharing ``max_age_days`` then pay one pass over the table, not one each."""
    scanned, unreadable = article_counts(tx)
    since = fresh_since(rules, now=now)
    pool = unpublished_pool(tx, taken=True, dated_since=since)
    counted = {} if older_by_cutoff is None else older_by_cutoff
    if since not in counted:
        counted[since] = older_unpublished(tx, before=since)
    older = counted[since]
    return take_census(pool, rules, now=now, scanned=scanned, unreadable=unreadable, older=older)


def why_none(tx: Transaction, rules: CandidateRules, *, now: datetime) -> str:
    """``no candidates today: 2,417 unpublished; 2,390 older than 7 days, ...``"""
    return describe(census(tx, rules, now=now), rules)


def on_no_desk(tx: Transaction, routes: Sequence[Route]) -> int:
    """How many articles still on offer (unpublished, never posted, not a copy) no desk's
    topics take: with no catch-all desk, they are offered nowhere."""
    topics = routed_topics(routes)
    return 0 if topics is None else count_on_offer_without(tx, topic_keys=topics)
