"""What publishing is given and what it answers: the edits, the author, each article's outcome."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from storage.gitrepo import GitError

Scalar = bool | int | float | str | None

#: The trailer that names the batch in every publish commit; recovery greps for it.
BATCH_TRAILER = "Curator-Batch"


class Outcome(StrEnum):
    """What publishing did to one article."""

    EDITED = "edited"  # the flag is flipped in the commit
    ALREADY = "already"  # published at the tip already (by hand, or by an earlier batch)
    MISSING = "missing"  # no such file at the tip
    REFUSED = "refused"  # cannot be edited safely; ``reason`` says why in one line
    # Not what editors approved: a key that counts differs from the approved fingerprint
    # (storage.fingerprint); ``reason`` names them ("title,body"), ``fingerprint`` is the tip's.
    CHANGED = "changed"


@dataclass(frozen=True)
class Edit:
    """Publish the article at ``path``; ``changes`` are extra top-level keys set with the flag."""

    path: str
    changes: Mapping[str, Scalar] = field(default_factory=dict)
    # The fingerprint editors approved, and the keys of it that count: an article that
    # differs in one of them at the tip is not edited (Outcome.CHANGED). None: no check.
    expect: str | None = None
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Author:
    """Author and committer of publish commits."""

    name: str
    email: str


@dataclass(frozen=True)
class ArticleResult:
    """One article's outcome; ``old_blob`` is what was read at the tip (None: missing)."""

    path: str
    outcome: Outcome
    reason: str | None = None
    old_blob: str | None = None
    new_blob: str | None = None  # the committed blob (EDITED and not a dry run)
    fingerprint: str | None = None  # CHANGED: the article's fingerprint at the tip


@dataclass(frozen=True)
class PublishResult:
    """What one attempt did: ``commit`` is the commit made on top of ``base`` (pushed once
    :func:`storage.publish_commit.push` said so), None when nothing was edited or on a dry run;
    ``attempts`` counts this one."""

    articles: tuple[ArticleResult, ...]
    base: str
    commit: str | None
    message: str
    attempts: int
    diff: str = ""  # dry run only: the unified diff the commit would make

    def with_outcome(self, outcome: Outcome) -> list[ArticleResult]:
        return [a for a in self.articles if a.outcome is outcome]


class PushRejected(GitError):
    """Every attempt's push was refused as not a fast-forward: the branch kept moving."""


@dataclass(frozen=True)
class Planned:
    """An article read and re-checked at one tip, with its new content when EDITED."""

    result: ArticleResult
    mode: str | None = None
    old: bytes | None = None
    new: bytes | None = None
