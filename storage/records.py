"""What storage hands bot/ when it reads a row: plain frozen records, typed, with no tie to
the database connection they came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache
from typing import Any, Self


@cache
def _columns(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


class _FromRow:
    @classmethod
    def of(cls, row: Any) -> Self:
        """The record of a row that has at least these columns (the rest are left out).
        A vote reads one per event: the names are worked out once per class."""
        mapping: Mapping[str, Any] = row._mapping
        return cls(**{name: mapping[name] for name in _columns(cls)})


@dataclass(frozen=True)
class PostRecord(_FromRow):
    """A candidate post: its card in Slack (``ts``, None until posted) and where it stands."""

    id: int
    article_id: int
    channel: str
    desk: str | None
    ts: str | None
    permalink: str | None
    day: str
    status: str
    status_changed_at: datetime
    commit_sha: str | None
    created_at: datetime
    window_from: datetime | None  # its voting window started again then (None: created_at)
    votes_since: str | None  # its article changed: votes count from then (storage.revotes)
    voted_hash: str | None  # the article's version its first vote was cast on (revotes)

    @property
    def voting_from(self) -> datetime:
        """When its voting window started (see storage.posts.WINDOW_FROM)."""
        return self.window_from or self.created_at


@dataclass(frozen=True)
class WaitingPost(_FromRow):
    """A post in Slack as ``curator status`` lists it (waiting for votes or the publisher,
    or decided lately), with its article's title and path."""

    post_id: int
    status: str
    created_at: datetime
    changed_at: datetime  # when it moved to ``status``
    permalink: str | None
    title: str | None
    path: str
    changed: bool = False  # its article changed after the votes, and nobody voted since


@dataclass(frozen=True)
class JobRunRecord(_FromRow):
    """One claimed slot of a scheduled job, and how it ended (None while it runs)."""

    id: int
    job: str
    slot: datetime
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None
    detail: str | None


@dataclass(frozen=True)
class CommitRecord(_FromRow):
    """A commit publishing pushed."""

    id: int
    sha: str
    article_count: int
    message: str
    pushed_at: datetime


@dataclass(frozen=True)
class ReminderCard(_FromRow):
    """An open card in Slack, as a reminder lists it: its card and its article's title."""

    id: int
    channel: str
    ts: str
    permalink: str | None
    title: str | None
    path: str
    window_from: datetime  # when its voting window started (storage.posts.WINDOW_FROM)


@dataclass(frozen=True)
class UnpublishTarget(_FromRow):
    """An article an operator asked to unpublish, and its card (``post_id`` None: it has
    none)."""

    article_id: int
    path: str
    title: str | None
    published: bool | None
    post_id: int | None
    status: str | None
