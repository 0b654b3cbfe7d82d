"""One publish: plan the edits at the tip, commit, push; redo it all on a remote that moved on."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from storage.fields import FieldMap
from storage.gitrepo import ContentRepo
from storage.publish_commit.planning import plan, unified_diff
from storage.publish_commit.results import (
    ArticleResult,
    Author,
    Edit,
    Outcome,
    Planned,
    PublishResult,
    PushRejected,
)
from storage.publish_commit.write import push_commit, write_blobs, write_commit

log = logging.getLogger(__name__)

# The steps, in the order a caller takes them: plan_attempt (every article read, re-checked
# and edited in memory at the tip), prepare (the commit in the bot's clone, with the message
# the caller wrote from the plan's outcomes), push (a fast-forward or nothing), and on a
# refusal next_tip, then plan again. Whatever must be recorded before a push
# (bot/publishing/job.py writes its batch ahead) goes between prepare and push: nothing here
# calls back.


@dataclass(frozen=True)
class Attempt:
    """One attempt's edits, planned at ``tip`` in memory: nothing written yet."""

    tip: str
    number: int
    planned: tuple[Planned, ...]

    @property
    def results(self) -> tuple[ArticleResult, ...]:
        """Each article's outcome, for the commit message (the EDITED ones go in)."""
        return tuple(p.result for p in self.planned)


def plan_attempt(
    repo: ContentRepo,
    edits: Sequence[Edit],
    *,
    tip: str,
    fields: FieldMap,
    number: int = 1,
    workers: int | None = None,
) -> Attempt:
    """Every article of ``edits`` read at ``tip``, re-checked and edited in memory.
    ``workers`` bounds the processes that edit a large batch (default: one per core)."""
    paths = [e.path for e in edits]
    if len(set(paths)) != len(paths):
        raise ValueError("each article may be published once per commit")
    return Attempt(tip, number, tuple(plan(repo, tip, edits, fields, workers)))


def prepare(
    repo: ContentRepo, attempt: Attempt, *, message: str, author: Author, dry_run: bool = False
) -> PublishResult:
    """The attempt's commit written to the bot's clone, not pushed (``commit`` is None when
    nothing was edited). A dry run writes nothing anywhere and returns the diff and the
    message."""
    edited = [p for p in attempt.planned if p.result.outcome is Outcome.EDITED]
    if dry_run or not edited:
        diff = unified_diff(edited) if dry_run else ""
        return PublishResult(attempt.results, attempt.tip, None, message, attempt.number, diff)
    results, entries = _stored(repo, attempt.planned)
    commit = write_commit(repo, attempt.tip, entries, message, author)
    return PublishResult(results, attempt.tip, commit, message, attempt.number)


def push(repo: ContentRepo, prepared: PublishResult) -> bool:
    """Fast-forward the branch to the commit ``prepare`` made; False when the remote moved
    on (then :func:`next_tip`, and prepare again)."""
    assert prepared.commit is not None, "nothing to push"
    if not push_commit(repo, prepared.commit):
        return False
    edited = len(prepared.with_outcome(Outcome.EDITED))
    log.info("pushed %s to %s: %d article(s)", prepared.commit[:12], repo.branch, edited)
    return True


def next_tip(repo: ContentRepo, rejected: PublishResult, *, attempts: int, backoff: float) -> str:
    """After a refused push: the remote's new tip, after a pause that grows with each attempt
    (jittered); PushRejected when ``rejected`` was the last of ``attempts``."""
    attempt = rejected.attempts
    if attempt >= attempts:
        raise PushRejected(
            f"git push: {repo.branch} moved on before each of {attempts} attempts; try again later"
        )
    pause = backoff * 2 ** (attempt - 1) * random.uniform(0.5, 1.0)
    log.warning(
        "push of %s rejected: %s moved on; redoing the edits on the new tip in %.1fs",
        (rejected.commit or "")[:12], repo.branch, pause,
    )  # fmt: skip
    time.sleep(pause)
    return repo.fetch()


def _stored(
    repo: ContentRepo, planned: Sequence[Planned]
) -> tuple[tuple[ArticleResult, ...], list[tuple[str, str, str]]]:
    """Write the edited blobs: the results with their new blob ids, and the index entries."""
    edited = [p for p in planned if p.new is not None]
    ids = write_blobs(repo, [p.new for p in edited if p.new is not None])
    shas = dict(zip((p.result.path for p in edited), ids, strict=True))
    results = tuple(
        replace(p.result, new_blob=shas[p.result.path]) if p.result.path in shas else p.result
        for p in planned
    )
    entries = [(p.mode or "100644", shas[p.result.path], p.result.path) for p in edited]
    return results, entries
