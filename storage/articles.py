"""Articles as the scan keeps them, read: the candidate pool, an article's view, counts,
scan problems and ids by path."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, and_, exists, func, null, or_, select
from sqlalchemy.engine import Engine

from storage.models import Article, ArticleTopic, Post, PostStatus, as_utc

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
    """
    a = ARTICLE
    posted, taken_back, same_story_done = _taken_marks()
    query = select(a)
    if dated_since is None:
        query = query.where(*_unpublished())
    else:
        query = query.where(*_unpublished(by_age=True), _dated_since(dated_since))
    if taken:
        query = query.add_columns(
            posted.label("posted"), taken_back.label("taken_back"),
            same_story_done.label("same_story"),
        )  # fmt: skip
    else:
        query = query.where(~posted, ~taken_back, ~same_story_done)
    scored = a.c.quality.is_not(None)
    if min_quality is not None:
        high_enough = and_(scored, a.c.quality >= min_quality)
        query = query.where(high_enough if require_score else or_(~scored, high_enough))
    elif require_score:
        query = query.where(scored)
    rows = conn.execute(query).all()
    topics = topics_of(conn, ids=[r.id for r in rows])
    views = [view_of_row(r, topics.get(r.id, ())) for r in rows]
    if taken:
        views = [
            dataclasses.replace(v, taken=_taken(r)) if _taken(r) else v
            for v, r in zip(views, rows, strict=True)
        ]
    return views


def older_unpublished(conn: Connection, *, before: datetime) -> dict[str | None, int]:
    """How many unpublished articles ``unpublished_pool(dated_since=before, taken=True)``
    leaves out, by their ``ArticleView.taken`` mark (None: on offer but for their age)."""
    a = ARTICLE
    old = (*_unpublished(by_age=True), _dated_before(before))
    # Most are old and few taken: count the old in one pass, then the taken ones from the
    # cards and the stories done (by id and by URL, which indexes serve), each under the
    # first mark ``_taken`` gives it; what is left is too old.
    carded = select(POST.c.article_id)
    posted = carded.where(POST.c.status != PostStatus.UNPUBLISHED)
    other, twice = ARTICLE.alias("other"), ARTICLE.alias("twice")
    # A copy's URL is held twice: those few URLs, read from the index on url alone, lead to
    # the copies, each then checked by URL (not a probe for every story published or carded).
    shared_urls = select(twice.c.url).where(twice.c.url.is_not(None))
    shared_urls = shared_urls.group_by(twice.c.url).having(func.count() > 1)
    done_elsewhere = exists().where(
        other.c.url == a.c.url, or_(other.c.published.is_(True), other.c.id.in_(carded))
    )
    marks = {
        "posted": a.c.id.in_(posted),
        "unpublished": and_(a.c.id.in_(carded), a.c.id.not_in(posted)),
        # Unpublished and never carded itself, so the story done is another article's.
        "same story": and_(a.c.url.in_(shared_urls), a.c.id.not_in(carded), done_elsewhere),
    }
    count = lambda *where: int(conn.execute(select(func.count()).where(*where)).scalar_one())  # noqa: E731
    counts: dict[str | None, int] = {mark: count(*old, where) for mark, where in marks.items()}
    counts[None] = count(*old) - sum(counts.values())
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


def _unpublished(*, by_age: bool = False) -> tuple[ColumnElement[bool], ...]:
    """Unpublished, readable, in the repo. ``by_age``: the same, written so that no index
    serves it: SQLite, never analyzed, would otherwise read every unpublished article
    through ix_article_candidate or ix_article_live rather than by age (a few fresh ones
    through ix_article_dated, or one pass over the table to count the older ones)."""
    a = ARTICLE
    if by_age:
        return (
            func.coalesce(a.c.published, True).is_(False),
            func.coalesce(a.c.error, null()).is_(None),
            func.coalesce(a.c.removed_at, null()).is_(None),
        )
    return (a.c.published.is_(False), a.c.error.is_(None), a.c.removed_at.is_(None))


def _dated_before(moment: datetime) -> ColumnElement[bool]:
    """Its own date, else when its file was added, is before ``moment`` (``age_of`` of
    ``bot.rules.candidates``); NULL, so left out, when neither is known. Most articles
    are old: one pass over the table counts them faster than the index on ``dated``."""
    a, moment = ARTICLE, moment.astimezone(UTC)  # SQLite compares stored UTC text
    return func.coalesce(a.c.dated, a.c.added_at) < moment


def _dated_since(moment: datetime) -> ColumnElement[bool]:
    """Not ``_dated_before``, keeping an article of unknown age (no date, no commit: the
    rules count it as "undated"), spelled so the index on ``dated`` serves it."""
    a, moment = ARTICLE, moment.astimezone(UTC)
    unknown_or_since = or_(a.c.added_at.is_(None), a.c.added_at >= moment)
    return or_(a.c.dated >= moment, and_(a.c.dated.is_(None), unknown_or_since))


def _taken_marks() -> tuple[ColumnElement[bool], ColumnElement[bool], ColumnElement[bool]]:
    """(posted, taken back, a copy of a story published or posted) of ``article``."""
    a = ARTICLE
    other = ARTICLE.alias("other")
    same_story_done = exists().where(
        a.c.url.is_not(None),
        other.c.url == a.c.url,
        other.c.id != a.c.id,
        or_(
            other.c.published.is_(True),
            exists().where(POST.c.article_id == other.c.id),
        ),
    )
    posted = exists().where(POST.c.article_id == a.c.id, POST.c.status != PostStatus.UNPUBLISHED)
    # Until the plan releases it (it changed since), whatever the file says now.
    taken_back = exists().where(
        POST.c.article_id == a.c.id, POST.c.status == PostStatus.UNPUBLISHED
    )
    return posted, taken_back, same_story_done


def _taken(row: Any) -> str | None:
    if row.posted:
        return "posted"
    if row.taken_back:
        return "unpublished"
    return "same story" if row.same_story else None


def article_counts(conn: Connection) -> tuple[int, int]:
    """(articles in the repo, how many of them could not be read)."""
    return tuple(  # type: ignore[return-value]
        conn.execute(
            select(func.count(), func.count(ARTICLE.c.error)).where(ARTICLE.c.removed_at.is_(None))
        ).one()
    )


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
