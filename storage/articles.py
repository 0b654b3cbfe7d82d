"""Articles as the scan keeps them, read: the candidate pool, an article's view, counts,
scan problems and ids by path."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    Select,
    and_,
    case,
    exists,
    false,
    func,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import Engine

from storage.card_keys import SEP
from storage.models import Article, ArticleTopic, Post, PostStatus, as_utc, on_offer_by_age
from storage.url_twins import URL_TWIN, shared_urls

ARTICLE = Article.__table__
TOPIC = ArticleTopic.__table__
POST = Post.__table__


@dataclass(frozen=True)
class ArticleView:
    """An article as the bot shows it: a card, a digest line, a CLI row."""

    id: int
    path: str
    title: str | None
    excerpt: str | None
    url: str | None
    quality: float | None
    heat: float | None
    dated: datetime | None
    first_seen_at: datetime
    provider_name: str | None
    provider_domain: str | None
    image_url: str | None
    topics: tuple[str, ...]
    related: tuple[dict[str, Any], ...]
    # When the commit that added the file was written: the age of an article without a
    # usable date (set by the scan only for those).
    added_at: datetime | None = None
    # Why it can no longer be offered, in a pool read with ``taken=True``: "posted" (it
    # has a card), "unpublished" (taken back, not yet given back by a plan) or "same story"
    # (a copy, same URL, of a story published or posted).
    taken: str | None = None


def unpublished_pool(
    conn: Connection,
    *,
    min_quality: float | None = None,
    require_score: bool = False,
    taken: bool = False,
    dated_since: datetime | None = None,
) -> list[ArticleView]:
    """Articles that could become candidates: readable, in the repo, unpublished, never posted,
    and not a copy (same URL) of a story already published or posted. An article taken back
    (its card unpublished) is left out until the plan gives it back, once what editors vote
    on changed (its card then goes: ``storage.unpublish.release_changed_unpublished``, in the
    plan's transaction).

    ``min_quality`` and ``require_score`` leave out early, in SQL, what the quality rule of
    ``bot.rules.candidates.passes_quality`` would refuse (the two must agree: a test holds them to
    it): an unscored article stays unless scores are required. The other rules (freshness,
    topics, ranking) are pure functions there. ``taken=True`` keeps posted articles and
    copies too, each marked with why (``ArticleView.taken``), so the rules can count them.
    ``dated_since`` leaves out, in SQL, articles dated (else added) before it: the freshness
    rule's pre-filter (``older_unpublished`` counts them); an article of unknown age stays.
    ``pool_articles`` reads the same articles with only what the rules read.
    """
    query = _pool_query(
        conn, select(ARTICLE), min_quality=min_quality, require_score=require_score, taken=taken,
        dated_since=dated_since,
    )  # fmt: skip
    rows = conn.execute(query).all()
    topics = topics_of(conn, ids=[r.id for r in rows])
    return [
        dataclasses.replace(
            view_of_row(r, topics.get(r.id, ())), taken=_taken(r) if taken else None
        )
        for r in rows
    ]


@dataclass(frozen=True)
class PoolArticle:
    """What the candidate rules read of an unpublished article (a
    ``bot.rules.candidates.Article``): not the title, excerpt or related stories a card
    shows (``article_views`` reads those of the few chosen)."""

    id: int
    url: str | None
    quality: float | None
    heat: float | None
    dated: datetime | None
    added_at: datetime | None
    topics: tuple[str, ...]  # case-folded (their keys): the rules compare topics case-folded
    taken: str | None = None


def pool_articles(
    conn: Connection,
    *,
    min_quality: float | None = None,
    require_score: bool = False,
    taken: bool = False,
    dated_since: datetime | None = None,
) -> list[PoolArticle]:
    """``unpublished_pool``'s articles, each with only what the rules read, in one statement:
    its topics' keys aggregated per article (an index-only probe each), not a second read of
    every topic of the age range (PostgreSQL hashed all 2,000,000 topics for it at a million
    articles)."""
    a = ARTICLE
    keys = select(func.aggregate_strings(TOPIC.c.key, SEP)).where(TOPIC.c.article_id == a.c.id)
    columns = select(
        a.c.id, a.c.url, a.c.quality, a.c.heat, a.c.dated, a.c.added_at,
        keys.scalar_subquery().label("topic_keys"),
    )  # fmt: skip
    query = _pool_query(
        conn, columns, min_quality=min_quality, require_score=require_score, taken=taken,
        dated_since=dated_since,
    )  # fmt: skip
    if conn.dialect.name == "postgresql":
        # A few thousand index probes: JIT would compile them for longer than they run
        # (~60 ms at a million articles, for a plan costed as if every probe read the disk).
        conn.exec_driver_sql("SET LOCAL jit = off")
    return [
        PoolArticle(
            id=r.id,
            url=r.url,
            quality=r.quality,
            heat=r.heat,
            dated=as_utc(r.dated),
            added_at=as_utc(r.added_at),
            topics=tuple(sorted(r.topic_keys.split(SEP))) if r.topic_keys else (),
            taken=_taken(r) if taken else None,
        )
        for r in conn.execute(query)
    ]


def article_views(conn: Connection, *, ids: list[int]) -> list[ArticleView]:
    """The articles of ``ids``, as the bot shows them, in that order."""
    rows = {r.id: r for r in conn.execute(select(ARTICLE).where(ARTICLE.c.id.in_(ids)))}
    topics = topics_of(conn, ids=ids)
    return [view_of_row(rows[i], topics.get(i, ())) for i in ids if i in rows]


def _pool_query(
    conn: Connection, query: Select, *, min_quality: float | None, require_score: bool, taken: bool,
    dated_since: datetime | None,
) -> Select | CompoundSelect:  # fmt: skip
    """``query`` of article narrowed to ``unpublished_pool``'s articles."""
    a = ARTICLE
    _, _, same_story_done = _taken_marks()
    # The card's state, if it has one, looked up for each article (a scalar subquery, so a
    # probe of the index of post by article: not every card hashed to find a few).
    card = select(POST.c.status).where(POST.c.article_id == a.c.id).scalar_subquery()
    if taken:
        query = query.add_columns(card.label("card"), same_story_done.label("same_story"))
    else:
        query = query.where(card.is_(None), ~same_story_done)
    scored = a.c.quality.is_not(None)
    if min_quality is not None:
        high_enough = and_(scored, a.c.quality >= min_quality)
        query = query.where(high_enough if require_score else or_(~scored, high_enough))
    elif require_score:
        query = query.where(scored)
    if dated_since is None:
        return query.where(*_unpublished())
    return _by_age(conn, query, dated_since)


def _by_age(conn: Connection, query: Select, since: datetime) -> CompoundSelect:
    """``query`` of article narrowed to the unpublished ones (readable, in the repo) of
    ``since`` or later (their date, else when their file was added) and those of unknown
    age: two ranges of ``ix_article_on_offer_by_age`` (an OR of the two would read all of
    it on SQLite)."""
    age, on_offer = on_offer_by_age(conn.dialect.name)
    moment = since.astimezone(UTC)  # SQLite compares stored UTC text
    return union_all(query.where(*on_offer, age >= moment), query.where(*on_offer, age.is_(None)))


def older_unpublished(
    conn: Connection, *, before: datetime, old: int | None = None
) -> dict[str | None, int]:
    """How many unpublished articles ``unpublished_pool(dated_since=before, taken=True)``
    leaves out, by their ``ArticleView.taken`` mark (None: on offer but for their age).
    ``old``: how many they are, when the caller knows (the articles on offer less the
    pool: ``article_counts``); else counted here, from the index by age."""
    a, (age, on_offer) = ARTICLE, on_offer_by_age(conn.dialect.name)
    old_terms = (*on_offer, age < before.astimezone(UTC))
    # Most are old and few taken: the old counted (by the caller, else from the index
    # alone), then the taken ones from the cards and the stories done (by URL), each under
    # the first mark ``_taken`` gives it; what is left is too old. The cards' articles are
    # looked up in the order of their ids (``IN`` over the index of post by article):
    # SQLite then reads the article table's pages in order, not one random page per card
    # (as a scan of post in its own order did, 2-3x slower at 100,000 cards); and the
    # taken back, few, counted apart.
    carded = select(POST.c.article_id)
    count = lambda *where: int(conn.execute(select(func.count()).where(*where)).scalar_one())  # noqa: E731
    back = carded.where(POST.c.status == PostStatus.UNPUBLISHED)
    counts: dict[str | None, int] = {"unpublished": count(*old_terms, a.c.id.in_(back))}
    counts["posted"] = count(*old_terms, a.c.id.in_(carded)) - counts["unpublished"]
    other = ARTICLE.alias("other")
    # A copy's URL is held twice: those few URLs, kept by triggers (``url_twin``), lead to
    # the copies, each then checked by URL (not a probe for every story published or
    # carded; and no plan built around a guess of how many URLs are held twice).
    urls = shared_urls(conn)
    done_elsewhere = exists().where(
        other.c.url == a.c.url, or_(other.c.published.is_(True), other.c.id.in_(carded))
    )
    counts["same story"] = sum(
        count(*old_terms, a.c.url.in_(urls[i : i + 500]), a.c.id.not_in(carded), done_elsewhere)
        for i in range(0, len(urls), 500)
    )
    counts[None] = (count(*old_terms) if old is None else old) - sum(counts.values())
    return {mark: n for mark, n in counts.items() if n}


def count_on_offer_without(conn: Connection, *, topic_keys: Collection[str]) -> int:
    """How many articles ``unpublished_pool()`` returns (on offer, any age) that have no
    topic whose case-folded key is in ``topic_keys``."""
    posted, taken_back, same_story_done = _taken_marks()
    listed = exists().where(TOPIC.c.article_id == ARTICLE.c.id, TOPIC.c.key.in_(sorted(topic_keys)))
    query = select(func.count()).where(
        *_unpublished(), ~posted, ~taken_back, ~same_story_done, ~listed
    )
    return int(conn.execute(query).scalar_one())


def _unpublished() -> tuple[ColumnElement[bool], ...]:
    """Unpublished, readable, in the repo, whatever the age (``on_offer_by_age`` for an age)."""
    a = ARTICLE
    return (a.c.published.is_(False), a.c.error.is_(None), a.c.removed_at.is_(None))


def _taken_marks() -> tuple[ColumnElement[bool], ColumnElement[bool], ColumnElement[bool]]:
    """(posted, taken back, a copy of a story published or posted) of ``article``."""
    a = ARTICLE
    other = ARTICLE.alias("other")
    done_elsewhere = exists().where(
        other.c.url == a.c.url,
        other.c.id != a.c.id,
        or_(
            other.c.published.is_(True),
            exists().where(POST.c.article_id == other.c.id),
        ),
    )
    # Whether its URL is held twice first (``url_twin``, a handful of rows): most articles
    # are no copy, and the rows of the others are read only then.
    held_twice = a.c.url.in_(select(URL_TWIN.c.url))
    same_story_done = and_(a.c.url.is_not(None), case((held_twice, done_elsewhere), else_=false()))
    posted = exists().where(POST.c.article_id == a.c.id, POST.c.status != PostStatus.UNPUBLISHED)
    # Until the plan releases it (it changed since), whatever the file says now.
    taken_back = exists().where(
        POST.c.article_id == a.c.id, POST.c.status == PostStatus.UNPUBLISHED
    )
    return posted, taken_back, same_story_done


def _taken(row: Any) -> str | None:
    if row.card is not None:
        return "unpublished" if row.card == PostStatus.UNPUBLISHED else "posted"
    return "same story" if row.same_story else None


def article_counts(conn: Connection) -> tuple[int, int, int]:
    """(articles in the repo, how many of them could not be read, how many are on offer:
    unpublished and readable, of any age): one pass of ``ix_article_live``."""
    a = ARTICLE
    on_offer = func.count(case((and_(a.c.published.is_(False), a.c.error.is_(None)), 1)))
    query = select(func.count(), func.count(a.c.error), on_offer).where(a.c.removed_at.is_(None))
    return tuple(conn.execute(query).one())  # type: ignore[return-value]


def topics_of(conn: Connection, *, ids: list[int]) -> dict[int, tuple[str, ...]]:
    found: dict[int, list[str]] = {}
    for i in range(0, len(ids), 500):
        q = select(TOPIC.c.article_id, TOPIC.c.topic).where(
            TOPIC.c.article_id.in_(ids[i : i + 500])
        )
        for article_id, topic in conn.execute(q):
            found.setdefault(article_id, []).append(topic)
    return {k: tuple(sorted(v, key=str.casefold)) for k, v in found.items()}


def view_of_row(row: Any, topics: tuple[str, ...]) -> ArticleView:
    return ArticleView(
        id=row.id,
        path=row.path,
        title=row.title,
        excerpt=row.excerpt,
        url=row.url,
        quality=row.quality,
        heat=row.heat,
        dated=as_utc(row.dated),
        first_seen_at=as_utc(row.first_seen_at),
        added_at=as_utc(row.added_at),
        provider_name=row.provider_name,
        provider_domain=row.provider_domain,
        image_url=row.image_url,
        topics=topics,
        related=tuple(json.loads(row.related_json)) if row.related_json else (),
    )


def scan_problems(
    conn: Connection, *, kind: Literal["error", "warning"]
) -> Iterator[tuple[str, str]]:
    """(path, what) of every article in the repo the scan could not read (``"error"``) or
    read with a warning (``"warning"``), by path."""
    column = ARTICLE.c[kind]
    q = (
        select(ARTICLE.c.path, column)
        .where(column.is_not(None), ARTICLE.c.removed_at.is_(None))
        .order_by(ARTICLE.c.path)
    )
    for path, what in conn.execute(q):
        yield str(path), str(what)


def article_view(conn: Connection, *, article_id: int) -> ArticleView | None:
    row = conn.execute(select(ARTICLE).where(ARTICLE.c.id == article_id)).first()
    if row is None:
        return None
    return view_of_row(row, topics_of(conn, ids=[article_id]).get(article_id, ()))


def ids_by_path(engine: Engine) -> dict[str, int]:
    """Every article's id, by its path in the content repo."""
    with engine.connect() as conn:
        return {path: id_ for id_, path in conn.execute(select(ARTICLE.c.id, ARTICLE.c.path))}
