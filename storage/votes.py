"""Reactions on candidate messages, and the state changes of posts they cause."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import Connection, Insert, Row, bindparam, insert, select, update

from storage.models import Decision, Post, Vote, utcnow

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


def find_post(conn: Connection, *, channel: str, ts: str, lock: bool = False) -> Row | None:
    """The candidate post behind a Slack message, or None if it is not one of ours.

    ``lock`` holds the row until the transaction ends (PostgreSQL), so two votes on the same
    post are tallied one after the other, never each without the other.
    """
    query = _FIND_POST_LOCKED if lock else _FIND_POST
    return conn.execute(query, {"channel": channel, "ts": ts}).first()


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


@lru_cache(maxsize=4)
def _upsert(dialect: str) -> Insert:
    """The vote upsert, built once per dialect: building it costs more than running it."""
    from sqlalchemy.dialects import postgresql, sqlite

    stmt = (postgresql if dialect == "postgresql" else sqlite).insert(VOTE)
    return stmt.on_conflict_do_update(
        index_elements=["post_id", "user_id", "reaction"],
        set_={k: stmt.excluded[k] for k in ("present", "event_ts", "choice", "updated_at")},
        where=VOTE.c.event_ts < stmt.excluded.event_ts,
    ).returning(VOTE.c.id)


def reactions_of(conn: Connection, post_id: int) -> list[Reaction]:
    return [Reaction(*row) for row in conn.execute(_REACTIONS_OF, {"post_id": post_id})]


# Built once: every vote runs these, and building a statement costs more than running it.
_FIND_POST = select(POST).where(
    POST.c.channel == bindparam("channel"), POST.c.ts == bindparam("ts")
)
_FIND_POST_LOCKED = _FIND_POST.with_for_update()
_SET_STATUS = update(POST).where(POST.c.id == bindparam("b_id"))
_DECIDE = insert(DECISION)
_REACTIONS_OF = select(VOTE.c.user_id, VOTE.c.reaction, VOTE.c.present, VOTE.c.event_ts).where(
    VOTE.c.post_id == bindparam("post_id")
)


def set_status(
    conn: Connection,
    *,
    post_id: int,
    old: str | None,
    new: str,
    cause: str,
    at: datetime | None = None,
) -> None:
    """Change a post's state and keep the change, its time and its cause."""
    at = at or utcnow()
    conn.execute(_SET_STATUS, {"b_id": post_id, "status": new, "status_changed_at": at})
    conn.execute(
        _DECIDE,
        {"post_id": post_id, "from_status": old, "to_status": new, "cause": cause, "at": at},
    )
