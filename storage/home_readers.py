"""Who opened the Home tab lately, kept in the database so that every replica knows them and
one refresh is sent once, whichever replica's watcher sees the change (``bot.slack.home``)."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, select, update

from storage.db import dialect_insert
from storage.models import HomeReader, required_utc

READER = HomeReader.__table__
# The mark of a view that was not sent: no queue's mark (a hash), so the next look resends it.
UNSENT = ""


@dataclass(frozen=True)
class Reader:
    """A reader as the watcher needs them: the desks their view shows (None: every desk)
    and the mark of the queue it was built from (``UNSENT`` or None: it is still to be sent)."""

    user: str
    desks: frozenset[str] | None
    mark: str | None
    opened_at: datetime


def reader_opened(conn: Connection, *, user: str, at: datetime) -> None:
    """``user`` looked at the Home tab at ``at``: they are a reader (again) from now."""
    stmt = dialect_insert(conn, READER).values(user_id=user, opened_at=at)
    conn.execute(stmt.on_conflict_do_update(index_elements=["user_id"], set_={"opened_at": at}))


def reader_sent(
    conn: Connection, *, user: str, desks: Collection[str] | None, mark: str
) -> None:  # fmt: skip
    """``user``'s view, of ``desks``, was sent as the queue stood at ``mark`` (``UNSENT``:
    it could not be sent)."""
    shown = None if desks is None else json.dumps(sorted(desks))
    conn.execute(update(READER).where(READER.c.user_id == user).values(desks=shown, mark=mark))


def claim_refresh(conn: Connection, *, user: str, mark: str) -> None:
    """The watcher takes ``user``'s refresh for the queue at ``mark``: no other replica will."""
    conn.execute(update(READER).where(READER.c.user_id == user).values(mark=mark))


def readers(conn: Connection) -> list[Reader]:
    rows = conn.execute(select(READER))
    return [
        Reader(
            r.user_id,
            None if r.desks is None else frozenset(json.loads(r.desks)),
            r.mark,
            required_utc(r.opened_at),
        )
        for r in rows
    ]


def forget_readers(conn: Connection, *, before: datetime) -> int:
    """Readers who have not opened the tab since ``before`` get no more views. How many."""
    return conn.execute(delete(READER).where(READER.c.opened_at < before)).rowcount
