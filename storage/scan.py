"""Bring the database in line with the committed tree of the content branch.

Cost follows what changed, not the size of the repo: the last scanned commit is remembered
and ``git diff-tree`` names the changed blobs; a full ``ls-tree`` listing is the fallback
and the self-check. Only blobs whose sha the database has not seen at that path are read
(with, for a candidate, the blob it was last read from: see extract_change), through
``git cat-file --batch``, and parsed on every core when there are many. An update sets only
the columns whose value changed. Symlinks, submodules and file names the terminal could not
show safely are recorded as skipped, with the reason (storage.skipped); an unpublished
article without a usable date is aged by the commit that added it (one ``git log``).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import functools
import itertools
import logging
import multiprocessing
import multiprocessing.context
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, Row, bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Engine

from storage.extract import ArticleData, extract, extract_change, reader_id
from storage.fields import FieldMap
from storage.git_command import GitError
from storage.git_diff import Change
from storage.gitrepo import BlobReader, ContentRepo
from storage.lifeline import follow
from storage.locks import run_lock
from storage.models import Article, ArticleTopic, ScanState, as_utc, utcnow
from storage.pathfilter import PathFilter
from storage.skipped import skip_reason, stored_path

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

#: How long a scan waits for another one to finish (scans are quick) before it says so.
SCAN_WAIT = 120.0

# Below this many blobs, starting worker processes costs more than it saves (a forkserver
# must start, and its workers connect back to it; a forked worker starts in milliseconds).
PARALLEL_MIN = 400
PARALLEL_MIN_FORKSERVER = 2000
CHUNK = 500
WRITE_BATCH = 250
# A rescan asks the database about changed paths, and hands blobs to the workers, this many
# at a time while git is still naming the rest.
STREAM_BATCH = 250
STREAM_CHUNK = 100

ARTICLE = Article.__table__
TOPIC = ArticleTopic.__table__
STATE = ScanState.__table__


@dataclass
class ScanResult:
    """Counts a scan reports; ``mode`` says how the changes were found."""

    commit: str
    mode: str  # "unchanged" | "diff" | "full"
    scanned: int = 0
    new: int = 0
    changed: int = 0
    deleted: int = 0
    unchanged: int = 0
    errors: int = 0
    # Files read by this scan with a warning (`curator scan --errors` lists every one):
    # counted as they are read, so an unchanged rescan costs no more.
    warnings: int = 0
    # Every article read again: the field map or the extraction rules changed since.
    reread: bool = False


@dataclass(frozen=True)
class _Known:
    id: int
    sha: str
    removed: bool
    # Last read whole and without error, as an unpublished article: a change can be read
    # from the lines that changed (see extract_change).
    whole: bool


def scan(
    engine: Engine,
    repo: ContentRepo,
    fields: FieldMap,
    paths: PathFilter,
    *,
    commit: str | None = None,
    full: bool = False,
    workers: int | None = None,
    progress: Progress | None = None,
    wait: float | None = None,
) -> ScanResult:
    """Scan ``commit`` (default: the fetched branch head) into the database.

    ``full=True`` lists the whole tree instead of trusting the last scanned commit.
    Scans take turns (two would insert the same new articles): this one waits up to
    ``wait`` seconds (default SCAN_WAIT) for another to finish, then raises
    storage.locks.Busy. Leave ``commit`` out after a fetch: the head is then read once it
    is this scan's turn, so a scan that waited never takes the database back to an older
    commit than the one scanned before it.
    """
    with run_lock(engine, "scan", wait=SCAN_WAIT if wait is None else wait):
        return _scan(
            engine, repo, fields, paths, commit=commit, full=full, workers=workers,
            progress=progress,
        )  # fmt: skip


def _scan(
    engine: Engine,
    repo: ContentRepo,
    fields: FieldMap,
    paths: PathFilter,
    *,
    commit: str | None,
    full: bool,
    workers: int | None,
    progress: Progress | None,
) -> ScanResult:
    commit = commit or repo.head()
    reader = reader_id(fields)
    with engine.connect() as conn:
        state = conn.execute(
            select(STATE.c.commit_sha, STATE.c.reader).where(STATE.c.branch == repo.branch)
        ).one_or_none()
    last = state.commit_sha if state else None
    # Rows read with another field map or older rules: read every article again, once.
    reread = state is not None and state.reader != reader
    full = full or reread
    diff = last != commit and bool(last) and not full and repo.has_commit(last)
    mode = "unchanged" if last == commit and not full else "diff" if diff else "full"
    result = ScanResult(commit, mode, reread=reread)
    finish = functools.partial(_finish, branch=repo.branch, reader=reader, result=result)
    if mode == "unchanged":
        with engine.begin() as conn:
            finish(conn)
        return result
    with _Parser(repo.git_dir, fields, workers) as parser:
        # Blobs go to the parser as they are found, so the workers start on the first ones
        # while git is still comparing trees.
        if diff:
            assert last is not None
            todo, gone = _diff_plan(engine, repo, last, commit, paths, result, parser)
        else:
            todo, gone = _full_plan(engine, repo, commit, paths, result, parser, reread)
        undated = _apply(engine, parser, todo, gone, result, progress, finish)
    # A full scan (the self-check) looks at every article still undated, so one that git
    # could not be asked about before gets its age; a diff scan only at what it wrote.
    _age_from_git(engine, repo, commit, None if mode == "full" else undated)
    return result


# The age of an undated article whose adding commit git cannot name (it came in with a
# merge's own change, or before a shallow clone's edge): old, so it is never offered as
# today's, and not looked up again.
UNKNOWN_AGE = datetime(1970, 1, 1, tzinfo=UTC)


def _age_from_git(engine: Engine, repo: ContentRepo, commit: str, ids: list[int] | None) -> None:
    """Unpublished articles without a usable date take their age from the commit that added
    the file (never from when the bot first saw it, which would make an old article look
    new): one ``git log`` for all of ``ids`` (None: every article) that have none yet.
    """
    if ids is not None and not ids:
        return
    a = ARTICLE
    undated = select(a.c.id, a.c.path).where(
        a.c.published.is_(False), a.c.error.is_(None), a.c.removed_at.is_(None),
        a.c.dated.is_(None), a.c.added_at.is_(None),
    )  # fmt: skip
    with engine.connect() as conn:
        if ids is None:
            rows = list(conn.execute(undated))
        else:
            rows = []
            for i in range(0, len(ids), 500):  # stay under bound-parameter limits
                rows.extend(conn.execute(undated.where(a.c.id.in_(ids[i : i + 500]))))
    if not rows:
        return
    try:
        found = repo.added_times(commit, [r.path for r in rows])
    except GitError as exc:
        log.warning(
            "could not ask git when %d undated articles were added (%s); they are not offered "
            "until 'curator scan --full' can", len(rows), exc,
        )  # fmt: skip
        return
    ages = [{"b_id": r.id, "added_at": found.get(r.path, UNKNOWN_AGE)} for r in rows]
    with engine.begin() as conn:
        conn.execute(
            update(a).where(a.c.id == bindparam("b_id")).values(added_at=bindparam("added_at")),
            ages,
        )


def _finish(conn: Connection, *, branch: str, reader: str, result: ScanResult) -> None:
    """Record the commit as scanned, and count, in the transaction of the last rows."""
    _save_state(conn, branch, result.commit, reader)
    # One pass over a narrow index for both counts.
    result.scanned, result.errors = conn.execute(
        select(func.count(), func.count(ARTICLE.c.error)).where(ARTICLE.c.removed_at.is_(None))
    ).one()
    result.unchanged = result.scanned - result.new - result.changed


@dataclass
class _Todo:
    """A blob to read: an article that is new, changed, or came back.

    ``skip`` says why it is recorded as an error without being read (a symlink, a file
    name with control characters: see storage.skipped).
    """

    path: str
    sha: str
    known: _Known | None
    skip: str | None = None


def _full_plan(
    engine: Engine,
    repo: ContentRepo,
    commit: str,
    paths: PathFilter,
    result: ScanResult,
    parser: _Parser,
    reread: bool,
) -> tuple[list[_Todo], list[int]]:
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
            todo.append(_Todo(path, sha, dataclasses.replace(row, whole=False), skip))
        elif row is None or row.sha != sha:
            todo.append(_Todo(path, sha, row, skip))
        elif row.removed:
            restored.append(row.id)
    gone = [row.id for path, row in known.items() if path not in tree and not row.removed]
    _restore(engine, restored, result)
    parser.add(todo, size=_chunk_size(len(todo), parser.workers))
    return todo, gone


def _diff_plan(
    engine: Engine,
    repo: ContentRepo,
    old: str,
    new: str,
    paths: PathFilter,
    result: ScanResult,
    parser: _Parser,
) -> tuple[list[_Todo], list[int]]:
    # closing(): a failed database call must not leave git waiting on a full pipe.
    with contextlib.closing(repo.iter_diff_tree(old, new)) as diff:
        return _plan_changes(engine, (c for c in diff if paths.matches(c.path)), result, parser)


def _plan_changes(
    engine: Engine, changes: Iterator[Change], result: ScanResult, parser: _Parser
) -> tuple[list[_Todo], list[int]]:
    """Look the changes up STREAM_BATCH at a time; hand what must be read to the parser."""
    todo: list[_Todo] = []
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
                found.append(_Todo(path, change.sha, row, skip))
            elif row.removed:
                restored.append(row.id)
        _restore(engine, restored, result)
        parser.add(found, size=STREAM_CHUNK)
        todo += found
    return todo, gone


def _known(conn: Connection, paths: Sequence[str] | None) -> dict[str, _Known]:
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
    return {r.path: _Known(r.id, r.blob_sha, r.removed_at is not None, bool(r.whole)) for r in rows}


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


def _apply(
    engine: Engine,
    parser: _Parser,
    todo: list[_Todo],
    gone: list[int],
    result: ScanResult,
    progress: Progress | None,
    finish: Callable[[Connection], None],
) -> list[int]:
    """Write what the parser returns; ``finish`` runs in the transaction of the last rows.

    Returns the ids of the candidates written without a date (see _age_from_git).
    """
    undated: list[int] = []
    if gone:
        with engine.begin() as conn:
            for i in range(0, len(gone), 500):
                conn.execute(
                    update(ARTICLE)
                    .where(ARTICLE.c.id.in_(gone[i : i + 500]))
                    .values(removed_at=utcnow())
                )
        result.deleted = len(gone)
    by_path = {t.path: t for t in todo}
    done, pending = 0, []
    if progress:
        progress(0, len(todo))
    for batch in parser.results():
        pending.extend(batch)
        done += len(batch)
        if len(pending) >= WRITE_BATCH or done == len(todo):
            # A transaction per few hundred rows: the main process writes while the workers
            # parse what follows, an interrupted scan keeps what it wrote (the rerun skips
            # blobs whose sha is recorded), and no transaction outgrows SQLite's page cache.
            with engine.begin() as conn:
                undated += _write(conn, pending, by_path, result)
                if done == len(todo):
                    finish(conn)
            pending = []
        if progress:
            progress(done, len(todo))
    if not todo:
        with engine.begin() as conn:
            finish(conn)
    return undated


def _write(
    conn: Connection, batch: list[ArticleData], by_path: dict[str, _Todo], result: ScanResult
) -> list[int]:
    """Insert and update a batch; return the ids of unpublished ones read without a date."""
    now = utcnow()
    inserts, updates = [], []
    for data in batch:
        known = by_path[data.path].known
        if known is None:
            row = {name: getattr(data, name) for name in FULL_COLUMNS}
            inserts.append({**row, "first_seen_at": now, "updated_at": now})
            result.new += 1
        else:
            updates.append((known, data))
            if known.removed:
                result.new += 1
            else:
                result.changed += 1
    ids: dict[str, int] = {}
    if inserts:
        # RETURNING names the path, so rows need not come back in order: SQLAlchemy can then
        # send the whole batch as a few multi-row INSERTs instead of one per row.
        stmt = insert(ARTICLE).returning(ARTICLE.c.id, ARTICLE.c.path)
        ids.update({r.path: r.id for r in conn.execute(stmt, inserts)})
    retopic = _update(conn, updates, now) if updates else set()
    for i in range(0, len(retopic), 500):
        conn.execute(delete(TOPIC).where(TOPIC.c.article_id.in_(sorted(retopic)[i : i + 500])))
    # A live article's topics were not read: it keeps the ones it had. So does an updated
    # one whose topics did not change.
    topics = []
    for data in batch:
        article_id = ids.get(data.path)
        if article_id is None and (known := by_path[data.path].known) and known.id in retopic:
            article_id = known.id
        if article_id is not None and data.columns is None:
            topics.extend(
                {"article_id": article_id, "key": t.casefold(), "topic": t} for t in data.topics
            )
    if topics:
        conn.execute(insert(TOPIC), topics)
    undated = []
    for data in batch:
        result.warnings += data.warning is not None
        read_date = data.columns is None or "dated" in data.columns
        if data.published is False and data.error is None and data.dated is None and read_date:
            known = by_path[data.path].known
            undated.append(ids[data.path] if known is None else known.id)
    return undated


def _update(conn: Connection, updates: list[tuple[_Known, ArticleData]], now: datetime) -> set[int]:
    """Set only the columns whose value changed; return the ids whose topics must be rewritten.

    An UPDATE rewrites the entry of every index on a column it sets, even to the same value,
    and each such entry is a page SQLite writes to its log. Most changed files change one or
    two columns (a refreshed score, a flipped flag), so this keeps a rescan's writes small.
    """
    current = _current(conn, [known.id for known, _ in updates])
    full_ids = [known.id for known, data in updates if data.columns is None]
    had_topics = _current_topics(conn, full_ids) if full_ids else {}
    groups: dict[tuple[str, ...], list[dict[str, object]]] = {}
    retopic: set[int] = set()
    for known, data in updates:
        row = current[known.id]
        columns = FULL_COLUMNS if data.columns is None else data.columns
        values: dict[str, object] = {
            name: value
            for name in columns
            if name != "path" and not _stored(row, name, value := getattr(data, name))
        }
        if known.removed:
            values["removed_at"] = None
            values["added_at"] = None  # added again: its age is that of the new add
        if data.columns is None and had_topics.get(known.id, frozenset()) != set(data.topics):
            retopic.add(known.id)
        values["updated_at"] = now
        # executemany by primary key; "b_id" because "id" would name the SET column.
        groups.setdefault(tuple(values), []).append({**values, "b_id": known.id})
    for names, rows in groups.items():
        stmt = update(ARTICLE).where(ARTICLE.c.id == bindparam("b_id"))
        conn.execute(stmt.values({name: bindparam(name) for name in names}), rows)
    return retopic


FULL_COLUMNS = tuple(
    f.name for f in dataclasses.fields(ArticleData) if f.name not in ("topics", "columns")
)
_COMPARED = [ARTICLE.c[name] for name in FULL_COLUMNS if name != "path"]


def _current(conn: Connection, ids: list[int]) -> dict[int, Row]:
    rows: dict[int, Row] = {}
    for i in range(0, len(ids), 500):  # stay under bound-parameter limits
        query = select(ARTICLE.c.id, *_COMPARED).where(ARTICLE.c.id.in_(ids[i : i + 500]))
        rows.update({row.id: row for row in conn.execute(query)})
    return rows


def _current_topics(conn: Connection, ids: list[int]) -> dict[int, frozenset[str]]:
    found: dict[int, set[str]] = {}
    for i in range(0, len(ids), 500):
        query = select(TOPIC.c.article_id, TOPIC.c.topic).where(
            TOPIC.c.article_id.in_(ids[i : i + 500])
        )
        for article_id, topic in conn.execute(query):
            found.setdefault(article_id, set()).add(topic)
    return {k: frozenset(v) for k, v in found.items()}


def _stored(row: Row, name: str, value: object) -> bool:
    """Whether the row already holds ``value`` in column ``name``."""
    old = getattr(row, name)
    return (as_utc(old) if isinstance(old, datetime) else old) == value


def _save_state(conn: Connection, branch: str, commit: str, reader: str) -> None:
    values = {"commit_sha": commit, "reader": reader, "scanned_at": utcnow()}
    updated = conn.execute(update(STATE).where(STATE.c.branch == branch).values(values))
    if updated.rowcount == 0:
        conn.execute(insert(STATE).values(branch=branch, **values))


# --- reading and parsing blobs, in worker processes when there are many -------------------


# (path, blob sha, the blob a whole read of it came from if a change can be read from there,
# why it is not read at all)
_Item = tuple[str, str, str | None, str | None]


def _base(todo: _Todo) -> str | None:
    known = todo.known
    whole = known is not None and known.whole and not known.removed and todo.skip is None
    return known.sha if whole else None


def _chunk_size(count: int, workers: int) -> int:
    # Several chunks per worker, so the workers share the work evenly and the first results
    # reach the database while the rest are still being parsed.
    return max(50, min(CHUNK, -(-count // (workers * 4))))


class _Parser:
    """Blobs to parse, handed over as they are found; results come back in that order.

    A few are parsed in this process, once all are known. Once there are enough to pay for
    starting them, worker processes take chunks as they fill, while the caller goes on
    finding more.
    """

    def __init__(self, git_dir: Path, fields: FieldMap, workers: int | None) -> None:
        self.git_dir, self.fields = git_dir, fields
        self.workers = workers or os.cpu_count() or 1
        # Chosen now, while the process has only the threads it came with.
        self._context = _pool_context()
        fork = self._context.get_start_method() == "fork"
        self._threshold = PARALLEL_MIN if fork else PARALLEL_MIN_FORKSERVER
        self._pool: ProcessPoolExecutor | None = None
        self._chunks: list[list[_Item]] = []  # not yet handed to a worker
        self._futures: collections.deque[Future[list[ArticleData]]] = collections.deque()
        self._count = 0

    def add(self, todo: Sequence[_Todo], *, size: int) -> None:
        items = [(t.path, t.sha, _base(t), t.skip) for t in todo]
        if self._chunks and len(self._chunks[-1]) < size:  # top up a chunk left short
            room = size - len(self._chunks[-1])
            self._chunks[-1].extend(items[:room])
            items = items[room:]
        self._chunks += [items[i : i + size] for i in range(0, len(items), size)]
        self._count += len(todo)
        if self._pool is None and self.workers > 1 and self._count >= self._threshold:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=self._context,
                initializer=_worker_init,
                initargs=(str(self.git_dir), self.fields, os.getpid()),
            )
        if self._pool is not None:
            # Full chunks go out now; a short last one may still grow.
            ready = len(self._chunks)
            if ready and len(self._chunks[-1]) < size:
                ready -= 1
            self._submit(ready)

    def _submit(self, count: int) -> None:
        assert self._pool is not None
        for chunk in self._chunks[:count]:
            self._futures.append(self._pool.submit(_worker_parse, chunk))
        del self._chunks[:count]

    def results(self) -> Iterator[list[ArticleData]]:
        """Parsed articles in chunks, in the order they were added."""
        if self._pool is None:
            with BlobReader(self.git_dir) as reader:
                for chunk in self._chunks:
                    yield _parse_chunk_with(reader, chunk, self.fields)
            return
        self._submit(len(self._chunks))
        while self._futures:  # let go of each result once it is handed over
            yield self._futures.popleft().result()

    def __enter__(self) -> _Parser:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)


def _pool_context() -> multiprocessing.context.BaseContext:
    """fork when this process has no other thread (the CLI): workers start in milliseconds.
    forkserver otherwise (the bot, with its scheduler and Slack threads): forking a process
    with threads can copy a lock some thread holds, and deadlock the child."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["storage.extract", "storage.gitrepo"])
    return context


