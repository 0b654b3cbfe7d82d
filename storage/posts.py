"""Posts: the cards of a day, planned, posted to Slack (or skipped), voted on and expired.

A function that takes a connection runs inside the caller's transaction (bot/ opens it
with storage.db.transaction or reading and passes it on); one that takes the engine opens
its own.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)  # fmt: skip
from sqlalchemy.engine import Engine

from storage.models import Article, Decision, Post, PostStatus, Vote
from storage.records import PostRecord, WaitingPost
from storage.revotes import awaiting_revotes
from storage.votes import counted_vote, set_status

POST = Post.__table__
ARTICLE = Article.__table__
DECISION = Decision.__table__
VOTE = Vote.__table__
# A card to post: not in Slack yet, and not skipped.
UNPOSTED = (POST.c.ts.is_(None), POST.c.status != PostStatus.SKIPPED)
# When a card's voting window started: its posting, or the change after the votes that sent
# it back to a vote (storage.revotes.reopen). Every end of a window is counted from it.
WINDOW_FROM = func.coalesce(POST.c.window_from, POST.c.created_at)


# ------------------------------------------------------------------------------ the day's plan


def day_post_ids(conn: Connection, *, day: str, desk: str) -> list[int]:
    """The posts ``desk`` planned for ``day`` (YYYY-MM-DD), in the order they were planned."""
    query = select(POST.c.id).where(POST.c.day == day, POST.c.desk == desk)
    return list(conn.scalars(query.order_by(POST.c.id)))


def rehome_cards(engine: Engine, *, desks: Mapping[str, str], default: str) -> int:
    """Give every card a desk of ``desks`` (name -> its channel as configured); how many
    moved. A desk's name in another case is that desk, spelt as configured now; a card of
    no such desk (from before desks, of a desk since removed or renamed) joins the desk whose
    channel it was posted in, else ``default``, where it is voted on and expires."""
    names = list(desks)
    stray = or_(POST.c.desk.is_(None), POST.c.desk.not_in(names))
    with engine.connect() as conn:
        # Every start asks (status and digest too): a read, not a write transaction, when
        # every card already has a configured desk, the usual case.
        if conn.scalar(select(POST.c.id).where(stray).limit(1)) is None:
            return 0
    moved = 0
    with engine.begin() as conn:
        for name in names:
            same = (func.lower(POST.c.desk) == name.lower(), POST.c.desk != name)
            moved += conn.execute(update(POST).where(*same).values(desk=name)).rowcount
        for name, channel in desks.items():
            here = update(POST).where(stray, POST.c.channel == channel).values(desk=name)
            moved += conn.execute(here).rowcount
        moved += conn.execute(update(POST).where(stray).values(desk=default)).rowcount
    return moved


def add_post(
    conn: Connection,
    *,
    article_id: int,
    channel: str,
    desk: str,
    day: str,
    now: datetime,
    ts: str | None = None,
    permalink: str | None = None,
) -> int:
    """A new open post of ``article_id``; its id. Two plans of the same article on the same
    day break a unique constraint (storage.db_errors.DuplicateError)."""
    values = dict(
        article_id=article_id, channel=channel, desk=desk, day=day, ts=ts, permalink=permalink,
        status=PostStatus.OPEN, created_at=now, status_changed_at=now,
    )  # fmt: skip
    return int(conn.execute(insert(POST).values(**values)).inserted_primary_key[0])


def unposted_before(engine: Engine, *, day: str, desk: str) -> list[int]:
    """The desk's cards of days before ``day`` that never reached Slack (and were not
    skipped)."""
    query = select(POST.c.id).where(POST.c.day < day, POST.c.desk == desk, *UNPOSTED)
    with engine.connect() as conn:
        return list(conn.scalars(query))


def drop_unposted(engine: Engine, *, post_ids: Sequence[int]) -> int:
    """Delete those of ``post_ids`` still not in Slack; how many."""
    with engine.begin() as conn:
        return conn.execute(delete(POST).where(POST.c.id.in_(post_ids), *UNPOSTED)).rowcount


def release_changed_skips(engine: Engine, *, before_day: str) -> int:
    """Delete the skipped cards of earlier days whose article changed since: the article
    goes back to the pool. How many."""
    changed = (
        select(ARTICLE.c.id)
        .where(ARTICLE.c.id == POST.c.article_id, ARTICLE.c.updated_at > POST.c.status_changed_at)
        .exists()
    )
    with engine.begin() as conn:
        return conn.execute(
            delete(POST).where(
                POST.c.day < before_day,
                POST.c.status == PostStatus.SKIPPED,
                POST.c.ts.is_(None),
                changed,
            )
        ).rowcount


def unposted_among(conn: Connection, *, post_ids: Collection[int]) -> list[int]:
    """Those of ``post_ids`` still to post."""
    return list(conn.scalars(select(POST.c.id).where(POST.c.id.in_(post_ids), *UNPOSTED)))


def any_unposted(conn: Connection, *, post_ids: Collection[int]) -> bool:
    """Whether one of ``post_ids`` is still to post."""
    first = select(POST.c.id).where(POST.c.id.in_(post_ids), *UNPOSTED).limit(1)
    return conn.scalar(first) is not None


def count_skipped(conn: Connection, *, post_ids: Collection[int]) -> int:
    query = select(func.count()).where(POST.c.id.in_(post_ids), POST.c.status == PostStatus.SKIPPED)
    return int(conn.scalar(query) or 0)


def count_unposted(conn: Connection, *, desk: str | None = None) -> int:
    """Cards planned, any day, not yet in Slack (and not skipped); ``desk``: its cards only."""
    query = select(func.count()).select_from(POST).where(*UNPOSTED)
    if desk is not None:
        query = query.where(POST.c.desk == desk)
    return int(conn.scalar(query) or 0)


# ------------------------------------------------------------------------- one post, posting


def post_by_id(conn: Connection, *, post_id: int) -> PostRecord:
    """The post (NoResultFound when there is none)."""
    return PostRecord.of(conn.execute(_POST_BY_ID, {"post_id": post_id}).one())


_POST_BY_ID = select(POST).where(POST.c.id == bindparam("post_id"))  # built once: every refresh


def posts_by_ids(conn: Connection, *, post_ids: Collection[int]) -> list[PostRecord]:
    """The posts of ``post_ids`` there are (cards refreshed together: one statement)."""
    if not post_ids:
        return []
    return [PostRecord.of(r) for r in conn.execute(_POSTS_BY_IDS, {"ids": sorted(post_ids)})]


_POSTS_BY_IDS = select(POST).where(POST.c.id.in_(bindparam("ids", expanding=True)))


def channel_of(conn: Connection, *, post_id: int) -> str | None:
    return conn.scalar(select(POST.c.channel).where(POST.c.id == post_id))


def article_of(engine: Engine, *, post_id: int) -> int | None:
    with engine.connect() as conn:
        return conn.scalar(select(POST.c.article_id).where(POST.c.id == post_id))


def articles_of(engine: Engine, *, post_ids: Collection[int]) -> dict[int, int]:
    """The article of each of ``post_ids``."""
    query = select(POST.c.id, POST.c.article_id).where(POST.c.id.in_(post_ids))
    with engine.connect() as conn:
        return {post_id: article_id for post_id, article_id in conn.execute(query)}


def mark_posted(engine: Engine, *, post_id: int, ts: str, now: datetime) -> None:
    """The card is in Slack at ``ts``: keep it, with the "posted" decision."""
    with engine.begin() as conn:
        conn.execute(update(POST).where(POST.c.id == post_id).values(ts=ts))
        set_status(conn, post_id=post_id, old=None, new=PostStatus.OPEN, cause="posted", at=now)


def mark_skipped(engine: Engine, *, post_id: int, reason: str, now: datetime) -> str | None:
    """The card could not be posted: the post is skipped, ``reason`` its decision's cause.
    The path of its article, for the log."""
    with engine.begin() as conn:
        set_status(
            conn, post_id=post_id, old=None, new=PostStatus.SKIPPED, cause=f"skipped: {reason}",
            at=now,
        )  # fmt: skip
        return conn.scalar(
            select(ARTICLE.c.path)
            .join(POST, POST.c.article_id == ARTICLE.c.id)
            .where(POST.c.id == post_id)
        )


def set_permalink(engine: Engine, *, post_id: int, permalink: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(POST).where(POST.c.id == post_id).values(permalink=permalink))


def set_commit(conn: Connection, *, post_id: int, sha: str) -> None:
    """The commit that published the post's article."""
    conn.execute(update(POST).where(POST.c.id == post_id).values(commit_sha=sha))


