"""The cards a ``/digest`` shows, each with its tally by its own desk's rules, why publishing
holds it back (if it does) and whether its article changed since the votes; read in a few
queries whatever their number. The morning summary lists the same entries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.config import Config, Desk
from bot.house_rules import vote_rules
from bot.rules import states
from bot.rules.digest_query import DigestQuery, scope
from bot.rules.tally import Tally, tally
from bot.slack.digest_desks import desks_for
from storage.db import Transaction
from storage.post_views import PostView, find_posts, holds_for, reactions_for
from storage.revotes import changed_post_ids

# Matches are counted up to this many; past it the answer says "1,000+": counting every card
# of a million-article newsroom would cost more than finding the best ten.
COUNT_UP_TO = 1000


@dataclass(frozen=True)
class DigestEntry:
    """One matching card: where it stands, who voted, and why it is held back (if it is)."""

    post: PostView
    tally: Tally
    hold: str | None = None
    desk: Desk | None = None  # whose votes and quorum apply; None: the default desk
    changed: bool = False  # its article changed after the votes (bot/slack/revote.py)


@dataclass(frozen=True)
class DigestResult:
    """The cards shown (at most ``query.limit``) and how many matched in all."""

    query: DigestQuery
    entries: list[DigestEntry]
    total: int
    desks: tuple[Desk, ...] = ()  # the desks it covers; () read as every desk
    capped: bool = False  # more than ``total`` matched, not counted further ("1,000+")


def run_digest(
    conn: Transaction, config: Config, query: DigestQuery, *, now: datetime,
    here: Desk | None = None,
) -> DigestResult:  # fmt: skip
    """The cards matching ``query`` in the desks it covers (see ``desks_for``), best first,
    with their current tallies."""
    desks = desks_for(config, query, here)
    statuses, published_since = scope(query, now)
    one = desks[0] if len(desks) < len(config.desks) else None  # None: every desk's cards
    # The default desk also has the cards of no desk (or of a removed one).
    known = [d.name for d in config.desks] if one == config.default_desk else None
    page = find_posts(
        conn, statuses=statuses, published_since=published_since, since=query.since,
        topics=query.topics, min_quality=query.min_quality, words=query.words,
        desk=one.name if one else None, known_desks=known, limit=query.limit, order="best",
        count_up_to=COUNT_UP_TO,
    )  # fmt: skip
    entries = entries_for(conn, config, page.posts)
    return DigestResult(query, entries, page.total, desks, page.capped)


def entries_for(conn: Transaction, config: Config, posts: Sequence[PostView]) -> list[DigestEntry]:
    """Cards with their tallies (by their own desk's rules) and holds, read in two queries
    whatever their number."""
    reactions = reactions_for(conn, post_ids=[p.post_id for p in posts])
    holds = holds_for(conn, post_ids=[p.post_id for p in posts if p.status == states.BLOCKED])
    voting = (states.OPEN, states.APPROVED, states.REJECTED, states.BLOCKED)
    changed = changed_post_ids(conn, post_ids=[p.post_id for p in posts if p.status in voting])
    entries = []
    for p in posts:
        desk = config.desk(p.desk)
        its = tally(reactions[p.post_id], vote_rules(desk))
        entries.append(DigestEntry(p, its, holds.get(p.post_id), desk, p.post_id in changed))
    return entries
