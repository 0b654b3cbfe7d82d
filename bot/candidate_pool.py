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


# What a census reads for one cutoff, whichever desk asks: (scanned, unreadable, the fresh
# pool with its taken marks, the older ones counted by mark).
CensusReads = tuple[int, int, list[ArticleView], dict[str | None, int]]


def census(
    tx: Transaction,
    rules: CandidateRules,
    *,
    now: datetime,
    reads_by_cutoff: dict[datetime, CensusReads] | None = None,
) -> Census:
    """Every unpublished article counted by the first rule it fails: the fresh ones read,
    the older ones counted in SQL (for when nothing qualifies, or a status line).
    ``reads_by_cutoff``: what this transaction already read, by cutoff, and filled here;
    desks sharing ``max_age_days`` then read the pool and count the older ones once."""
    since = fresh_since(rules, now=now)
    reads = {} if reads_by_cutoff is None else reads_by_cutoff
    if since not in reads:
        scanned, unreadable = article_counts(tx)
        pool = unpublished_pool(tx, taken=True, dated_since=since)
        reads[since] = (scanned, unreadable, pool, older_unpublished(tx, before=since))
    scanned, unreadable, pool, older = reads[since]
    return take_census(pool, rules, now=now, scanned=scanned, unreadable=unreadable, older=older)


def why_none(tx: Transaction, rules: CandidateRules, *, now: datetime) -> str:
    """``no candidates today: 2,417 unpublished; 2,390 older than 7 days, ...``"""
    return describe(census(tx, rules, now=now), rules)


def on_no_desk(tx: Transaction, routes: Sequence[Route]) -> int:
    """How many articles still on offer (unpublished, never posted, not a copy) no desk's
    topics take: with no catch-all desk, they are offered nowhere."""
    topics = routed_topics(routes)
    return 0 if topics is None else count_on_offer_without(tx, topic_keys=topics)