# ----------------------------------------------------------------------------------- voting


def being_voted(engine: Engine, *, statuses: Collection[str]) -> list[PostRecord]:
    """Posts in Slack whose status is one of ``statuses``."""
    query = select(POST).where(POST.c.status.in_(statuses), POST.c.ts.is_not(None))
    with engine.connect() as conn:
        return [PostRecord.of(row) for row in conn.execute(query)]


def published_since(engine: Engine, *, since: datetime) -> list[PostRecord]:
    """Posts in Slack published at or after ``since`` and still published."""
    query = select(POST).where(
        POST.c.status == PostStatus.PUBLISHED,
        POST.c.ts.is_not(None),
        POST.c.status_changed_at >= since,
    )
    with engine.connect() as conn:
        return [PostRecord.of(row) for row in conn.execute(query)]


def open_since_before(conn: Connection, *, cutoff: datetime, desk: str) -> list[int]:
    """The desk's open posts whose voting window started before ``cutoff``."""
    query = select(POST.c.id).where(
        POST.c.status == PostStatus.OPEN, cutoff > WINDOW_FROM, POST.c.desk == desk
    )
    return list(conn.scalars(query).all())


# ----------------------------------------------------------------------------------- status


def waiting_posts(
    conn: Connection, *, statuses: Collection[str], desk: str | None = None,
    limit: int | None = None,
) -> list[WaitingPost]:  # fmt: skip
    """Posts in Slack in ``statuses`` (``desk``: its cards only), oldest first (the first
    ``limit``, if given): id, status, created_at, permalink, whether it changed after the
    votes and waits for new ones (storage.revotes.awaiting_revotes) and their article's title
    and path."""
    order, query = (POST.c.created_at, POST.c.id), _listed(statuses, desk)
    if limit is not None:
        # The first cards picked from post alone, and only their articles read: not the
        # article of every waiting card (thousands a desk at scale) read to sort them.
        first = select(POST.c.id).where(*_in_slack(statuses, desk)).order_by(*order).limit(limit)
        query = query.where(POST.c.id.in_(first.scalar_subquery()))
    return [WaitingPost.of(row) for row in conn.execute(query.order_by(*order))]


