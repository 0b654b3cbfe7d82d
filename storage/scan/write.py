"""Writing what the parser read: only new rows, and only the columns whose value changed."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import Connection, Row, bindparam, delete, select, update
from sqlalchemy.engine import Engine

from storage.extract import ArticleData
from storage.models import Article, ArticleTopic, as_utc, utcnow
from storage.scan.bulk import bulk_insert
from storage.scan.parser import Parser, chunk_size
from storage.scan.plan import Part
from storage.scan.records import Known, Progress, ScanResult, Todo

WRITE_BATCH = 250

ARTICLE = Article.__table__
TOPIC = ArticleTopic.__table__


def apply_changes(
    engine: Engine,
    parser: Parser,
    parts: Iterable[Part],
    result: ScanResult,
    progress: Progress | None,
    finish: Callable[[Connection], None],
) -> list[int]:
    """Hand each part of the plan to the parser and write what it returns as it comes;
    ``finish`` runs in the transaction of the last rows.

    Only the blobs handed over and not yet written are held (see Parser.results), so a
    full scan of a million articles holds about as much as one of ten thousand.
    Returns the ids of the candidates written without a date (see age_from_git).
    """
    undated: list[int] = []
    waiting: dict[str, Todo] = {}  # handed to the parser, not yet written
    pending: list[ArticleData] = []
    found = done = 0

    def take(final: bool) -> None:
        nonlocal done, pending
        for batch in parser.results(final=final):
            pending.extend(batch)
            done += len(batch)
            # A transaction per few hundred rows: the main process writes while the workers
            # parse what follows, an interrupted scan keeps what it wrote (the rerun skips
            # blobs whose sha is recorded), and no transaction outgrows SQLite's page cache.
            # The last rows wait for ``finish``.
            if len(pending) >= WRITE_BATCH and not (final and done == found):
                with engine.begin() as conn:
                    undated.extend(_write(conn, pending, waiting, result))
                pending = []
            if progress:
                progress(done, found)

    if progress:
        progress(0, 0)
    for part in parts:
        if part.gone:
            with engine.begin() as conn:
                for i in range(0, len(part.gone), 500):
                    conn.execute(
                        update(ARTICLE)
                        .where(ARTICLE.c.id.in_(part.gone[i : i + 500]))
                        .values(removed_at=utcnow())
                    )
            result.deleted += len(part.gone)
        waiting.update((t.path, t) for t in part.todo)
        found += len(part.todo)
        parser.add(part.todo, size=part.chunk or chunk_size(len(part.todo), parser.workers))
        take(final=False)
    take(final=True)
    with engine.begin() as conn:
        if pending:
            undated.extend(_write(conn, pending, waiting, result))
        finish(conn)
    return undated


def _write(
    conn: Connection, batch: list[ArticleData], waiting: dict[str, Todo], result: ScanResult
) -> list[int]:
    """Insert and update a batch (its paths leave ``waiting``); return the ids of unpublished
    ones read without a date."""
    by_path = {data.path: waiting.pop(data.path) for data in batch}
    now = utcnow()
    inserts, updates = [], []
    need_ids = []  # new rows whose id is needed: for their topics, or to be aged by git
    for data in batch:
        known = by_path[data.path].known
        if known is None:
            inserts.append((*_read_columns(data), now, now))
            if (data.topics and data.columns is None) or _undated(data):
                need_ids.append(data.path)
            result.new += 1
        else:
            updates.append((known, data))
            if known.removed:
                result.new += 1
            else:
                result.changed += 1
    ids: dict[str, int] = {}
    if inserts:
        # Plain rows to the driver's executemany, then their ids by path (unique): building a
        # statement's parameters row by row cost more than SQLite's own work on them.
        bulk_insert(conn, ARTICLE, INSERTED, inserts)
        # A live article's id is never needed here (its topics are not read, it is not aged):
        # most new rows are live, so only the few candidates' ids are looked up.
        for i in range(0, len(need_ids), 500):  # stay under bound-parameter limits
            found = conn.execute(_IDS_AT, {"paths": need_ids[i : i + 500]}).all()
            ids.update({path: article_id for path, article_id in found})
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
            topics.extend((article_id, t.casefold(), t) for t in data.topics)
    if topics:
        bulk_insert(conn, TOPIC, ("article_id", "key", "topic"), topics)
    undated = []
    for data in batch:
        result.warnings += data.warning is not None
        if _undated(data):
            known = by_path[data.path].known
            undated.append(ids[data.path] if known is None else known.id)
    return undated


def _undated(data: ArticleData) -> bool:
    """An unpublished article read without a date (when its date was read at all)."""
    read_date = data.columns is None or "dated" in data.columns
    return data.published is False and data.error is None and data.dated is None and read_date


def _update(conn: Connection, updates: list[tuple[Known, ArticleData]], now: datetime) -> set[int]:
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


FULL_COLUMNS = tuple(name for name in ArticleData._fields if name not in ("topics", "columns"))
_COMPARED = [ARTICLE.c[name] for name in FULL_COLUMNS if name != "path"]
# A new row: every column read (path first), then when it was first seen and updated.
INSERTED = (*FULL_COLUMNS, "first_seen_at", "updated_at")
_read_columns = operator.attrgetter(*FULL_COLUMNS)
# One statement whatever the paths (an expanding parameter), so none is built per batch.
_IDS_AT = select(ARTICLE.c.path, ARTICLE.c.id).where(
    ARTICLE.c.path.in_(bindparam("paths", expanding=True))
)


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
