"""Which unpublished articles are today's candidates: pure rules over plain data.

The rule, in one place (the README's "Candidates" says the same in words):

- unpublished, readable, in the repo, never posted (or taken back and changed since), and
  not a copy (same URL) of a story already published or posted (the pool,
  ``storage.articles.unpublished_pool``);
- fresh: dated within ``max_age_days``; an article without a usable date counts from the
  commit that added its file;
- good enough: a scored article needs ``min_quality`` (when set); an unscored one passes
  unless ``require_score`` (most Hugo/Jekyll repos score nothing);
- on a listed topic, when ``topics`` lists any;
- routed to this desk (``bot.rules.desks``), when there are desks to route between.

Best first: scored before unscored, then higher quality, hotter, newer; one card per story.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from bot.rules.desks import Route, desk_for


class Article(Protocol):
    """What the rules read of an unpublished article (``storage.articles.ArticleView`` is one)."""

    @property
    def url(self) -> str | None: ...
    @property
    def quality(self) -> float | None: ...
    @property
    def heat(self) -> float | None: ...
    @property
    def dated(self) -> datetime | None: ...
    @property
    def added_at(self) -> datetime | None: ...  # when the commit that added the file was written
    @property
    def topics(self) -> tuple[str, ...]: ...
    # "posted", "unpublished" (taken back, until a plan gives it back) or "same story" when
    # not on offer
    @property
    def taken(self) -> str | None: ...


A = TypeVar("A", bound=Article)  # the caller's own article type comes back out


@dataclass(frozen=True)
class CandidateRules:
    per_day: int = 10
    min_quality: float | None = None  # None: no minimum
    max_age_days: int = 7
    topics: tuple[str, ...] = ()
    require_score: bool = False  # True: an unscored article is never offered
    # The desk choosing, and every desk in config order: an article is offered only by the
    # desk it routes to. No routes: one desk takes everything.
    desk: str | None = None
    routes: tuple[Route, ...] = ()


def age_of(article: Article) -> datetime | None:
    """When the article dates from: its own date, else when its file was added to the repo
    (never when the bot first saw it: a 2020 article scanned today is not today's news)."""
    return article.dated or article.added_at


def fresh_since(rules: CandidateRules, *, now: datetime) -> datetime:
    """What a pool read may leave out as too old: articles dated before this. A day before
    the age rule's own limit (``refuser``), so the pre-filter never drops what the rule keeps
    (the rule still decides the day in between)."""
    return now - timedelta(days=rules.max_age_days + 1)


def passes_quality(quality: float | None, rules: CandidateRules) -> bool:
    """The quality rule; ``storage.articles.unpublished_pool`` applies the same in SQL."""
    if quality is None:
        return not rules.require_score
    return rules.min_quality is None or quality >= rules.min_quality


def rank_key(article: Article) -> tuple[int, float, float, float]:
    """Scored articles first, best quality first; ties go to the hotter, then the newer one.
    Unscored articles follow every scored one, hottest then newest first."""
    when = age_of(article)
    newest = when.timestamp() if when else 0.0
    unscored = article.quality is None
    return (int(unscored), -(article.quality or 0.0), -(article.heat or 0.0), -newest)


# A ``taken`` mark -> the Census field it is counted under ("same story" otherwise).
_TAKEN = {"posted": "posted", "unpublished": "taken_back"}


def refusal(article: Article, rules: CandidateRules, *, now: datetime) -> str | None:
    """The first rule the article fails (a :class:`Census` field name), or None."""
    return refuser(rules, now=now)(article)


def refuser(rules: CandidateRules, *, now: datetime) -> Callable[[Article], str | None]:
    """``refusal`` of ``rules`` at ``now``, for many articles: the age limit and the topics
    worked out once, and the desk once per set of topics (a pool of 10,000 articles has a
    few hundred), not again for each article and desk."""
    cutoff = now - timedelta(days=rules.max_age_days)  # fresh: dated at or after it
    wanted = {t.casefold() for t in rules.topics}  # on topic: any of them, in any case
    desks: dict[tuple[str, ...], str | None] = {}

    def refuse(article: Article) -> str | None:
        if article.taken is not None:
            return _TAKEN.get(article.taken, "same_story")
        when = age_of(article)
        if when is None:
            return "undated"
        if when < cutoff:
            return "too_old"
        if article.quality is None and rules.require_score:
            return "unscored"
        if not passes_quality(article.quality, rules):
            return "below_min"
        topics = tuple(article.topics)  # itself, when a tuple already
        if wanted and not any(t.casefold() in wanted for t in topics):
            return "off_topic"
        if rules.routes:
            if topics not in desks:
                desks[topics] = desk_for(topics, rules.routes)
            desk = desks[topics]
            if desk != rules.desk:
                return "no_desk" if desk is None else "other_desk"
        return None

    return refuse


def select_candidates(
    pool: Iterable[A], rules: CandidateRules, *, now: datetime, limit: int | None = None
) -> list[A]:
    """The day's candidates: fresh, good enough, on topic, best first, one per story (URL)."""
    refuse = refuser(rules, now=now)
    eligible = sorted((a for a in pool if refuse(a) is None), key=rank_key)
    chosen: list[A] = []
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


@dataclass(frozen=True)
class Census:
    """How many unpublished articles there are, and why those that are not candidates are
    not: each counted once, under the first rule it fails (in the order of the fields)."""

    unpublished: int = 0
    qualify: int = 0  # pass every rule (before per_day and one card per story)
    posted: int = 0
    taken_back: int = 0  # unpublished, not given back by a plan (it changed) yet
    same_story: int = 0
    undated: int = 0
    too_old: int = 0
    unscored: int = 0
    below_min: int = 0
    off_topic: int = 0
    other_desk: int = 0  # routed to another desk
    no_desk: int = 0  # routed to no desk: offered nowhere
    unreadable: int = 0  # files that could not be read, so not counted above
    scanned: int = 0  # articles in the repo, readable or not


def take_census(
    pool: Iterable[Article],
    rules: CandidateRules,
    *,
    now: datetime,
    scanned: int = 0,
    unreadable: int = 0,
    older: Mapping[str | None, int] | None = None,
) -> Census:
    """Count ``pool`` (every unpublished article, posted ones and copies marked ``taken``)
    by the first rule each fails. ``older``: how many more were left out of ``pool`` as
    dated before ``fresh_since``, by their ``taken`` mark (None: not taken, so too old)."""
    counts = dict.fromkeys((f.name for f in fields(Census)), 0)
    refuse = refuser(rules, now=now)
    for article in pool:
        counts["unpublished"] += 1
        counts[refuse(article) or "qualify"] += 1
    for mark, n in (older or {}).items():
        counts["unpublished"] += n
        counts[_TAKEN.get(mark, "same_story") if mark else "too_old"] += n
    counts.update(scanned=scanned, unreadable=unreadable)
    return Census(**counts)


def describe(census: Census, rules: CandidateRules) -> str:
    """One line: ``no candidates today: 2,417 unpublished; 2,390 older than 7 days, ...``."""
    if census.scanned == 0:
        return "no candidates today: no articles scanned yet (run 'curator scan')"
    reasons = [
        (census.posted, "already posted"),
        (census.taken_back, "unpublished (taken back)"),
        (census.same_story, "repeating a story already published or posted"),
        (census.undated, "of unknown age ('curator scan --full' dates them from git)"),
        (census.too_old, f"older than {rules.max_age_days:,} days"),
        (census.unscored, "unscored (candidates.require_score is true)"),
        (census.below_min, f"below min_quality {rules.min_quality or 0:g}"),
        (census.off_topic, "not on a listed topic"),
        (census.other_desk, "for other desks"),
        (census.no_desk, "on no desk's topics"),
    ]
    why = ", ".join(f"{n:,} {what}" for n, what in reasons if n)
    if census.qualify:
        line = f"candidates today: {census.qualify:,} of {census.unpublished:,} unpublished"
        line += f" ({why})" if why else ""
    elif census.unpublished == 0:
        line = f"no candidates today: 0 unpublished of {census.scanned:,} articles"
    else:
        line = f"no candidates today: {census.unpublished:,} unpublished"
        line += f"; {why}" if why else ""
    if census.unreadable:
        line += f"; {census.unreadable:,} files could not be read (see 'curator scan --errors')"
    return line
