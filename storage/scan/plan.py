"""Which blobs a scan reads: from a full listing of the tree, or from a diff of commits."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
from collections.abc import Iterator, Sequence

from sqlalchemy import Connection, select, update
from sqlalchemy.engine import Engine

from storage.git_diff import Change
from storage.gitrepo import ContentRepo
from storage.models import Article, utcnow
from storage.pathfilter import PathFilter
from storage.scan.parser import Parser, chunk_size
from storage.scan.records import Known, ScanResult, Todo
from storage.skipped import skip_reason, stored_path

# A rescan asks the database about changed paths, and hands blobs to the workers, this many
# at a time while git is still naming the rest.
STREAM_BATCH = 250
STREAM_CHUNK = 100

ARTICLE = Article.__table__


def full_plan(
    engine: Engine,
    repo: ContentRepo,
    commit: str,
    paths: PathFilter,
    result: ScanResult,
    parser: Parser,
    reread: bool,
) -> tuple[list[Todo], list[int]]:
    tree: dict[str, tuple[str, str | None]] = {}
    for path, sha, kind in repo.tree_entries(commit):
        if not paths.matches(path):
            continue
        if kind == "file" and path.isascii() and path.isprintable():
            tree[path] = (sha, None)  # nearly every path, without two calls each
        else:
            tree[stored_path(path)] = (sha, skip_reason(path, kind))
    with engine.connect() as conn:
        known = _known(conn, None)
    todo, restored = [], []
    for path, (sha, skip) in tree.items():
        row = known.get(path)
        if reread and row is not None:
            todo.append(Todo(path, sha, dataclasses.replace(row, whole=False), skip))
        elif row is None or row.sha != sha:
            todo.append(Todo(path, sha, row, skip))
        elif row.removed:
            restored.append(row.id)
    gone = [row.id for path, row in known.items() if path not in tree and not row.removed]
    _restore(engine, restored, result)
    parser.add(todo, size=chunk_size(len(todo), parser.workers))
    return todo, gone


def diff_plan(
    engine: Engine,
    repo: ContentRepo,
    old: str,
    new: str,
    paths: PathFilter,
    result: ScanResult,
    parser: Parser,
) -> tuple[list[Todo], list[int]]:
    # closing(): a failed database call must not leave git waiting on a full pipe.
    with contextlib.closing(repo.iter_diff_tree(old, new)) as diff:
        return _plan_changes(engine, (c for c in diff if paths.matches(c.path)), result, parser)


def _plan_changes(
    engine: Engine, changes: Iterator[Change], result: ScanResult, parser: Parser
) -> tuple[list[Todo], list[int]]:
    """Look the changes up STREAM_BATCH at a time; hand what must be read to the parser."""
    todo: list[Todo] = []
    gone: list[int] = []
    while batch := list(itertools.islice(changes, STREAM_BATCH)):
        stored = [stored_path(c.path) for c in batch]
        with engine.connect() as conn:
            known = _known(conn, stored)
        found, restored = [], []
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
        parser.add(found, size=STREAM_CHUNK)
        todo += found
    return todo, gone


def _known(conn: Connection, paths: Sequence[str] | None) -> dict[str, Known]:
    """Articles the database has, all of them or just those at ``paths``."""
    cols = select(
        ARTICLE.c.path, ARTICLE.c.id, ARTICLE.c.blob_sha, ARTICLE.c.removed_at,
        (ARTICLE.c.published.is_(False) & ARTICLE.c.error.is_(None)).label("whole"),
    )  # fmt: skip
    if paths is None:
        rows = list(conn.execute(cols))
    else:
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
