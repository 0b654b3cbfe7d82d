"""One publish: plan the edits at the tip, commit, push; redo it all on a remote that moved on."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from storage.fields import FieldMap
from storage.gitrepo import ContentRepo
from storage.publish.planning import plan, unified_diff
from storage.publish.results import (
    ArticleResult,
    Author,
    Edit,
    Outcome,
    Planned,
    PublishResult,
    PushRejected,
)
from storage.publish.write import push_commit, write_blobs, write_commit

log = logging.getLogger(__name__)

#: Builds the commit message from the outcomes of an attempt (the EDITED ones go in).
MessageFn = Callable[[Sequence[ArticleResult]], str]
#: Called with (commit, base) right before each push, to record the intent durably.
BeforePush = Callable[[str, str], None]


def publish(
    repo: ContentRepo,
    edits: Sequence[Edit],
    *,
    fields: FieldMap,
    author: Author,
    message: MessageFn,
    tip: str | None = None,
    dry_run: bool = False,
    attempts: int = 5,
    backoff: float = 0.5,
    before_push: BeforePush | None = None,
    workers: int | None = None,
) -> PublishResult:
    """Publish ``edits`` in one commit pushed to the branch, or say why an article was not.

    ``tip`` is the remote tip to start from (default: fetch it). On a non-fast-forward push
    the remote is fetched again and everything is redone on the new tip, up to ``attempts``
    pushes with a growing, jittered pause; then PushRejected. A dry run reads and edits in
    memory only and returns the diff and the message: nothing is written anywhere.
    ``workers`` bounds the processes that edit a large batch (default: one per core).
    """
    paths = [e.path for e in edits]
    if len(set(paths)) != len(paths):
        raise ValueError("each article may be published once per commit")
    tip = tip or repo.fetch()
    for attempt in range(1, attempts + 1):
        planned = plan(repo, tip, edits, fields, workers)
        text = message([p.result for p in planned])
        edited = [p for p in planned if p.result.outcome is Outcome.EDITED]
        if dry_run or not edited:
            diff = unified_diff(edited) if dry_run else ""
            return PublishResult(_results(planned), tip, None, text, attempt, diff)
        results, entries = _stored(repo, planned)
        commit = write_commit(repo, tip, entries, text, author)
        if before_push is not None:
            before_push(commit, tip)
        if push_commit(repo, commit):
            log.info("pushed %s to %s: %d article(s)", commit[:12], repo.branch, len(entries))
            return PublishResult(results, tip, commit, text, attempt)
        if attempt == attempts:
            break
        pause = backoff * 2 ** (attempt - 1) * random.uniform(0.5, 1.0)
        log.warning(
            "push of %s rejected: %s moved on; redoing the edits on the new tip in %.1fs",
            commit[:12], repo.branch, pause,
        )  # fmt: skip
        time.sleep(pause)
        tip = repo.fetch()
    raise PushRejected(
        f"git push: {repo.branch} moved on before each of {attempts} attempts; try again later"
    )


def _results(planned: Iterable[Planned]) -> tuple[ArticleResult, ...]:
    return tuple(p.result for p in planned)


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
