"""Read queries behind the Home tab: a reader's queue by desk, and a mark of each desk's cards
that moves whenever its queue changes (a vote, a new card, a decision)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from storage.articles import ARTICLE, POST
from storage.models import PostStatus, Vote, as_utc, required_utc
from storage.records import PostRecord

VOTE = Vote.__table__
# Being unpublished waits for the publisher as an approved card does: shown however old.
WAITING = (PostStatus.OPEN, PostStatus.APPROVED, PostStatus.BLOCKED, PostStatus.UNPUBLISHING)
DECIDED = (PostStatus.PUBLISHED, PostStatus.REJECTED, PostStatus.EXPIRED, PostStatus.UNPUBLISHED)


@dataclass(frozen=True)
class HomeCard:
    """A card in Slack as a Home tab line shows it."""

    post_id: int
    status: str
    desk: str | None  # as stored: None for a card from before desks
    channel: str
    permalink: str | None
    title: str | None
    url: str | None
    posted_at: datetime
    changed_at: datetime
    commit_sha: str | None
    changed_keys: str | None = None  # what changed after the votes ("title,body"), if it did
    # When its voting window started, when not at its posting: sent back to a vote after a
    # change (storage.posts.WINDOW_FROM).
    window_from: datetime | None = None

    @property
    def voting_from(self) -> datetime:
        return self.window_from or self.posted_at


def card_by_id(conn: Connection, *, post_id: int) -> PostRecord | None:
    """The post, or None when there is none (a button from a card since deleted)."""
    row = conn.execute(select(POST).where(POST.c.id == post_id)).first()
    return None if row is None else PostRecord.of(row)


def home_cards(
    conn: Connection,
    *,
    desks: Collection[str] | None,
    known_desks: Collection[str] | None = None,
    decided_since: datetime,
) -> list[HomeCard]:
    """The cards in Slack of ``desks`` (None: every desk) still waiting (open, approved,
    blocked, being unpublished), and those published, rejected, expired or unpublished since
    ``decided_since``.

    ``known_desks`` (given when ``desks`` holds the default desk): also the cards of none
    of them, from before desks or of a desk since removed, which count as the default's.
    """
    p, a = POST, ARTICLE
    conditions: list[ColumnElement[bool]] = [
        p.c.ts.is_not(None),
        or_(
            p.c.status.in_(list(WAITING)),
            p.c.status.in_(list(DECIDED)) & (p.c.status_changed_at >= decided_since),
        ),
        # A card whose file left the repo can no longer be decided; a published one is history.
        or_(a.c.removed_at.is_(None), p.c.status == PostStatus.PUBLISHED),
    ]
    if desks is not None:
        mine = p.c.desk.in_(sorted(desks))
        if known_desks is not None:
            mine = or_(mine, p.c.desk.is_(None), p.c.desk.not_in(sorted(known_desks)))
        conditions.append(mine)
    query = (
        select(
            p.c.id, p.c.status, p.c.desk, p.c.channel, p.c.permalink, a.c.title, a.c.url,
            p.c.created_at, p.c.status_changed_at, p.c.commit_sha, p.c.window_from,
            p.c.changed_keys,
        )
        .select_from(p.join(a, a.c.id == p.c.article_id))
        .where(*conditions)
        .order_by(p.c.created_at, p.c.id)
    )  # fmt: skip
    return [
        HomeCard(
            post_id=r.id, status=r.status, desk=r.desk, channel=r.channel,
            permalink=r.permalink, title=r.title, url=r.url, posted_at=required_utc(r.created_at),
            changed_at=required_utc(r.status_changed_at), commit_sha=r.commit_sha,
            window_from=as_utc(r.window_from),
            changed_keys=r.changed_keys,
        )
        for r in conn.execute(query)
    ]  # fmt: skip


def queue_marks(conn: Connection) -> dict[str | None, tuple[object, ...]]:
    """For each desk (as stored), a mark that changes whenever one of its cards is posted,
    changes state, gets a vote or goes back to a vote after its article changed (which
    leaves an open card's state as it was, but moves its ``votes_since`` on): the Home tabs
    showing that desk are then out of date. Two grouped reads, whatever the number of cards."""
    cards = select(
        POST.c.desk,
        func.count(POST.c.id),
        func.max(POST.c.status_changed_at),
        func.max(POST.c.votes_since),
    ).group_by(POST.c.desk)
    votes = (
        select(POST.c.desk, func.count(VOTE.c.id), func.max(VOTE.c.updated_at))
        .select_from(VOTE.join(POST, POST.c.id == VOTE.c.post_id))
        .group_by(POST.c.desk)
    )
    marks: dict[str | None, tuple[object, ...]] = {}
    for desk, count, last, reopened in conn.execute(cards):
        marks[desk] = (count, str(last), reopened)
    for desk, count, last in conn.execute(votes):
        marks[desk] = (*marks.get(desk, ()), count, str(last))
    return marks
