"""Taking a published article back: the card an operator names, queueing it for the next
publish run, and giving an unpublished article back to the pool once what editors vote on
changes (its fingerprint, storage.fingerprint, in a key of ``votes.revote_on``).

The publish run itself (storage/publish_log.py, bot/publishing/job.py) flips the flag and
records the post as unpublished, with the blob its file was left at (``post_unpublish``).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update
from sqlalchemy.engine import Engine

from storage.fingerprint import differing, loads
from storage.models import Article, Post, PostStatus, PostUnpublish, as_utc
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


def release_changed_unpublished(conn: Connection, *, keys: Collection[str]) -> int:
    """Delete the unpublished cards whose article changed since it was taken back, in one of
    ``keys`` (``votes.revote_on``: a collector's new quality or heat is no change): the
    article goes back to the pool, to be offered, voted on and published afresh. How many.

    Until then the pool leaves an unpublished card's article out whatever its file says
    (``storage.articles.unpublished_pool``): run in the plan's transaction, before the pool is
    read, so that a scan in between cannot offer an article whose card is still there.
    """
    query = (
        select(
            POST.c.id, POST.c.voted_hash, POST.c.status_changed_at,
            UNPUBLISH.c.blob_sha.label("left_blob"), UNPUBLISH.c.left_hash,
            ARTICLE.c.blob_sha, ARTICLE.c.content_hash, ARTICLE.c.updated_at,
        )
        .join(UNPUBLISH, UNPUBLISH.c.post_id == POST.c.id)
        .join(ARTICLE, ARTICLE.c.id == POST.c.article_id)
        .where(POST.c.status == PostStatus.UNPUBLISHED, ARTICLE.c.published.is_(False))
    )  # fmt: skip
    changed = []
    for row in conn.execute(query).all():
        if row.blob_sha == row.left_blob:
            if row.left_hash is None and row.content_hash:  # what it was left at, read
                keep = update(UNPUBLISH).where(UNPUBLISH.c.post_id == row.id)
                conn.execute(keep.values(left_hash=row.content_hash))
        elif _changed(row, keys):
            changed.append(row.id)
    if not changed:
        return 0
    return conn.execute(delete(POST).where(POST.c.id.in_(changed))).rowcount


def _changed(row: Row[Any], keys: Collection[str]) -> bool:
    """Whether an unpublished card's article, at another blob than the one unpublishing
    left, differs from it in a key that counts."""
    if row.left_blob is None:
        return True  # nothing was left to compare with (the file had gone)
    if as_utc(row.updated_at) <= as_utc(row.status_changed_at):
        return False  # the scan has not read the file since (a flip back to the same bytes)
    # Its fingerprint once unpublished; unread by a scan, the version editors approved.
    left, now = loads(row.left_hash or row.voted_hash), loads(row.content_hash)
    if not left or not now:
        return True  # no fingerprint to compare: the file changed
    return bool(differing(left, now, keys))


def requested_by(conn: Connection, *, post_id: int) -> str | None:
    """The operator who asked to unpublish the post (None: its editors did, or nobody)."""
    return conn.scalar(select(UNPUBLISH.c.requested_by).where(UNPUBLISH.c.post_id == post_id))
