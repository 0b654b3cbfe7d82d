"""Reactions on candidate messages, and the state changes of posts they cause."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from sqlalchemy import (
    Connection,
    Insert,
    bindparam,
    insert,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from storage.models import Decision, Post, Vote, utcnow
from storage.records import PostRecord

POST = Post.__table__
VOTE = Vote.__table__
DECISION = Decision.__table__


@dataclass(frozen=True)
class Reaction:
    """The latest known state of one editor's one emoji on a candidate message."""

    user: str
    reaction: str
    present: bool
    event_ts: str


def find_post(conn: Connection, *, channel: str, ts: str, lock: bool = False) -> PostRecord | None:
    """The candidate post behind a Slack message, or None if it is not one of ours.

    ``lock`` holds the row until the transaction ends (PostgreSQL), so two votes on the same
    post are tallied one after the other, never each without the other.
    """
    if lock:
        # A no-op UPDATE locks the row on PostgreSQL and takes the database's write lock on
        # SQLite, where SELECT ... FOR UPDATE does nothing; its RETURNING reads the row as
        # every earlier vote committed it, in the same statement (a vote runs one per event).
        row = conn.execute(_TOUCH_POST, {"b_channel": channel, "b_ts": ts}).first()
    else:
        row = conn.execute(_FIND_POST, {"channel": channel, "ts": ts}).first()
    return None if row is None else PostRecord.of(row)


def record_reaction(
    conn: Connection,
    *,
    post_id: int,
    user: str,
    reaction: str,
    choice: str,
    present: bool,
    event_ts: str,
) -> bool:
    """Store an editor's reaction as added/removed at ``event_ts``; return whether it changed.

    Only a newer event wins, so a duplicate or a late, out-of-order event changes nothing.
    Slack timestamps are fixed-width ("1700000000.000100"), so they compare as strings.
    """
    values = dict(
        post_id=post_id, user_id=user, reaction=reaction, choice=choice, present=present,
        event_ts=event_ts, updated_at=utcnow(),
    )  # fmt: skip
    # A row comes back only when the insert or the guarded update happened (rowcount is not
    # reliable for upserts across drivers).
    return conn.execute(_upsert(conn.dialect.name), values).first() is not None


@dataclass(frozen=True)
class VoteRow:
    """What a reaction leaves in the vote table: (post, editor, emoji)'s newest state."""

    post_id: int
    user: str
    reaction: str
    choice: str
    present: bool
    event_ts: str


def votes_on(
    conn: Connection, *, post_ids: Collection[int]
) -> dict[int, dict[tuple[str, str], Reaction]]:
    """Every vote row of the posts ``post_ids``, counted or not (cast before the card's
    article changed), by post and (user, reaction): one statement for a burst's cards."""
    found: dict[int, dict[tuple[str, str], Reaction]] = {pid: {} for pid in post_ids}
    if found:
        for pid, user, reaction, present, event_ts in conn.execute(
            _VOTES_ON, {"post_ids": sorted(found)}
        ):
            found[pid][(user, reaction)] = Reaction(user, reaction, bool(present), event_ts)
    return found


def save_votes(conn: Connection, rows: Collection[VoteRow]) -> None:
    """Store ``rows`` in one statement (one per (post, user, reaction): their newest state,
    which the caller, holding the posts' locks, read with ``votes_on``). The guard of
    ``record_reaction`` stays: an older event than the row's never overwrites it."""
    if not rows:
        return
    at = utcnow()
    values = [
        {"post_id": r.post_id, "user_id": r.user, "reaction": r.reaction, "choice": r.choice,
         "present": r.present, "event_ts": r.event_ts, "updated_at": at}
        for r in rows
    ]  # fmt: skip
    conn.execute(_upsert(conn.dialect.name, returning=False), values)


@lru_cache(maxsize=4)
def _upsert(dialect: str, returning: bool = True) -> Insert:
    """The vote upsert, built once per dialect: building it costs more than running it."""
    from sqlalchemy.dialects import postgresql, sqlite

    stmt = (postgresql if dialect == "postgresql" else sqlite).insert(VOTE)
    upsert = stmt.on_conflict_do_update(
        index_elements=["post_id", "user_id", "reaction"],
        set_={k: stmt.excluded[k] for k in ("present", "event_ts", "choice", "updated_at")},
        where=VOTE.c.event_ts < stmt.excluded.event_ts,
    )
    return upsert.returning(VOTE.c.id) if returning else upsert


