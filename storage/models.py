"""The database tables: articles from the content repo and what editors decided about them.

Timestamps are timezone-aware UTC. Rows are never deleted when an article leaves the repo:
its posts and votes are history, so the article is marked ``removed_at`` instead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    DateTime,
    Index,
    UniqueConstraint,
    and_,
    func,
    null,
    true,
)
from sqlmodel import Field, SQLModel
from sqlmodel.sql.sqltypes import AutoString


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back naive; every timestamp here is stored in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def required_utc(value: datetime) -> datetime:
    """``as_utc`` of a column that is never NULL."""
    moment = as_utc(value)
    assert moment is not None
    return moment


def _utc_column(*, nullable: bool = True, index: bool = False) -> Column:
    # timezone=True: PostgreSQL stores timestamptz. Required timestamps also default to now
    # at the column, so Core bulk inserts (which skip default_factory) get them too.
    default = None if nullable else utcnow
    return Column(DateTime(timezone=True), nullable=nullable, index=index, default=default)


class Article(SQLModel, table=True):
    """One Markdown file in the content repo, identified by its path from the repo root."""

    __tablename__ = "article"

    id: int | None = Field(default=None, primary_key=True)
    path: str = Field(unique=True)
    blob_sha: str = Field(max_length=64)
    title: str | None = None
    excerpt: str | None = None
    url: str | None = Field(default=None, index=True)
    quality: float | None = None
    heat: float | None = None
    # None when the file could not be read (see ``error``).
    published: bool | None = None
    dated: datetime | None = Field(default=None, sa_column=_utc_column(index=True))
    provider_name: str | None = None
    provider_domain: str | None = None
    image_url: str | None = None
    # JSON list of {title, url, provider, quality}; parsed only for unpublished articles,
    # the only ones ever shown as candidates.
    related_json: str | None = None
    # One-line reason the file could not be read; the scan records it and moves on.
    error: str | None = None
    # One line about a value that was read but could not be used (a date the bot cannot
    # read); the article is still a candidate. Listed by `curator scan --errors`.
    warning: str | None = None
    # When the commit that added the file was written: the age of an unpublished article
    # without a usable date (migration 0006). Set by the scan, only for those.
    added_at: datetime | None = Field(default=None, sa_column=_utc_column())
    # What editors vote on, fingerprinted per key (migration 0010): JSON {key: short hash}
    # of the title, excerpt, URL... and the body (storage.fingerprint). Unpublished only.
    content_hash: str | None = None
    first_seen_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))
    removed_at: datetime | None = Field(default=None, sa_column=_utc_column())


class ArticleTopic(SQLModel, table=True):
    """A topic of an article; ``key`` is the case-folded form that queries match on."""

    __tablename__ = "article_topic"
    # The topic filter reads the articles of a key from this index alone (migration 0015).
    __table_args__ = (Index("ix_article_topic_key_article", "key", "article_id"),)

    article_id: int = Field(foreign_key="article.id", primary_key=True, ondelete="CASCADE")
    key: str = Field(primary_key=True)
    topic: str


class PostStatus(StrEnum):
    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"
    PUBLISHED = "published"
    EXPIRED = "expired"
    # Publishing (bot/publishing/job.py): approved, but the file was missing or could not be
    # edited; PublishHold says why. Back to approved once the file changes on the remote.
    BLOCKED = "blocked"
    # Posting (bot/slack/daily_post.py): the card could not be built or Slack refused it; the
    # Decision's cause says why. Never in Slack; offered again once the article changes.
    SKIPPED = "skipped"
    # Unpublishing (bot/publishing/job.py): editors' unpublish votes or `curator unpublish`
    # queued a published post; the next publish run flips its flag back (UNPUBLISHED).
    UNPUBLISHING = "unpublishing"
    UNPUBLISHED = "unpublished"


class Post(SQLModel, table=True):
    """A candidate card in Slack for one article (one card per story)."""

    __tablename__ = "post"
    __table_args__ = (
        UniqueConstraint("channel", "ts"),
        # The cards in some states, changed since a time (the digest's scope; migration 0015).
        Index("ix_post_status_changed", "status", "status_changed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="article.id", unique=True)
    channel: str
    # The desk it was planned for (migration 0008); None only for cards from before desks,
    # until the bot starts and gives them to its default desk.
    desk: str | None = Field(default=None, max_length=32)
    # Slack message timestamp; None until the message is actually posted.
    ts: str | None = None
    permalink: str | None = None
    day: str = Field(index=True, max_length=10)  # the posting day, YYYY-MM-DD in config tz
    status: str = Field(default=PostStatus.OPEN, max_length=16)
    status_changed_at: datetime = Field(
        default_factory=utcnow, sa_column=_utc_column(nullable=False)
    )
    commit_sha: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))
    # When its voting window started again (migration 0013): the change after the votes that
    # sent it back to a vote (storage.revotes.reopen); None: at created_at, its posting.
    window_from: datetime | None = Field(default=None, sa_column=_utc_column())
    # Changed after the votes (migration 0010, storage/revotes.py): the article's fingerprint
    # the current votes are for (set at the first vote), and once it changed: from when votes
    # count again (a Slack-style timestamp: earlier votes are shown, not counted), which keys
    # changed ("title,body") and the content commit the change was seen at.
    voted_hash: str | None = None
    votes_since: str | None = Field(default=None, max_length=24)
    changed_keys: str | None = None
    changed_commit: str | None = Field(default=None, max_length=64)
    # Its article's values that /digest filters and sorts by, its title and excerpt lowered
    # (art_text, migration 0019) and its topic keys (each between two \x1f), copied here by
    # triggers in the transaction of every write (migrations 0017 and 0019, storage/card_keys.py):
    # a digest query reads the cards alone, not a million articles.
    art_quality: float | None = None
    art_heat: float | None = None
    art_dated: datetime | None = Field(default=None, sa_column=_utc_column())
    art_removed_at: datetime | None = Field(default=None, sa_column=_utc_column())
    art_text: str | None = None
    art_topics: str | None = None


class Vote(SQLModel, table=True):
    """The latest known state of one editor's reaction on one post.

    Kept per emoji with the Slack event time so duplicated or reordered events settle
    on the same final state.
    """

    __tablename__ = "vote"
    __table_args__ = (UniqueConstraint("post_id", "user_id", "reaction"),)

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True, ondelete="CASCADE")
    user_id: str
    reaction: str
    choice: str = Field(max_length=16)  # "publish" | "reject"
    present: bool = True
    event_ts: str  # Slack's event_ts, compared as a decimal string
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))


class Decision(SQLModel, table=True):
    """Every change of a post's state, with its time and cause."""

    __tablename__ = "decision"

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True, ondelete="CASCADE")
    from_status: str | None = None
    to_status: str
    cause: str
    at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False, index=True))


