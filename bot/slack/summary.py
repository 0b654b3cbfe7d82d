"""The morning summary of one desk, as plain data: what it decided since the last one, what
waits, what comes today.

``build_summary`` reads one desk's rows; ``bot/slack/summary_message.py`` renders them, and
``bot/slack/summary_post.py`` sends every desk's and the newsroom's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.candidate_pool import todays_candidates
from bot.config import Config, Desk
from bot.house_rules import candidate_rules
from bot.rules import states
from bot.rules.schedule import posting_day
from bot.slack.digest_cards import DigestEntry, entries_for
from storage.articles import ArticleView
from storage.db import Transaction
from storage.post_views import Order, find_posts, posted_on

OTHER = "Other topics"


@dataclass(frozen=True)
class TopicGroup:
    topic: str
    articles: tuple[ArticleView, ...]


@dataclass(frozen=True)
class Summary:
    """Everything the summary says, as plain data."""

    since: datetime
    now: datetime
    published: list[DigestEntry]
    rejected: list[DigestEntry]
    expired: list[DigestEntry]
    approved: list[DigestEntry]  # approved (or held back), not yet published, oldest first
    waiting: list[DigestEntry]  # awaiting votes, oldest first
    candidates: list[TopicGroup]  # today's cards, or the preview of them, by topic
    posted_today: bool
    desk: str | None = None  # the desk's name; None: the default desk (a config without desks)
    unpublished: list[DigestEntry] = field(default_factory=list)  # taken back, or queued to be

    @property
    def quiet(self) -> bool:
        """Nothing decided or published since ``since``, and no card waiting on anyone."""
        return not (
            self.published or self.rejected or self.expired or self.approved or self.waiting
            or self.unpublished
        )  # fmt: skip


def build_summary(
    conn: Transaction, config: Config, *, since: datetime, now: datetime, desk: Desk | None = None
) -> Summary:
    """Read what the desk's summary reports (the default desk's when ``desk`` is None):
    its decisions since ``since``, its open cards, its picks for today."""
    desk = desk or config.default_desk
    # The default desk also holds the cards of no desk the config names, as votes count them.
    default = desk.name == config.default_desk.name
    scope = {"desk": desk.name, "known_desks": [d.name for d in config.desks] if default else None}

    def cards(
        statuses: Sequence[str], *, since: datetime | None = None, order: Order = "oldest"
    ) -> list[DigestEntry]:
        page = find_posts(conn, statuses=statuses, since=since, order=order, **scope)
        return entries_for(conn, config, page.posts)  # tallied by each card's desk

    day = posting_day(now, config.zone)
    posted = posted_on(conn, day=day, **scope)
    if posted:
        shown = [s for s in states.ALL if s != states.SKIPPED]  # skipped: never in Slack
        page = find_posts(conn, statuses=shown, day=day, order="best", **scope)
        today = [p.article for p in page.posts]
    else:
        today = todays_candidates(conn, candidate_rules(config, desk), now=now)
    return Summary(
        since=since,
        now=now,
        published=cards([states.PUBLISHED], since=since, order="changed"),
        rejected=cards([states.REJECTED], since=since, order="changed"),
        expired=cards([states.EXPIRED], since=since, order="changed"),
        approved=cards([states.APPROVED, states.BLOCKED], order="oldest"),
        waiting=cards([states.OPEN], order="oldest"),
        candidates=group_by_topic(today),
        posted_today=posted,
        desk=desk.name,
        unpublished=cards([states.UNPUBLISHING, states.UNPUBLISHED], since=since, order="changed"),
    )


def group_by_topic(articles: Sequence[ArticleView]) -> list[TopicGroup]:
    """Each article under the topic it shares with the most others (ties: alphabetical).

    Listing an article under every topic it has would repeat most of them; its commonest
    topic gives few, full groups. Groups keep the articles' order (best first).
    """
    counts = Counter(t.casefold() for a in articles for t in a.topics)
    groups: dict[str, list[ArticleView]] = {}
    names: dict[str, str] = {}
    for article in articles:
        if article.topics:
            best = min(article.topics, key=lambda t: (-counts[t.casefold()], t.casefold()))
            key = best.casefold()
            names.setdefault(key, best)
        else:
            key = ""
            names[key] = OTHER
        groups.setdefault(key, []).append(article)
    ordered = sorted(groups.items(), key=lambda kv: (kv[0] == "", -len(kv[1])))
    return [TopicGroup(names[k], tuple(v)) for k, v in ordered]