def reactions_of(conn: Connection, *, post_id: int) -> list[Reaction]:
    """The reactions that count: none cast before the card's article changed."""
    return [Reaction(*row) for row in conn.execute(_REACTIONS_OF, {"post_id": post_id})]


def earlier_reactions_of(conn: Connection, *, post_id: int) -> list[Reaction]:
    """The reactions cast before the card's article changed: shown, never counted."""
    return [Reaction(*row) for row in conn.execute(_EARLIER_OF, {"post_id": post_id})]


# Built once: every vote runs these, and building a statement costs more than running it.
_FIND_POST = select(POST).where(
    POST.c.channel == bindparam("channel"), POST.c.ts == bindparam("ts")
)
_TOUCH_POST = (
    update(POST)
    .where(POST.c.channel == bindparam("b_channel"), POST.c.ts == bindparam("b_ts"))
    .values(id=POST.c.id)
    .returning(*POST.c)
)
_SET_STATUS = update(POST).where(POST.c.id == bindparam("b_id"))
_SET_STATUS_FROM = _SET_STATUS.where(POST.c.status == bindparam("b_old"))
_DECIDE = insert(DECISION)
# Votes cast before the card's article changed (post.votes_since) do not count.
_SINCE = or_(POST.c.votes_since.is_(None), VOTE.c.event_ts >= POST.c.votes_since)
_REACTIONS = select(VOTE.c.user_id, VOTE.c.reaction, VOTE.c.present, VOTE.c.event_ts).join(
    POST, POST.c.id == VOTE.c.post_id
)
_VOTES_ON = select(
    VOTE.c.post_id, VOTE.c.user_id, VOTE.c.reaction, VOTE.c.present, VOTE.c.event_ts
).where(VOTE.c.post_id.in_(bindparam("post_ids", expanding=True)))
_REACTIONS_OF = _REACTIONS.where(VOTE.c.post_id == bindparam("post_id"), _SINCE)
_EARLIER_OF = _REACTIONS.where(VOTE.c.post_id == bindparam("post_id"), not_(_SINCE))


def counted_vote() -> ColumnElement[bool]:
    """The condition on a vote joined with its post that it counts (see _SINCE)."""
    return _SINCE


@dataclass(frozen=True)
class StatusMove:
    """A post moved by a vote from ``old`` to ``new``, for ``cause``, at ``at``."""

    post_id: int
    old: str
    new: str
    cause: str
    at: datetime = field(default_factory=utcnow)


def set_statuses(conn: Connection, moves: Collection[StatusMove]) -> None:
    """Keep ``moves`` (in order; several may move one post) as decisions and leave each post
    at its last: one statement for the decisions, one for the posts. The caller holds the
    posts' locks and read their state under them (``set_status`` guards a move itself)."""
    if not moves:
        return
    decisions = [
        {"post_id": m.post_id, "from_status": m.old, "to_status": m.new, "cause": m.cause,
         "at": m.at}
        for m in moves
    ]  # fmt: skip
    conn.execute(_DECIDE, decisions)
    last = {m.post_id: m for m in moves}
    conn.execute(
        _SET_STATUS,
        [{"b_id": m.post_id, "status": m.new, "status_changed_at": m.at} for m in last.values()],
    )


def set_status(
    conn: Connection,
    *,
    post_id: int,
    old: str | None,
    new: str,
    cause: str,
    at: datetime | None = None,
) -> bool:
    """Change a post's state from ``old`` and keep the change, its time and its cause.

    Nothing happens (False) when the post is no longer ``old``: whoever changed it first
    wins, and the loser's decision is not recorded. ``old=None`` changes it regardless.
    """
    at = at or utcnow()
    values = {"b_id": post_id, "status": new, "status_changed_at": at}
    if old is None:
        conn.execute(_SET_STATUS, values)
    elif conn.execute(_SET_STATUS_FROM, {**values, "b_old": old}).rowcount != 1:
        return False
    conn.execute(
        _DECIDE,
        {"post_id": post_id, "from_status": old, "to_status": new, "cause": cause, "at": at},
    )
    return True
