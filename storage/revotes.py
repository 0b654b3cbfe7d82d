"""Cards whose article changed after the votes: what the votes were cast on, and the change.

A card's ``voted_hash`` is the article's fingerprint (storage.fingerprint) when its first
vote came in. When the scan (or the publisher, at the remote tip) finds another, the change
is recorded on the post: from when votes count again (``votes_since``, a Slack-style
timestamp compared with each vote's ``event_ts``: storage.votes counts none from before it),
what changed and at which commit; ``voted_hash`` becomes the new fingerprint, which the next
votes are cast on.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, bindparam, delete, select, update
from sqlalchemy.sql.elements import ColumnElement

from storage.articles import ARTICLE, POST
from storage.fields import FINGERPRINT_KEYS
from storage.fingerprint import loads
from storage.models import PostStatus, PublishHold, Vote
from storage.votes import set_status

HOLD = PublishHold.__table__
VOTE = Vote.__table__


@dataclass(frozen=True)
class VotedCard:
    """A card with votes whose article's fingerprint is not the one they were cast on."""

    post_id: int
    status: str
    desk: str | None
    channel: str
    ts: str | None
    voted: dict[str, str]
    now: dict[str, str]
    changed_keys: str | None  # what an earlier change, not yet voted on again, changed


@dataclass(frozen=True)
class RevoteNote:
    """What a card says about a change after the votes (None when there was none)."""

    keys: tuple[str, ...]
    commit: str | None
    since: str


def note_vote(conn: Connection, *, post_id: int) -> None:
    """At a card's first vote: keep the fingerprint of the article the vote is cast on."""
    conn.execute(_NOTE_VOTE, {"b_id": post_id})


# Built once: a card's first vote runs it, and building a statement costs more than running it.
_NOTE_VOTE = (
    update(POST)
    .where(POST.c.id == bindparam("b_id"), POST.c.voted_hash.is_(None))
    .values(
        voted_hash=select(ARTICLE.c.content_hash)
        .where(ARTICLE.c.id == POST.c.article_id)
        .scalar_subquery()
    )
)


def version_unversioned(conn: Connection, *, statuses: Collection[str]) -> int:
    """Cards in ``statuses`` with votes but no version kept (voted before migration 0010
    fingerprinted articles) take the article's version as scanned now: what they were cast
    on cannot be known any more, and from here a change sends them back to a vote. How many."""
    current = select(ARTICLE.c.content_hash).where(ARTICLE.c.id == POST.c.article_id)
    voted = select(VOTE.c.id).where(VOTE.c.post_id == POST.c.id, VOTE.c.present).exists()
    return conn.execute(
        update(POST)
        .where(POST.c.voted_hash.is_(None), POST.c.status.in_(list(statuses)), voted)
        .values(voted_hash=current.scalar_subquery())
    ).rowcount


def changed_cards(conn: Connection, *, statuses: Collection[str]) -> list[VotedCard]:
    """Cards in ``statuses`` with votes whose article's fingerprint is now another."""
    query = (
        select(
            POST.c.id, POST.c.status, POST.c.desk, POST.c.channel, POST.c.ts,
            POST.c.voted_hash, POST.c.changed_keys, ARTICLE.c.content_hash,
        )
        .join(ARTICLE, ARTICLE.c.id == POST.c.article_id)
        .where(
            POST.c.status.in_(list(statuses)), POST.c.voted_hash.is_not(None),
            ARTICLE.c.content_hash.is_not(None), POST.c.voted_hash != ARTICLE.c.content_hash,
        )
    )  # fmt: skip
    return [
        VotedCard(
            r.id,
            r.status,
            r.desk,
            r.channel,
            r.ts,
            loads(r.voted_hash),
            loads(r.content_hash),
            r.changed_keys,
        )
        for r in conn.execute(query)
    ]


