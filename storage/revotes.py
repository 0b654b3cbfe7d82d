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

from sqlalchemy import Connection, select, update

from storage.articles import ARTICLE, POST
from storage.fingerprint import loads


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
    current = select(ARTICLE.c.content_hash).where(ARTICLE.c.id == POST.c.article_id)
    conn.execute(
        update(POST)
        .where(POST.c.id == post_id, POST.c.voted_hash.is_(None))
        .values(voted_hash=current.scalar_subquery())
    )


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
            r.id, r.status, r.desk, r.channel, r.ts, loads(r.voted_hash), loads(r.content_hash),
            r.changed_keys,
        )
        for r in conn.execute(query)
    ]


def mark_changed(
    conn: Connection,
    *,
    post_id: int,
    fingerprint: str,
    keys: tuple[str, ...] | None,
    since: str,
    commit: str | None,
) -> None:
    """Record a change after the votes: votes count again from ``since``; ``keys`` None
    takes the new fingerprint without a change to tell (only keys that do not count)."""
    values: dict[str, object] = {"voted_hash": fingerprint}
    if keys is not None:
        values.update(votes_since=since, changed_keys=",".join(keys), changed_commit=commit)
    conn.execute(update(POST).where(POST.c.id == post_id).values(values))


def revote_note(conn: Connection, *, post_id: int) -> RevoteNote | None:
    row = conn.execute(
        select(POST.c.changed_keys, POST.c.changed_commit, POST.c.votes_since).where(
            POST.c.id == post_id
        )
    ).one()
    if not row.votes_since:
        return None
    keys = tuple(k for k in (row.changed_keys or "").split(",") if k)
    return RevoteNote(keys, row.changed_commit, row.votes_since)


def changed_post_ids(conn: Connection, *, post_ids: Collection[int]) -> set[int]:
    """Which of ``post_ids`` changed after votes and wait for new ones (no vote since)."""
    ids = list(post_ids)
    found: set[int] = set()
    for i in range(0, len(ids), 500):
        query = select(POST.c.id).where(
            POST.c.id.in_(ids[i : i + 500]), POST.c.votes_since.is_not(None)
        )
        found.update(r.id for r in conn.execute(query))
    return found