def waiting_counts(
    conn: Connection, *, statuses: Collection[str], desk: str | None = None
) -> dict[str, tuple[int, int]]:
    """Status -> (cards, of which changed since the votes) of the posts ``waiting_posts``
    lists, counted without reading their articles."""
    changed = func.sum(case((awaiting_revotes(), 1), else_=0))
    query = (
        select(POST.c.status, func.count(), changed)
        .where(*_in_slack(statuses, desk))
        .group_by(POST.c.status)
    )
    return {status: (count, int(n or 0)) for status, count, n in conn.execute(query)}


def decided_since(
    conn: Connection, *, statuses: Collection[str], since: datetime, desk: str | None = None,
    rejected_by: Collection[str] | None = None,
) -> list[WaitingPost]:  # fmt: skip
    """Posts in Slack moved to one of ``statuses`` since ``since`` (``desk``: its cards
    only), in the order they were. ``rejected_by``: of the rejected ones, only those on which
    a present vote of one of these users counts (``reactions_for`` reads them): a veto is
    a chief's, and a newsroom rejects thousands of cards a week by votes alone (none of
    them is read without such users: not even looked at for their votes)."""
    if rejected_by is not None and not rejected_by:
        statuses = [status for status in statuses if status != PostStatus.REJECTED]
    query = _listed(statuses, desk).where(POST.c.status_changed_at >= since)
    if rejected_by and PostStatus.REJECTED in statuses:
        theirs = (
            select(VOTE.c.id)
            .where(
                VOTE.c.post_id == POST.c.id, VOTE.c.user_id.in_(sorted(rejected_by)),
                VOTE.c.present.is_(True), counted_vote(),
            )
            .exists()
        )  # fmt: skip
        query = query.where(or_(POST.c.status != PostStatus.REJECTED, theirs))
    return [
        WaitingPost.of(row)
        for row in conn.execute(query.order_by(POST.c.status_changed_at, POST.c.id))
    ]


def _listed(statuses: Collection[str], desk: str | None) -> Select:
    """The columns of a WaitingPost, of the cards in Slack in ``statuses`` (of ``desk``)."""
    return (
        select(
            POST.c.id.label("post_id"),
            POST.c.status,
            POST.c.created_at,
            POST.c.status_changed_at.label("changed_at"),
            POST.c.permalink,
            awaiting_revotes().label("changed"),
            ARTICLE.c.title,
            ARTICLE.c.path,
        )
        .join(ARTICLE, ARTICLE.c.id == POST.c.article_id)
        .where(*_in_slack(statuses, desk))
    )


def _in_slack(statuses: Collection[str], desk: str | None) -> tuple[ColumnElement[bool], ...]:
    """Of the cards in Slack in ``statuses`` (of ``desk``)."""
    found = (POST.c.status.in_(list(statuses)), POST.c.ts.is_not(None))
    return found if desk is None else (*found, POST.c.desk == desk)


def skipped_on(conn: Connection, *, day: str) -> list[tuple[str, str]]:
    """(path, cause) of each skip decision of ``day``'s skipped cards, oldest first."""
    return [
        (path, cause)
        for path, cause in conn.execute(
            select(ARTICLE.c.path, DECISION.c.cause)
            .join(POST, POST.c.article_id == ARTICLE.c.id)
            .join(
                DECISION,
                (DECISION.c.post_id == POST.c.id) & (DECISION.c.to_status == PostStatus.SKIPPED),
            )
            .where(POST.c.day == day, POST.c.status == PostStatus.SKIPPED)
            .order_by(POST.c.id, DECISION.c.id)
        )
    ]
