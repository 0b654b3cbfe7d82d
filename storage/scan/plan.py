"""Which blobs a scan reads: from a full listing of the tree, or from a diff of commits.

Both hand their findings over in parts (see :class:`Part`) as git names the files, so the
memory of a scan follows the size of a part, never that of the repo: a full scan of a million
articles holds a few thousand paths at a time, not a million.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import Connection, func, select, update
from sqlalchemy.engine import Engine

from storage.git_diff import Change
from storage.gitrepo import ContentRepo
from storage.models import Article, utcnow
from storage.pathfilter import PathFilter
from storage.scan.records import Known, ScanResult, Todo
from storage.skipped import skip_reason, stored_path

# A rescan asks the database about changed paths, and hands blobs to the workers, this many
# at a time while git is still naming the rest.
STREAM_BATCH = 250
STREAM_CHUNK = 100
# A full scan takes the tree this many entries at a time: what it holds at once.
SLICE = 5000
# Articles that left the tree are looked for this many ids at a time.
SWEEP = 50_000

ARTICLE = Article.__table__


@dataclass
class Part:
    """What the plan found in one slice of the tree or of the diff: blobs to read (in
    ``chunk``-sized pieces for the workers; 0: as many as spread them over the workers), and
    ids of articles no longer in the tree."""

    todo: list[Todo]
    gone: list[int] = field(default_factory=list)
    chunk: int = STREAM_CHUNK


def full_plan(
    engine: Engine,
    repo: ContentRepo,
    commit: str,
    paths: PathFilter,
    result: ScanResult,
    reread: bool,
) -> Iterator[Part]:
    """The whole tree, SLICE entries at a time (``ls-tree`` is read as it comes), each
    looked up in the database; then the articles whose path was not in the tree are gone.

    Only ids are remembered across slices (a bit per id, as :class:`_Ids`), so the sweep
    needs no list of a million paths.
    """
    with engine.connect() as conn:
        # Rows above this id are written by this scan, from the tree: never gone.
        top = conn.execute(select(func.max(ARTICLE.c.id))).scalar()
    seen = _Ids()
    # Two names the database would store alike (a file name that is not UTF-8 and one that
    # spells its escapes out): the first listed is the one read. Only such names can clash.
    odd: set[str] = set()
    with contextlib.closing(repo.tree_entries(commit)) as entries:
        matching = (e for e in entries if paths.matches(e[0]))
        while entries_slice := list(itertools.islice(matching, SLICE)):
            tree: dict[str, tuple[str, str | None]] = {}
            for path, sha, kind in entries_slice:
                if kind == "file" and path.isascii() and path.isprintable() and "\\" not in path:
                    tree[path] = (sha, None)  # nearly every path, without two calls each
                    continue
                stored = stored_path(path)
                if stored not in odd:
                    odd.add(stored)
                    tree[stored] = (sha, skip_reason(path, kind))
            known: dict[str, Known] = {}
            if top is not None:  # an empty table has nothing to look up
                with engine.connect() as conn:
                    known = _known(conn, list(tree))
            todo, restored = [], []
            for path, (sha, skip) in tree.items():
                row = known.get(path)
                if row is not None:
                    seen.add(row.id)
                if reread and row is not None:
                    todo.append(Todo(path, sha, replace(row, whole=False), skip))
                elif row is None or row.sha != sha:
                    todo.append(Todo(path, sha, row, skip))
                elif row.removed:
                    restored.append(row.id)
            _restore(engine, restored, result)
            yield Part(todo, chunk=0)
    if top is not None:
        yield from _sweep(engine, top, seen)


def _sweep(engine: Engine, top: int, seen: _Ids) -> Iterator[Part]:
    """The live articles (up to id ``top``) the tree did not have, SWEEP ids at a time."""
    live = select(ARTICLE.c.id).where(ARTICLE.c.removed_at.is_(None))
    for low in range(0, top, SWEEP):
        with engine.connect() as conn:
            high = min(low + SWEEP, top)  # rows above ``top`` are this scan's own
            ids = conn.scalars(live.where(ARTICLE.c.id > low, ARTICLE.c.id <= high))
            gone = [i for i in ids if i not in seen]
        if gone:
            yield Part([], gone)


class _Ids:
    """A set of positive ids as a bitmap: 125 KB for a million articles."""

    def __init__(self) -> None:
        self._bits = bytearray()

    def add(self, i: int) -> None:
        byte = i >> 3
        if byte >= len(self._bits):
            self._bits.extend(bytes(byte + 1 - len(self._bits) + len(self._bits) // 2))
        self._bits[byte] |= 1 << (i & 7)

    def __contains__(self, i: int) -> bool:
        byte = i >> 3
        return byte < len(self._bits) and bool(self._bits[byte] & (1 << (i & 7)))


def diff_plan(
    engine: Engine,
    repo: ContentRepo,
    old: str,
    new: str,
    paths: PathFilter,
    result: ScanResult,
) -> Iterator[Part]:
    # closing(): a failed database call must not leave git waiting on a full pipe.
    with contextlib.closing(repo.iter_diff_tree(old, new)) as diff:
        yield from _plan_changes(engine, (c for c in diff if paths.matches(c.path)), result)


def _plan_changes(engine: Engine, changes: Iterable[Change], result: ScanResult) -> Iterator[Part]:
    """Look the changes up STREAM_BATCH at a time; each batch is a part."""
    changes = iter(changes)
    while batch := list(itertools.islice(changes, STREAM_BATCH)):
        stored = [stored_path(c.path) for c in batch]
        with engine.connect() as conn:
            known = _known(conn, stored)
        found: list[Todo] = []
        gone: list[int] = []
        restored: list[int] = []
        for change, path in zip(batch, stored, strict=True):
            row = known.get(path)
            if change.sha is None:
                if row is not None and not row.removed:
                    gone.append(row.id)
            elif row is None or row.sha != change.sha:
                skip = skip_reason(change.path, change.kind)
                found.append(Todo(path, change.sha, row, skip))
            elif row.removed:
                restored.append(row.id)
        _restore(engine, restored, result)
        yield Part(found, gone, STREAM_CHUNK)


def _known(conn: Connection, paths: Sequence[str]) -> dict[str, Known]:
    """Articles the database has at ``paths``."""
    cols = select(
        ARTICLE.c.path, ARTICLE.c.id, ARTICLE.c.blob_sha, ARTICLE.c.removed_at,
        (ARTICLE.c.published.is_(False) & ARTICLE.c.error.is_(None)).label("whole"),
    )  # fmt: skip
    rows = []
    for i in range(0, len(paths), 500):  # stay under bound-parameter limits
        rows.extend(conn.execute(cols.where(ARTICLE.c.path.in_(paths[i : i + 500]))))
    return {r.path: Known(r.id, r.blob_sha, r.removed_at is not None, bool(r.whole)) for r in rows}


def _restore(engine: Engine, ids: list[int], result: ScanResult) -> None:
    """A file that came back with the same content: un-remove it without reading it."""
    if ids:
        with engine.begin() as conn:
            conn.execute(
                update(ARTICLE)
                .where(ARTICLE.c.id.in_(ids))
                .values(removed_at=None, updated_at=utcnow())
            )
        result.new += len(ids)