def keep_fingerprint(conn: Connection, *, post_id: int, fingerprint: str) -> None:
    """The article changed only in keys that do not count: the next votes are on this one."""
    conn.execute(update(POST).where(POST.c.id == post_id).values(voted_hash=fingerprint))


def reopen(
    conn: Connection,
    *,
    post_id: int,
    status: str,
    fingerprint: str | None,
    keys: tuple[str, ...],
    since: str,
    commit: str | None,
    cause: str,
    at: datetime,
) -> tuple[str, ...]:
    """Record a change after the votes and send the card (now ``status``) back to open.

    Votes count again from ``since``: none does yet, so the card is open whatever it was
    (approved, rejected, blocked), for a whole voting window from ``at``, and the decision
    keeps ``cause``. When nobody voted since an earlier change, what changed adds up
    ("title" then "body": "title, body"). Returns what the card says changed.
    """
    row = conn.execute(
        select(POST.c.changed_keys, awaiting_revotes().label("waiting")).where(POST.c.id == post_id)
    ).one()
    if row.changed_keys and row.waiting:
        earlier = row.changed_keys.split(",")
        keys = tuple(k for k in FINGERPRINT_KEYS if k in earlier or k in keys)
    conn.execute(
        update(POST)
        .where(POST.c.id == post_id)
        .values(
            voted_hash=fingerprint, votes_since=since, changed_keys=",".join(keys),
            changed_commit=commit, window_from=at,  # a full voting window from the change
        )
    )  # fmt: skip
    if status != PostStatus.OPEN:
        set_status(conn, post_id=post_id, old=status, new=PostStatus.OPEN, cause=cause, at=at)
    if status == PostStatus.BLOCKED:
        conn.execute(delete(HOLD).where(HOLD.c.post_id == post_id))
    return keys


def awaiting_revotes() -> ColumnElement[bool]:
    """In a query over ``post``: its article changed after the votes and nobody has voted
    since (no present vote with ``event_ts`` from ``votes_since`` on). What every list that
    says "changed since the votes" shows, and the card's hint, go by this one rule: the mark
    clears at the first new vote."""
    revoted = (
        select(VOTE.c.id)
        .where(
            VOTE.c.post_id == POST.c.id, VOTE.c.present.is_(True),
            VOTE.c.event_ts >= POST.c.votes_since,
        )
        .exists()
    )  # fmt: skip
    return and_(POST.c.votes_since.is_not(None), ~revoted)


def revote_note(conn: Connection, *, post_id: int) -> RevoteNote | None:
    """What the card says of the change after the votes, while it waits for new votes."""
    row = conn.execute(
        select(POST.c.changed_keys, POST.c.changed_commit, POST.c.votes_since).where(
            POST.c.id == post_id, awaiting_revotes()
        )
    ).first()
    if row is None:
        return None
    keys = tuple(k for k in (row.changed_keys or "").split(",") if k)
    return RevoteNote(keys, row.changed_commit, row.votes_since)


def changed_post_ids(conn: Connection, *, post_ids: Collection[int]) -> set[int]:
    """Which of ``post_ids`` changed after votes and wait for new ones (no vote since)."""
    ids = list(post_ids)
    found: set[int] = set()
    for i in range(0, len(ids), 500):
        query = select(POST.c.id).where(POST.c.id.in_(ids[i : i + 500]), awaiting_revotes())
        found.update(r.id for r in conn.execute(query))
    return found


def since_of(now: datetime) -> str:
    """``now`` as a Slack timestamp (as votes' ``event_ts``): votes from before it were cast
    on the old version."""
    return f"{now.timestamp():.6f}"


def revote_cause(keys: tuple[str, ...], commit: str | None, *, found: str = "") -> str:
    """The decision's cause: ``changed since the votes: title, body (at 1a2b3c4d5e6f)``."""
    at = f" (at {commit[:12]})" if commit else ""
    return f"changed since the votes{found}: {', '.join(keys)}{at}"
