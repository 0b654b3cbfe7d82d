"""What publishing keeps in the database: the batch written ahead of each push, the commits
pushed, and the posts they published or blocked, with their decisions and holds.

The order that makes a publish safe to kill at any point (bot/publishing/job.py says it whole):
:func:`write_ahead` before each push, then one :func:`record` transaction after it; a batch
still pending when a run starts is settled against the remote (:func:`pending_batches`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Engine

from storage.models import (
    Article,
    Decision,
    Post,
    PostStatus,
    PublishBatch,
    PublishCommit,
    PublishHold,
)
from storage.post_views import reactions_for
from storage.records import CommitRecord
from storage.votes import Reaction

log = logging.getLogger(__name__)

ARTICLE = Article.__table__
POST = Post.__table__
DECISION = Decision.__table__
BATCH = PublishBatch.__table__
HOLD = PublishHold.__table__
COMMIT = PublishCommit.__table__

_CHUNK = 500  # bound-parameter limits


@dataclass(frozen=True)
class QueuedPost:
    """A post waiting to be published (approved, or blocked with its hold), its article and
    every reaction on its card (the tally is a rule of bot/)."""

    post_id: int
    article_id: int
    path: str
    title: str | None
    channel: str
    ts: str | None
    permalink: str | None
    status: str
    held: bool
    hold_blob: str | None
    reactions: tuple[Reaction, ...] = ()
    desk: str | None = None  # the desk it was posted for (None: from before desks)
    # The fingerprint editors approved (storage.fingerprint): the one the votes were cast on,
    # else the one the card shows; publishing refuses a file that differs from it.
    voted_hash: str | None = None


@dataclass(frozen=True)
class PostChange:
    """What publishing decided for one post: its new status and why; ``commit_sha`` for a
    published one, ``hold_blob`` (the refused file's blob) for a blocked one."""

    post_id: int
    article_id: int
    from_status: str
    status: str
    cause: str
    commit_sha: str | None = None
    hold_blob: str | None = None


@dataclass(frozen=True)
class PendingBatch:
    """A batch a run wrote ahead of its push and never closed."""

    token: str
    commit_sha: str
    base_sha: str


def queued_posts(
    engine: Engine, *, statuses: Iterable[str], paths: Sequence[str] | None = None
) -> list[QueuedPost]:
    """Posts in ``statuses`` (optionally only those at ``paths``), with their reactions."""
    query = (
        select(
            POST.c.id, POST.c.article_id, POST.c.channel, POST.c.ts, POST.c.permalink,
            POST.c.status, POST.c.desk, ARTICLE.c.path, ARTICLE.c.title,
            HOLD.c.post_id.label("held"), HOLD.c.blob_sha.label("hold_blob"),
            func.coalesce(POST.c.voted_hash, ARTICLE.c.content_hash).label("voted_hash"),
        )
        .join(ARTICLE, ARTICLE.c.id == POST.c.article_id)
        .outerjoin(HOLD, HOLD.c.post_id == POST.c.id)
        .where(POST.c.status.in_([str(s) for s in statuses]))
    )  # fmt: skip
    with engine.connect() as conn:
        if paths is None:
            rows = list(conn.execute(query))
        else:
            rows = []
            for i in range(0, len(paths), _CHUNK):
                chunk = list(paths[i : i + _CHUNK])
                rows.extend(conn.execute(query.where(ARTICLE.c.path.in_(chunk))))
        reactions = reactions_for(conn, post_ids=[r.id for r in rows])
    return [
        QueuedPost(
            post_id=r.id, article_id=r.article_id, path=r.path, title=r.title,
            channel=r.channel, ts=r.ts, permalink=r.permalink, status=r.status,
            held=r.held is not None, hold_blob=r.hold_blob,
            reactions=tuple(reactions.get(r.id, ())), desk=r.desk, voted_hash=r.voted_hash,
        )
        for r in rows
    ]  # fmt: skip


def write_ahead(engine: Engine, *, token: str, commit: str, base: str, now: datetime) -> None:
    """Record, durably and before the push, the commit the batch is about to push."""
    with engine.begin() as conn:
        moved = conn.execute(
            update(BATCH).where(BATCH.c.token == token).values(commit_sha=commit, base_sha=base)
        )
        if moved.rowcount == 0:
            conn.execute(
                insert(BATCH).values(
                    token=token, state="pending", commit_sha=commit, base_sha=base, created_at=now
                )
            )


def close_batch(
    engine: Engine, *, token: str, state: str, detail: str | None, at: datetime
) -> None:
    """Close a batch still pending; one another run recorded meanwhile stays as it is."""
    with engine.begin() as conn:
        conn.execute(
            update(BATCH)
            .where(BATCH.c.token == token, BATCH.c.state == "pending")
            .values(state=state, detail=detail, finished_at=at)
        )


def pending_batches(engine: Engine) -> list[PendingBatch]:
    """Batches still pending, oldest first."""
    query = select(BATCH.c.token, BATCH.c.commit_sha, BATCH.c.base_sha).where(
        BATCH.c.state == "pending"
    )
    with engine.connect() as conn:
        return [PendingBatch(*row) for row in conn.execute(query.order_by(BATCH.c.id))]


def record(
    engine: Engine,
    *,
    changes: Sequence[PostChange],
    commit: str | None,
    message: str,
    article_count: int,
    token: str | None,
    now: datetime,
    unpushed: str | None = None,
) -> bool:
    """One transaction: the pushed commit, its batch closed, every post's new state.

    The batch moves to "pushed" only from another state, and everything else is written in
    the same transaction: so a batch is recorded once, whoever gets there first, and the
    one that comes second writes nothing and gets False. ``unpushed`` closes a batch this
    run wrote for a commit it never pushed (the detail says why).
    """
    with engine.begin() as conn:
        if token is not None and commit is not None:
            closed = conn.execute(
                update(BATCH)
                .where(BATCH.c.token == token, BATCH.c.state != "pushed")
                .values(state="pushed", commit_sha=commit, finished_at=now)
            )
            if closed.rowcount == 0:
                log.info("publish batch %s was recorded by another run", token)
                return False
        elif token is not None and unpushed is not None:
            conn.execute(
                update(BATCH)
                .where(BATCH.c.token == token, BATCH.c.state == "pending")
                .values(state="failed", detail=unpushed, finished_at=now)
            )
        if commit is not None:
            known = conn.execute(select(COMMIT.c.id).where(COMMIT.c.sha == commit)).first()
            if known is None:
                conn.execute(
                    insert(COMMIT).values(
                        sha=commit, article_count=article_count, message=message, pushed_at=now
                    )
                )
        done = [c for c in changes if c.status == PostStatus.PUBLISHED]
        blocked = [c for c in changes if c.status == PostStatus.BLOCKED]
        _mark_published(conn, done, now)
        _mark_blocked(conn, blocked, now)
    return True


def _mark_published(conn: Connection, changes: Sequence[PostChange], now: datetime) -> None:
    if not changes:
        return
    # The remote is the truth: a post the commit published is published, whatever the votes
    # did meanwhile; only a post already recorded as published is left as it is, and gets
    # no second decision (another run may have recorded it a moment ago).
    by_sha: dict[str | None, list[int]] = {}
    for c in changes:
        by_sha.setdefault(c.commit_sha, []).append(c.post_id)
    changed: set[int] = set()
    for sha, ids in by_sha.items():
        for i in range(0, len(ids), _CHUNK):
            stmt = (
                update(POST)
                .where(POST.c.id.in_(ids[i : i + _CHUNK]), POST.c.status != PostStatus.PUBLISHED)
                .values(status=PostStatus.PUBLISHED, commit_sha=sha, status_changed_at=now)
                .returning(POST.c.id)
            )
            changed.update(conn.execute(stmt).scalars())
    changes = [c for c in changes if c.post_id in changed]
    if not changes:
        return
    _decide(conn, changes, now)
    conn.execute(
        update(ARTICLE).where(ARTICLE.c.id == bindparam("b_id")).values(published=True),
        [{"b_id": c.article_id} for c in changes],
    )
    _clear_holds(conn, [c.post_id for c in changes])


def _mark_blocked(conn: Connection, changes: Sequence[PostChange], now: datetime) -> None:
    block = (
        update(POST)
        .where(
            POST.c.id == bindparam("b_id"),
            POST.c.status.in_([PostStatus.APPROVED, PostStatus.BLOCKED]),
        )
        .values(status=PostStatus.BLOCKED, status_changed_at=now)
    )
    # Only posts still approved: a vote may have moved one while the push ran, and then
    # neither a decision nor a hold belongs to it.
    changes = [c for c in changes if conn.execute(block, {"b_id": c.post_id}).rowcount == 1]
    if not changes:
        return
    _decide(conn, changes, now)
    _clear_holds(conn, [c.post_id for c in changes])
    conn.execute(
        insert(HOLD),
        [
            {"post_id": c.post_id, "blob_sha": c.hold_blob, "reason": c.cause, "at": now}
            for c in changes
        ],
    )


def _decide(conn: Connection, changes: Sequence[PostChange], now: datetime) -> None:
    conn.execute(
        insert(DECISION),
        [
            {
                "post_id": c.post_id,
                "from_status": c.from_status,
                "to_status": c.status,
                "cause": c.cause,
                "at": now,
            }
            for c in changes
        ],
    )


def _clear_holds(conn: Connection, post_ids: Sequence[int]) -> None:
    for i in range(0, len(post_ids), _CHUNK):
        conn.execute(delete(HOLD).where(HOLD.c.post_id.in_(post_ids[i : i + _CHUNK])))


# ------------------------------------------------------------------------------ for the cards


def block_cause(conn: Connection, *, post_id: int) -> str | None:
    """Why a post was last blocked: the cause of its latest move to ``blocked``."""
    return conn.scalar(
        select(DECISION.c.cause)
        .where(DECISION.c.post_id == post_id, DECISION.c.to_status == PostStatus.BLOCKED)
        .order_by(DECISION.c.id.desc())
        .limit(1)
    )


def add_commit(
    conn: Connection, *, sha: str, article_count: int, message: str, pushed_at: datetime
) -> None:
    """A commit pushed to the content repo (for a replay, such as ``curator demo``'s)."""
    conn.execute(
        insert(COMMIT).values(
            sha=sha, article_count=article_count, message=message, pushed_at=pushed_at
        )
    )


def last_commit(conn: Connection) -> CommitRecord | None:
    """The commit publishing pushed last (for ``curator status``)."""
    row = conn.execute(select(COMMIT).order_by(COMMIT.c.pushed_at.desc())).first()
    return None if row is None else CommitRecord.of(row)
