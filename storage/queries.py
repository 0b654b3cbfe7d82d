"""Read queries over articles and posts: keyword-only functions that take a connection."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, exists, or_, select

from storage.models import Article, ArticleTopic, Post, as_utc

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


def unpublished_pool(conn: Connection, *, min_quality: float | None) -> list[ArticleView]:
    """Articles that could become candidates: readable, in the repo, unpublished, never posted,
    and not a copy (same URL) of a story already published or posted.

    The finer rules (freshness, topics, ranking) are pure functions in ``bot.candidates``.
    """
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
    query = select(a).where(
        a.c.published.is_(False),
        a.c.error.is_(None),
        a.c.removed_at.is_(None),
        ~exists().where(POST.c.article_id == a.c.id),
        ~same_story_done,
    )
    if min_quality is not None:
        query = query.where(and_(a.c.quality.is_not(None), a.c.quality >= min_quality))
    rows = conn.execute(query).all()
    topics = _topics_of(conn, [r.id for r in rows])
    return [_view(r, topics.get(r.id, ())) for r in rows]


def _topics_of(conn: Connection, ids: list[int]) -> dict[int, tuple[str, ...]]:
    found: dict[int, list[str]] = {}
    for i in range(0, len(ids), 500):
        q = select(TOPIC.c.article_id, TOPIC.c.topic).where(
            TOPIC.c.article_id.in_(ids[i : i + 500])
        )
        for article_id, topic in conn.execute(q):
            found.setdefault(article_id, []).append(topic)
    return {k: tuple(sorted(v, key=str.casefold)) for k, v in found.items()}


def _view(row: Any, topics: tuple[str, ...]) -> ArticleView:
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
        provider_name=row.provider_name,
        provider_domain=row.provider_domain,
        image_url=row.image_url,
        topics=topics,
        related=tuple(json.loads(row.related_json)) if row.related_json else (),
    )


def scan_errors(conn: Connection) -> Iterator[tuple[str, str]]:
    """(path, reason) of every article in the repo that could not be read."""
    q = (
        select(ARTICLE.c.path, ARTICLE.c.error)
        .where(ARTICLE.c.error.is_not(None), ARTICLE.c.removed_at.is_(None))
        .order_by(ARTICLE.c.path)
    )
    for path, error in conn.execute(q):
        yield str(path), str(error)


def article_view(conn: Connection, article_id: int) -> ArticleView | None:
    row = conn.execute(select(ARTICLE).where(ARTICLE.c.id == article_id)).first()
    if row is None:
        return None
    return _view(row, _topics_of(conn, [article_id]).get(article_id, ()))
