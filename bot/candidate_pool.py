"""Today's candidates from the database: the pool query, then the pure rules of
``bot.rules.candidates``; and when none qualify, why (the counts every surface shows)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.rules.candidates import CandidateRules, Census, describe, select_candidates, take_census
from bot.rules.desks import Route, desk_for
from storage.articles import ArticleView, article_counts, unpublished_pool
from storage.db import Transaction


def todays_candidates(
    tx: Transaction, rules: CandidateRules, *, now: datetime, limit: int | None = None
) -> list[ArticleView]:
    """The day's candidates, best first."""
    pool = unpublished_pool(tx, min_quality=rules.min_quality, require_score=rules.require_score)
    return select_candidates(pool, rules, now=now, limit=limit)


def census(tx: Transaction, rules: CandidateRules, *, now: datetime) -> Census:
    """Every unpublished article counted by the first rule it fails (reads the whole pool:
    for when nothing qualifies, or a status line, not for every post)."""
    scanned, unreadable = article_counts(tx)
    pool = unpublished_pool(tx, taken=True)
    return take_census(pool, rules, now=now, scanned=scanned, unreadable=unreadable)


def why_none(tx: Transaction, rules: CandidateRules, *, now: datetime) -> str:
    """``no candidates today: 2,417 unpublished; 2,390 older than 7 days, ...``"""
    return describe(census(tx, rules, now=now), rules)


def on_no_desk(tx: Transaction, routes: Sequence[Route]) -> int:
    """How many articles still on offer (unpublished, never posted, not a copy) no desk's
    topics take: with no catch-all desk, they are offered nowhere."""
    return sum(1 for a in unpublished_pool(tx) if desk_for(a.topics, routes) is None)
