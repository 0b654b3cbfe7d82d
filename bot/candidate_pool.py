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
    PoolArticle,
    article_counts,
    article_views,
    count_on_offer_without,
    older_unpublished,
    pool_articles,
)
from storage.db import Transaction


def todays_candidates(
    tx: Transaction, rules: CandidateRules, *, now: datetime, limit: int | None = None
) -> list[ArticleView]:
    """The day's candidates, best first: chosen from what the rules read of the pool, then
    read in full (the few chosen only)."""
    pool = pool_articles(
        tx,
        min_quality=rules.min_quality,
        require_score=rules.require_score,
        dated_since=fresh_since(rules, now=now),
    )
    chosen = select_candidates(pool, rules, now=now, limit=limit)
    return article_views(tx, ids=[a.id for a in chosen])


class PoolReads:
    """What one transaction read of the pool, kept for the desks after the first that ask
    the same: the pool with its taken marks and the older articles counted, by cutoff (desks
    sharing ``max_age_days`` read them once), and the articles counted, once."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self._pools: dict[datetime, list[PoolArticle]] = {}
        self._older: dict[datetime, dict[str | None, int]] = {}
        self._counts: tuple[int, int, int] | None = None

    def pool(self, since: datetime) -> list[PoolArticle]:
        """Every unpublished article of ``since`` or later, or of unknown age, marked."""
        if since not in self._pools:
            self._pools[since] = pool_articles(self.tx, taken=True, dated_since=since)
        return self._pools[since]

    def older(self, since: datetime) -> dict[str | None, int]:
        """The older articles by mark: as many as are on offer and not in the pool."""
        if since not in self._older:
            old = self._article_counts()[2] - len(self.pool(since))
            self._older[since] = older_unpublished(self.tx, before=since, old=old)
        return self._older[since]

    def counts(self) -> tuple[int, int]:
        """(scanned, unreadable)."""
        scanned, unreadable, _ = self._article_counts()
        return scanned, unreadable

    def _article_counts(self) -> tuple[int, int, int]:
        if self._counts is None:
            self._counts = article_counts(self.tx)
        return self._counts


def census(
    tx: Transaction, rules: CandidateRules, *, now: datetime, reads: PoolReads | None = None
) -> Census:
    """Every unpublished article counted by the first rule it fails: the fresh ones read,
    the older ones counted in SQL (for when nothing qualifies, or a status line).
    ``reads``: what this transaction already read (and reads here), for other desks."""
    reads = reads or PoolReads(tx)
    since = fresh_since(rules, now=now)
    scanned, unreadable = reads.counts()
    return take_census(
        reads.pool(since), rules, now=now, scanned=scanned, unreadable=unreadable,
        older=reads.older(since),
    )  # fmt: skip


def candidates_by_desk(
    tx: Transaction,
    desks: Sequence[CandidateRules],
    *,
    now: datetime,
    limit: int | None = None,
) -> list[tuple[list[ArticleView], str | None]]:
    """Each desk's candidates (``todays_candidates``), and why none when it has none
    (``why_none``): the pool read once for every desk of a cutoff, with its taken marks (the
    rules refuse those as the query of ``todays_candidates`` leaves them out)."""
    reads, found = PoolReads(tx), []
    for rules in desks:
        pool = reads.pool(fresh_since(rules, now=now))
        chosen = select_candidates(pool, rules, now=now, limit=limit)
        why = None if chosen else describe(census(tx, rules, now=now, reads=reads), rules)
        found.append((article_views(tx, ids=[a.id for a in chosen]), why))
    return found


def why_none(tx: Transaction, rules: CandidateRules, *, now: datetime) -> str:
    """``no candidates today: 2,417 unpublished; 2,390 older than 7 days, ...``"""
    return describe(census(tx, rules, now=now), rules)


def on_no_desk(tx: Transaction, routes: Sequence[Route]) -> int:
    """How many articles still on offer (unpublished, never posted, not a copy) no desk's
    topics take: with no catch-all desk, they are offered nowhere."""
    topics = routed_topics(routes)
    return 0 if topics is None else count_on_offer_without(tx, topic_keys=topics)
