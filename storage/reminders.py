"""Reminders: the open cards a reminder may list, and who was reminded of which card.

A (post, editor) row is written before the direct message is sent (``claim``): the unique
key makes the claim the one place that decides, across replicas and restarts, that an
editor hears of a card once per voting round. ``mark_sent`` records that Slack took the
message; ``release`` deletes a claim whose message failed, so the next run tries again;
``keep_undeliverable`` keeps one Slack will never take, with Slack's answer.

A round is the card's ``votes_since`` (``''`` before its article changed after the votes):
the votes of an earlier round no longer count, so neither do its reminders. A claim for a
later round takes the row over; Slack timestamps are fixed-width, so rounds compare as
strings and a run still holding an earlier round never takes a later one's row back.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection, and_, delete, func, select, update
from sqlalchemy.engine import Engine

from storage.db import dialect_insert
from storage.models import Article, Post, PostStatus, Reminder, as_utc
from storage.posts import WINDOW_FROM
from storage.records import ReminderCard

POST = Post.__table__
ARTICLE = Article.__table__
REMINDER = Reminder.__table__


def open_cards_window_started(
    conn: Connection, *, desk: str, after: datetime, until: datetime
) -> list[ReminderCard]:
    """The desk's open cards in Slack whose voting window started after ``after`` and up
    to ``until`` (storage.posts.WINDOW_FROM: a card sent back to a vote starts anew), the
    soonest to close first."""
    query = (
        select(
            POST.c.id,
            POST.c.channel,
            POST.c.ts,
            POST.c.permalink,
            ARTICLE.c.title,
            ARTICLE.c.path,
            WINDOW_FROM.label("window_from"),
        )
        .join(ARTICLE, ARTICLE.c.id == POST.c.article_id)
        .where(
            POST.c.desk == desk,
            POST.c.status == PostStatus.OPEN,
            POST.c.ts.is_not(None),
            after < WINDOW_FROM,
            until >= WINDOW_FROM,
        )
        .order_by(WINDOW_FROM, POST.c.id)
    )
    return [_utc(ReminderCard.of(row)) for row in conn.execute(query)]


def _utc(card: ReminderCard) -> ReminderCard:
    window_from = as_utc(card.window_from)
    assert window_from is not None
    return replace(card, window_from=window_from)


def reminded(conn: Connection, *, post_ids: Collection[int]) -> set[tuple[int, str]]:
    """(post_id, user) of every reminder claimed for these posts' current round, sent,
    being sent, or never to be sent."""
    found: set[tuple[int, str]] = set()
    ids = list(post_ids)
    for i in range(0, len(ids), 500):
        query = (
            select(REMINDER.c.post_id, REMINDER.c.user_id)
            .join(POST, POST.c.id == REMINDER.c.post_id)
            .where(REMINDER.c.post_id.in_(ids[i : i + 500]), REMINDER.c.round == _ROUND)
        )
        found |= {(int(post_id), str(user)) for post_id, user in conn.execute(query)}
    return found


# The round a card's votes are in now (in a query over ``post``).
_ROUND = func.coalesce(POST.c.votes_since, "")


def claim(engine: Engine, *, user: str, post_ids: Collection[int], now: datetime) -> list[int]:
    """Claim reminding ``user`` of each post in its current round; the posts this call
    claimed (one another run claimed first is left out), in the order given. One
    transaction: all or none."""
    claimed = []
    with engine.begin() as conn:
        for post_id in post_ids:
            current = select(_ROUND).where(POST.c.id == post_id).scalar_subquery()
            stmt = dialect_insert(conn, REMINDER).values(
                post_id=post_id, user_id=user, claimed_at=now, round=current
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=["post_id", "user_id"],
                set_={"round": stmt.excluded.round, "claimed_at": now, "sent_at": None,
                      "error": None},
                where=REMINDER.c.round < stmt.excluded.round,
            ).returning(REMINDER.c.post_id)  # fmt: skip
            if conn.execute(stmt).scalar_one_or_none() is not None:
                claimed.append(post_id)
    return claimed


def mark_sent(engine: Engine, *, user: str, post_ids: Collection[int], now: datetime) -> None:
    """Slack took the message reminding ``user`` of these posts."""
    with engine.begin() as conn:
        conn.execute(
            update(REMINDER)
            .where(REMINDER.c.user_id == user, REMINDER.c.post_id.in_(list(post_ids)))
            .values(sent_at=now)
        )


def release(engine: Engine, *, user: str, post_ids: Collection[int]) -> int:
    """Give back the claims of a message that was not sent; how many were released. A
    reminder already sent is never released."""
    with engine.begin() as conn:
        unsent = and_(
            REMINDER.c.user_id == user,
            REMINDER.c.post_id.in_(list(post_ids)),
            REMINDER.c.sent_at.is_(None),
        )
        return int(conn.execute(delete(REMINDER).where(unsent)).rowcount)


def keep_undeliverable(engine: Engine, *, user: str, post_ids: Collection[int], error: str) -> None:
    """Slack will never take a message to ``user`` (``error``): the claims stay, unsent, so
    no later run asks again for these cards in this round."""
    with engine.begin() as conn:
        conn.execute(
            update(REMINDER)
            .where(
                REMINDER.c.user_id == user,
                REMINDER.c.post_id.in_(list(post_ids)),
                REMINDER.c.sent_at.is_(None),
            )
            .values(error=error[:64])
        )


def sent_since(conn: Connection, *, since: datetime) -> int:
    """How many reminders (card and editor) were sent since ``since``."""
    query = select(func.count()).select_from(REMINDER).where(REMINDER.c.sent_at >= since)
    return int(conn.scalar(query) or 0)