class PublishCommit(SQLModel, table=True):
    """A commit the bot pushed to the content repo."""

    __tablename__ = "publish_commit"

    id: int | None = Field(default=None, primary_key=True)
    sha: str = Field(unique=True, max_length=64)
    article_count: int
    message: str
    pushed_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))


class JobRun(SQLModel, table=True):
    """One run of a scheduled job; (job, slot) is unique so a slot never runs twice."""

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job", "slot"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=32)
    slot: datetime = Field(sa_column=_utc_column(nullable=False))
    started_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=_utc_column())
    outcome: str | None = Field(default=None, max_length=16)  # "ok" | "failed" | "skipped"
    detail: str | None = None


class ScanState(SQLModel, table=True):
    """The last commit of each content branch that the database reflects."""

    __tablename__ = "scan_state"

    branch: str = Field(primary_key=True)
    commit_sha: str = Field(max_length=64)
    scanned_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))
    # Fingerprint of the field map and extraction rules the rows were read with (migration
    # 0005); a different one makes the next scan read every article again.
    reader: str | None = Field(default=None, max_length=64)


# --- publishing (storage/publish_commit/, storage/publish_log.py, bot/publishing/) ---------------
# Migration 0002. PublishBatch is the write-ahead record of a push: written before the push
# and closed in the same transaction that marks its posts published, so a run killed in
# between is finished by the next one. PublishHold keeps blocked posts out of the batch.


class PublishBatch(SQLModel, table=True):
    """One publish commit the bot is about to push, or has pushed.

    ``state`` is "pending" from just before the push until the database records its outcome;
    then "pushed", or "failed" (the remote never got it; its posts go into a later batch).
    ``token`` is the commit's ``Curator-Batch:`` trailer, so the commit can be found on the
    remote even when the database never learnt that the push succeeded.
    """

    __tablename__ = "publish_batch"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(unique=True, max_length=64)
    state: str = Field(default="pending", index=True, max_length=16)
    base_sha: str = Field(max_length=64)  # the remote tip the commit was built on
    commit_sha: str = Field(max_length=64)
    detail: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=_utc_column())


class PublishHold(SQLModel, table=True):
    """Why a blocked post is kept out of publishing, and at which version of its file.

    ``blob_sha`` is the blob that was refused, or None when the file was missing; the post is
    retried as soon as the file on the remote is different.
    """

    __tablename__ = "publish_hold"

    post_id: int = Field(foreign_key="post.id", primary_key=True, ondelete="CASCADE")
    blob_sha: str | None = Field(default=None, max_length=64)
    reason: str
    at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))


class PostUnpublish(SQLModel, table=True):
    """A published post taken back (migration 0011): who asked, when an operator did
    (``curator unpublish``; editors' votes are the card's reactions), and the blob its file
    was left at once unpublished, so the article is offered again only once it changes."""

    __tablename__ = "post_unpublish"

    post_id: int = Field(foreign_key="post.id", primary_key=True, ondelete="CASCADE")
    requested_by: str | None = None  # the operator, for an `Unpublished-by:` trailer
    blob_sha: str | None = Field(default=None, max_length=64)  # set when unpublished
    # That file's fingerprint (migration 0013), kept once a scan has read it: a change of
    # keys that do not count (quality, heat) does not make it a candidate again.
    left_hash: str | None = None
    at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))


