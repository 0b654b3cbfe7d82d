"""Taking a published article back: the card an operator names, queueing it for the next
publish run, and giving an unpublished article back to the pool once its file changes.

The publish run itself (storage/publish_log.py, bot/publishing/job.py) flips the flag and
records the post as unpublished, with the blob its file was left at (``post_unpublish``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, delete, insert, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from storage.models import Article, Post, PostStatus, PostUnpublish
from storage.records import UnpublishTarget
from storage.votes import set_status

ARTICLE = Article.__table__
POST = Post.__table__
UNPUBLISH = PostUnpublish.__table__


def find_target(engine: Engine, *, path_or_url: str) -> UnpublishTarget | None:
    """The card of the article at that path, else of an article with that URL (the one
    with a card, a published one first); an article without a card has ``post_id`` None.
    None when no article in the repo has that path or URL."""
    columns = (
        ARTICLE.c.id.label("article_id"), ARTICLE.c.path, ARTICLE.c.title,
        ARTICLE.c.published, POST.c.id.label("post_id"), POST.c.status,
    )  # fmt: skip
    query = select(*columns).outerjoin(POST, POST.c.article_id == ARTICLE.c.id)
    query = query.where(ARTICLE.c.removed_at.is_(None))
    with engine.connect() as conn:
        row = conn.execute(query.where(ARTICLE.c.path == path_or_url)).first()
        if row is None:
            row = conn.execute(
                query.where(ARTICLE.c.url == path_or_url).order_by(
                    POST.c.id.is_(None), ARTICLE.c.published.desc(), ARTICLE.c.path
                )
            ).first()
    return None if row is None else UnpublishTarget.of(row)


def queue_unpublish(engine: Engine, *, post_id: int, by: str, now: datetime) -> bool:
    """Queue a published post for the next publish run, asked by the operator ``by``; False
    when it is no longer published (someone else queued it, or it was never live)."""
    with engine.begin() as conn:
        cause = f"unpublish asked by {by} (curator unpublish)"
        if not set_status(
            conn, post_id=post_id, old=PostStatus.PUBLISHED, new=PostStatus.UNPUBLISHING,
            cause=cause, at=now,
        ):  # fmt: skip
            return False
        conn.execute(delete(UNPUBLISH).where(UNPUBLISH.c.post_id == post_id))
        conn.execute(insert(UNPUBLISH).values(post_id=post_id, requested_by=by, at=now))
    return True


def unchanged_since() -> ColumnElement[bool]:
    """An unpublished post's article as unpublishing left it (in a query over ``post``,
    ``post_unpublish`` and ``article``): its blob is the one the run left, or the scan has
    not touched its row since (a flip back to the very bytes read before publishing is no
    change the scan sees)."""
    return or_(
        UNPUBLISH.c.blob_sha == ARTICLE.c.blob_sha,
        and_(UNPUBLISH.c.blob_sha.is_not(None), ARTICLE.c.updated_at <= POST.c.status_changed_at),
    )


def release_changed_unpublished(engine: Engine) -> int:
    """Delete the unpublished cards whose article changed since it was taken back: the
    article goes back to the pool, to be offered, voted on and published afresh. How many."""
    left = (
        select(UNPUBLISH.c.post_id)
        .where(
            UNPUBLISH.c.post_id == POST.c.id,
            ARTICLE.c.id == POST.c.article_id,
            ARTICLE.c.published.is_(False),
            ~unchanged_since(),
        )
        .exists()
    )
    with engine.begin() as conn:
        return conn.execute(
            delete(POST).where(POST.c.status == PostStatus.UNPUBLISHED, left)
        ).rowcount


def requested_by(conn: Connection, *, post_id: int) -> str | None:
    """The operator who asked to unpublish the post (None: its editors did, or nobody)."""
    return conn.scalar(select(UNPUBLISH.c.requested_by).where(UNPUBLISH.c.post_id == post_id))