_worker_state: dict[str, object] = {}


def _worker_init(git_dir: str, fields: FieldMap, parent: int) -> None:
    follow(parent)  # end with the scan, even when it is killed
    _worker_state["reader"] = BlobReader(Path(git_dir))
    _worker_state["fields"] = fields


def _worker_parse(chunk: list[_Item]) -> list[ArticleData]:
    reader = _worker_state["reader"]
    fields = _worker_state["fields"]
    assert isinstance(reader, BlobReader) and isinstance(fields, FieldMap)
    return _parse_chunk_with(reader, chunk, fields)


def _parse_chunk_with(
    reader: BlobReader, chunk: list[_Item], fields: FieldMap
) -> list[ArticleData]:
    bases = [base for _, _, base, _ in chunk if base is not None]
    blobs = iter(reader.read_many([sha for _, sha, _, skip in chunk if skip is None]))
    # A base the clone lost (its commit force-pushed away and pruned, a new clone kept with
    # the old database) only means reading that article whole.
    old = dict(zip(bases, reader.read_present(bases), strict=True))
    parsed = []
    for path, sha, base, skip in chunk:
        if skip is not None:
            parsed.append(ArticleData(path, sha, error=skip))
            continue
        data = next(blobs)
        before = None if base is None else old[base]
        read = None if before is None else extract_change(path, sha, data, before, fields)
        parsed.append(read or extract(path, sha, data, fields))
    return parsed
