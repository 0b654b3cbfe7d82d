"""Reading every article at one tip and working out its edit, in memory (on every core
when there are many)."""

from __future__ import annotations

import difflib
import multiprocessing
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor

from storage import frontmatter

# The scan's own reading of the flag, so a file the scan calls unpublished is one we edit.
from storage.extract import FlagError, read_flag
from storage.fields import FieldMap
from storage.fingerprint import differing, dumps, fingerprint_of, loads
from storage.gitrepo import BlobReader, ContentRepo
from storage.lifeline import follow
from storage.publish_commit.results import ArticleResult, Edit, Outcome, Planned, Scalar

_REGULAR = ("100644", "100755")


def plan(
    repo: ContentRepo,
    tip: str,
    edits: Sequence[Edit],
    fields: FieldMap,
    workers: int | None = None,
) -> list[Planned]:
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
            planned.append(Planned(ArticleResult(e.path, Outcome.MISSING, "file not found")))
        elif e.path not in data:
            what = "a symbolic link" if entry[0] == "120000" else "a submodule"
            reason = f"{e.path} is {what}, not an article file"
            planned.append(Planned(ArticleResult(e.path, Outcome.REFUSED, reason, entry[1])))
        else:
            outcome, reason, new = edited[e.path]
            if outcome is Outcome.CHANGED:  # ``new`` holds the tip's fingerprint
                print_ = new.decode() if new else None
                result = ArticleResult(e.path, outcome, reason, entry[1], fingerprint=print_)
                planned.append(Planned(result, entry[0], data[e.path]))
                continue
            result = ArticleResult(e.path, outcome, reason, entry[1])
            planned.append(Planned(result, entry[0], data[e.path], new))
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
    """(outcome, reason, new bytes) for one article file: flip the flag unless it is live,
    or unless it is not the version editors approved (CHANGED: its fingerprint for bytes)."""
    try:
        published = read_flag(frontmatter.parse_keys(data, (fields.flag,)), fields)
    except (frontmatter.FrontmatterError, FlagError) as exc:
        return Outcome.REFUSED, _one_line(exc), None
    if published:
        return Outcome.ALREADY, None, None
    if edit.expect is not None:
        now = fingerprint_of(data, fields)
        changed = differing(loads(edit.expect), now or {}, edit.keys)
        if changed and now is not None:
            return Outcome.CHANGED, ",".join(changed), dumps(now).encode()
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


def unified_diff(planned: Iterable[Planned]) -> str:
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