# --- end of publishing ------------------------------------------------------------------------


class Lease(SQLModel, table=True):
    """Which process runs the scheduled jobs; others take over when ``expires_at`` passes."""

    __tablename__ = "lease"

    name: str = Field(primary_key=True, max_length=32)
    holder: str = Field(max_length=128)
    expires_at: datetime = Field(sa_column=_utc_column(nullable=False))


class Installation(SQLModel, table=True):
    """This database's identity, one row made on first use (migration 0007): the bot's
    Slack cards carry ``uuid``, so it adopts only cards it posted itself, never those of
    another database (staging beside production in one channel, a rebuilt database)."""

    __tablename__ = "installation"

    id: int = Field(default=1, primary_key=True)  # always 1: one row
    uuid: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))


class Reminder(SQLModel, table=True):
    """One editor reminded of one card (migration 0009): the row is the claim, written before
    the message is sent, so no two runs ever remind twice; ``sent_at`` once Slack took it.
    A failed send deletes the claim; a claim a crash left unsent stays (never a duplicate).
    ``round`` (migration 0014): the card's ``votes_since`` it was claimed for, ``''`` before
    any change; a later round's claim takes the row over. ``error``: Slack can never DM
    that editor (the claim stays, unsent)."""

    __tablename__ = "reminder"

    post_id: int = Field(foreign_key="post.id", primary_key=True, ondelete="CASCADE")
    user_id: str = Field(primary_key=True, max_length=32)
    claimed_at: datetime = Field(sa_column=_utc_column(nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=_utc_column(index=True))
    round: str = Field(
        default="", sa_column=Column(AutoString(length=24), nullable=False, server_default="")
    )
    error: str | None = Field(default=None, max_length=64)


class HomeReader(SQLModel, table=True):
    """Someone who opened the bot's Home tab lately (migration 0012): whichever replica
    watches keeps their view current. ``mark`` is the queue their view (or the refresh due)
    was built from; ``desks`` the desks it shows (JSON, null: every desk). Readers who have
    not opened the tab for a while are forgotten (``storage.home_readers``)."""

    __tablename__ = "home_reader"

    user_id: str = Field(primary_key=True, max_length=32)
    desks: str | None = None
    mark: str | None = Field(default=None, max_length=64)
    opened_at: datetime = Field(sa_column=_utc_column(nullable=False, index=True))


Index("ix_post_desk_day", Post.desk, Post.day)
# The few cards planned and not yet in Slack, by desk (``curator status`` counts them per
# desk); PostgreSQL's same terms are in migration 0016, for the reason given below.
Index("ix_post_unposted", Post.desk, sqlite_where=Post.__table__.c.ts.is_(None))
# A desk's cards in a state, oldest first: ``curator status`` counts the waiting ones and
# lists the oldest few. State first: a desk's cards of any state are other indexes' ranges.
Index("ix_post_status_desk_created", Post.status, Post.desk, Post.created_at)
# Covers the counts of the scan and the census: live, broken, on offer (migration 0020).
Index("ix_article_live", Article.removed_at, Article.error, Article.published)


def on_offer_by_age(dialect: str) -> tuple[ColumnElement[Any], tuple[ColumnElement[bool], ...]]:
    """(an article's age, the terms of "unpublished, readable, in the repo") as the partial
    index ``ix_article_on_offer_by_age`` has them on ``dialect``: a query repeating these very
    terms (``storage.articles``) reads the fresh and counts the old from that index alone.
    SQLite (never analyzed) gets them in ``coalesce`` so that no other index serves them;
    PostgreSQL, which knows each term's share, plain. Constants: both databases match a
    partial index's terms as written."""
    a = Article.__table__.c
    age = func.coalesce(a.dated, a.added_at)  # ``age_of`` of bot.rules.candidates
    if dialect != "sqlite":
        return age, (a.published.is_(False), a.error.is_(None), a.removed_at.is_(None))
    return age, (
        func.coalesce(a.published, true()).is_(False),
        func.coalesce(a.error, null()).is_(None),
        func.coalesce(a.removed_at, null()).is_(None),
    )


# The unpublished articles by age: the candidates' fresh ones, and the old ones counted.
# PostgreSQL's terms and the columns it includes (to read from the index alone) are in
# migration 0016 only: naming them here would load PostgreSQL's dialect on every start.
Index(
    "ix_article_on_offer_by_age",
    on_offer_by_age("sqlite")[0],
    sqlite_where=and_(*on_offer_by_age("sqlite")[1]),
)
# The same by id with their age, for the census's old cards: PostgreSQL only (migration 0018,
# with its terms); SQLite's rowid lookup beats any index. Alembic compares it on PostgreSQL.
Index("ix_article_on_offer_by_id", Article.id, on_offer_by_age("postgresql")[0])
