"""Publish articles in one commit on top of the remote tip, without a working tree.

For each article the blob at the tip is read, re-checked (still unpublished, still editable)
and rewritten byte-minimally by :func:`storage.frontmatter.set_keys`. The new blobs go into
the object store, a temporary index read from the tip takes them, and ``commit-tree`` makes
one commit whose parent is the tip. The push is a fast-forward or nothing: when someone
pushed in between, the edits are redone on the new tip, every article re-checked, a bounded
number of times. ``git`` runs with argument lists, never a shell, and its errors are scrubbed
of credentials (:func:`storage.credentials.scrub`).
"""

from __future__ import annotations

import difflib
import logging
import multiprocessing
import os
import random
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from storage import frontmatter
from storage.commit_text import escape_message

# The scan's own reading of the flag, so a file the scan calls unpublished is one we edit.
from storage.extract import FlagError, read_flag
from storage.fields import FieldMap
from storage.gitrepo import BlobReader, ContentRepo, GitError, git_env, remote_error
from storage.lifeline import follow

log = logging.getLogger(__name__)

Scalar = bool | int | float | str | None

#: The trailer that names the batch in every publish commit; recovery greps for it.
BATCH_TRAILER = "Curator-Batch"

_REGULAR = ("100644", "100755")
# The porcelain status of a push refused because the remote moved on (not a hook's "no").
_NOT_FAST_FORWARD = re.compile(r"\[rejected\] \((?:fetch first|non-fast-forward)\)")


class Outcome(StrEnum):
    """What publishing did to one article."""

    EDITED = "edited"  # the flag is flipped in the commit
    ALREADY = "already"  # published at the tip already (by hand, or by an earlier batch)
    MISSING = "missing"  # no such file at the tip
    REFUSED = "refused"  # cannot be edited safely; ``reason`` says why in one line


@dataclass(frozen=True)
class Edit:
    """Publish the article at ``path``; ``changes`` are extra top-level keys set with the flag."""

    path: str
    changes: Mapping[str, Scalar] = field(default_factory=dict)


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


@dataclass(frozen=True)
class PublishResult:
    """What one publish did: ``commit`` is the pushed commit, None when nothing was edited
    or on a dry run; ``base`` is the tip the last attempt was built on."""

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


#: Builds the commit message from the outcomes of an attempt (the EDITED ones go in).
MessageFn = Callable[[Sequence[ArticleResult]], str]
#: Called with (commit, base) right before each push, to record the intent durably.
BeforePush = Callable[[str, str], None]


@dataclass(frozen=True)
class _Planned:
    """An article read and re-checked at one tip, with its new content when EDITED."""

    result: ArticleResult
    mode: str | None = None
    old: bytes | None = None
    new: bytes | None = None


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


def _results(planned: Iterable[_Planned]) -> tuple[ArticleResult, ...]:
    return tuple(p.result for p in planned)


def _stored(
    repo: ContentRepo, planned: Sequence[_Planned]
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


# --------------------------------------------------------------------------- reading + editing


def plan(
    repo: ContentRepo,
    tip: str,
    edits: Sequence[Edit],
    fields: FieldMap,
    workers: int | None = None,
) -> list[_Planned]:
    """Read every article at ``tip`` and work out its outcome and new content (in memory)."""
    entries = tree_entries(repo, tip, [e.path for e in edits])
    readable = [e for e in edits if entries.get(e.path, ("",))[0] in _REGULAR]
    with BlobReader(repo.git_dir) as reader:
        blobs = reader.read_many([entries[e.path][1] for e in readable])
    data = dict(zip((e.path for e in readable), blobs, strict=True))
    outcomes = edit_all(list(zip(blobs, readable, strict=True)), fields, workers)
    edited = dict(zip(data, outcomes, strict=True))
    planned = []
    for e in edits:
        entry = entries.get(e.path)
        if entry is None:
            planned.append(_Planned(ArticleResult(e.path, Outcome.MISSING, "file not found")))
        elif e.path not in data:
            what = "a symbolic link" if entry[0] == "120000" else "a submodule"
            reason = f"{e.path} is {what}, not an article file"
            planned.append(_Planned(ArticleResult(e.path, Outcome.REFUSED, reason, entry[1])))
        else:
            outcome, reason, new = edited[e.path]
            result = ArticleResult(e.path, outcome, reason, entry[1])
            planned.append(_Planned(result, entry[0], data[e.path], new))
    return planned


Edited = tuple[Outcome, str | None, bytes | None]

# Below this many articles, starting worker processes costs more than it saves.
PARALLEL_MIN = 200


def edit_all(
    items: Sequence[tuple[bytes, Edit]], fields: FieldMap, workers: int | None
) -> list[Edited]:
    """:func:`edit_article` over every (data, edit), on every core when there are many.

    The edit re-parses each file twice (before, and to verify the result): about a
    millisecond of YAML per article, the largest cost of a big batch.
    """
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(items) < PARALLEL_MIN:
        return [edit_article(data, edit, fields) for data, edit in items]
    size = max(1, -(-len(items) // (workers * 4)))
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    # forkserver, not fork: the bot has threads (scheduler, Socket Mode) when it publishes.
    # The same preload as the scan's, since the first caller starts the server for both.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["storage.extract", "storage.gitrepo"])
    # The workers end with this process, even when it is killed (storage/lifeline.py).
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=follow, initargs=(os.getpid(),)
    )
    with pool:
        done = pool.map(_edit_chunk, chunks, [fields] * len(chunks))
        return [edited for chunk in done for edited in chunk]


def _edit_chunk(items: Sequence[tuple[bytes, Edit]], fields: FieldMap) -> list[Edited]:
    return [edit_article(data, edit, fields) for data, edit in items]


def edit_article(data: bytes, edit: Edit, fields: FieldMap) -> Edited:
    """(outcome, reason, new bytes) for one article file: flip the flag unless it is live."""
    try:
        published = read_flag(frontmatter.parse_keys(data, (fields.flag,)), fields)
    except (frontmatter.FrontmatterError, FlagError) as exc:
        return Outcome.REFUSED, _one_line(exc), None
    if published:
        return Outcome.ALREADY, None, None
    # The flag first: when keys are missing they are added in this order.
    changes: dict[str, Scalar] = {fields.flag: fields.published_value()}
    changes.update((k, v) for k, v in edit.changes.items() if k != fields.flag)
    try:
        new = frontmatter.set_keys(data, changes)
    except (frontmatter.EditError, frontmatter.FrontmatterError, TypeError) as exc:
        return Outcome.REFUSED, _one_line(exc), None
    return Outcome.EDITED, None, new


def _one_line(exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or str(exc)
    return " ".join(str(reason).split())[:300]


def tree_entries(
    repo: ContentRepo, commit: str, paths: Iterable[str]
) -> dict[str, tuple[str, str]]:
    """(mode, sha) at ``commit`` of each of ``paths`` that exists there, in one ``ls-tree``."""
    wanted = set(paths)
    if not wanted:
        return {}
    found: dict[str, tuple[str, str]] = {}
    for entry in repo.git("ls-tree", "-r", "-z", "--full-tree", commit).split(b"\0"):
        meta, _, raw = entry.partition(b"\t")
        path = raw.decode("utf-8", "surrogateescape")
        if path in wanted:
            mode, _, sha = meta.decode().split(" ")
            found[path] = (mode, sha)
    return found


def unified_diff(planned: Iterable[_Planned]) -> str:
    """The diff the commit would make, as ``git diff`` prints it (without index lines)."""
    out: list[str] = []
    for p in planned:
        if p.old is None or p.new is None:
            continue
        old = p.old.decode("utf-8", "replace").splitlines(keepends=True)
        new = p.new.decode("utf-8", "replace").splitlines(keepends=True)
        path = p.result.path
        out.append(f"diff --git a/{path} b/{path}\n")
        for line in difflib.unified_diff(old, new, f"a/{path}", f"b/{path}"):
            # difflib leaves a last line without its newline; git marks it instead.
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


# ----------------------------------------------------------------------------- writing + push


def write_blobs(repo: ContentRepo, contents: Sequence[bytes]) -> list[str]:
    """Store ``contents`` as blobs, in one pack written by one ``git fast-import``.

    One process and one pack file for the whole batch: a loose object per blob (what
    ``hash-object -w`` writes) costs a file and a directory entry each, which is most of the
    time of a large batch on a slow disk. No ref is touched; fetch's auto-gc folds the packs.
    """
    if not contents:
        return []
    stream = bytearray()
    for i, data in enumerate(contents, 1):
        stream += b"blob\nmark :%d\ndata %d\n" % (i, len(data))
        stream += data
        stream += b"\n"
    stream += b"done\n"
    with tempfile.TemporaryDirectory(prefix="curator-blobs-") as tmp:
        marks = Path(tmp, "marks")
        # No deltas inside the batch (they would be against unrelated articles); the push
        # finds the good ones, against each file's previous version.
        repo.git(
            "fast-import", "--quiet", "--done", "--big-file-threshold=1k",
            f"--export-marks={marks}", input=bytes(stream),
        )  # fmt: skip
        ids = dict(line.split(" ", 1) for line in marks.read_text().split("\n") if line)
    try:
        return [ids[f":{i}"] for i in range(1, len(contents) + 1)]
    except KeyError:
        raise GitError(f"git fast-import: {len(ids)} ids for {len(contents)} blobs") from None


def write_commit(
    repo: ContentRepo,
    tip: str,
    entries: Sequence[tuple[str, str, str]],
    message: str,
    author: Author,
) -> str:
    """A commit on top of ``tip`` with ``entries`` (mode, blob sha, path) replaced.

    The index is a temporary file read from the tip, so nothing is checked out and the
    bare clone's own state is never touched; only the changed directories are rewritten.
    """
    with tempfile.TemporaryDirectory(prefix="curator-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp, "index"))}
        repo.git("read-tree", tip, env=env)
        info = b"".join(
            f"{mode} {sha}\t".encode() + path.encode("utf-8", "surrogateescape") + b"\0"
            for mode, sha, path in entries
        )
        repo.git("update-index", "-z", "--index-info", env=env, input=info)
        tree = repo.git("write-tree", env=env).decode().strip()
    identity = {
        "GIT_AUTHOR_NAME": author.name,
        "GIT_AUTHOR_EMAIL": author.email,
        "GIT_COMMITTER_NAME": author.name,
        "GIT_COMMITTER_EMAIL": author.email,
    }
    # The caller's line breaks stay; any other control character is escaped, whoever
    # built the message (storage/commit_text.py).
    text = escape_message(message if message.endswith("\n") else message + "\n")
    out = repo.git("commit-tree", tree, "-p", tip, "-F", "-", env=identity, input=text.encode())
    return out.decode().strip()


def push_commit(repo: ContentRepo, commit: str) -> bool:
    """Fast-forward the remote branch to ``commit``; False when the remote has moved on.

    Another push updating the branch at that very moment makes the remote answer "cannot
    lock ref": that is the remote moving on too, and the caller redoes the edits on the
    new tip.
    """
    args = ["push", "--porcelain", "origin", f"{commit}:refs/heads/{repo.branch}"]
    # Under the clone's lock: a successful push also moves our tracking ref, which a
    # fetch in another process must not be updating at the same time.
    with repo.locked():
        proc = subprocess.run(
            ["git", *args],
            capture_output=True,
            check=False,
            env=git_env(repo.git_dir),
        )
        if proc.returncode == 0:
            # Keep the tracking ref on what the remote now has, so a scan sees our commit.
            repo.git("update-ref", repo.tracking_ref, commit)
            return True
    out = proc.stdout.decode("utf-8", "replace")
    err = proc.stderr.decode("utf-8", "replace").strip() or out.strip()
    if _NOT_FAST_FORWARD.search(out) or f"cannot lock ref 'refs/heads/{repo.branch}'" in err:
        return False
    # A refusal without a word from the remote's hook is said only on stdout: "!<TAB>ref<TAB>
    # [remote rejected] (pre-receive hook declined)".
    rejected = [line.rsplit("\t", 1)[-1] for line in out.splitlines() if line.startswith("!")]
    stderr = proc.stderr.decode("utf-8", "replace").strip()
    said = "\n".join([stderr, *rejected]).strip() or f"exit {proc.returncode}"
    raise remote_error("push", repo.remote, repo.branch, said)


# ---------------------------------------------------------------------------------- recovery


def find_pushed(repo: ContentRepo, tip: str, *, commit: str, base: str, token: str) -> str | None:
    """The commit of batch ``token`` if the remote branch (at ``tip``) has it, else None.

    The recorded sha is checked first; the trailer is grepped as well, between the batch's
    base and the tip, so a commit that was rewritten on the remote (a rebase) is found too.
    """
    if repo.has_commit(commit) and repo.is_ancestor(commit, tip):
        return commit
    span = f"{base}..{tip}" if repo.has_commit(base) and repo.is_ancestor(base, tip) else tip
    line = f"{BATCH_TRAILER}: {token}"
    # --grep finds substrings (token "ab" in "abc"): the exact line is checked here.
    out = repo.git("log", "--format=%H%n%B%x00", "--fixed-strings", f"--grep={line}", span)
    found = None
    for entry in out.decode("utf-8", "replace").split("\0"):
        sha, _, body = entry.strip("\n").partition("\n")
        if sha and line in body.splitlines():
            found = sha  # the log is newest first: keep the oldest
    return found


def changed_paths(repo: ContentRepo, commit: str) -> list[str]:
    """The files ``commit`` changed against its first parent."""
    return [c.path for c in repo.diff_tree(f"{commit}^", commit)]


def commit_message(repo: ContentRepo, commit: str) -> str:
    return repo.git("log", "-1", "--format=%B", commit).decode("utf-8", "replace")


_SIMPLE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def find_publisher(
    repo: ContentRepo, tip: str, path: str, fields: FieldMap
) -> tuple[str, str] | None:
    """(sha, author name) of the last commit that changed the flag line of ``path``.

    Best effort, for telling editors who published an article by hand: None when the key
    is not a plain word or no commit in the history touched it.
    """
    if not _SIMPLE_KEY.fullmatch(fields.flag):
        return None
    out = repo.git(
        "log", "-1", "--format=%H%x00%an", f"-G^[\"']?{fields.flag}[\"']?[[:space:]]*:",
        tip, "--", f":(literal){path}",
    )  # fmt: skip
    sha, _, name = out.decode("utf-8", "replace").strip().partition("\0")
    return (sha, name) if sha else None
