"""Bring the database in line with the committed tree of the content branch.

Cost follows what changed, not the size of the repo: the last scanned commit is remembered
and ``git diff-tree`` names the changed blobs; a full ``ls-tree`` listing is the fallback
and the self-check. Only blobs whose sha the database has not seen at that path are read
(with, for a candidate, the blob it was last read from: see extract_change), through
``git cat-file --batch``, and parsed on every core when there are many. An update sets only
the columns whose value changed. Symlinks, submodules and file names the terminal could not
show safely are recorded as skipped, with the reason (storage.skipped); an unpublished
article without a usable date is aged by the commit that added it (one ``git log``).

:func:`scan` runs the parts in turn: ``plan`` finds the blobs to read, ``parser`` reads
them, ``write`` stores the rows (new ones through ``bulk``), ``age`` dates the undated;
``records`` holds what they pass along.
"""

from __future__ import annotations

import contextlib
import functools

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.engine import Engine

from storage.extract import reader_id
from storage.fields import FieldMap
from storage.gitrepo import ContentRepo
from storage.locks import run_lock
from storage.models import Article, ScanState, utcnow
from storage.pathfilter import PathFilter
from storage.scan.age import age_from_git
from storage.scan.collect import rarely
from storage.scan.parser import Parser
from storage.scan.plan import diff_plan, full_plan
from storage.scan.records import Progress, ScanResult
from storage.scan.write import apply_changes

#: How long a scan waits for another one to finish (scans are quick) before it says so.
SCAN_WAIT = 120.0

ARTICLE = Article.__table__
STATE = ScanState.__table__


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
    if diff:
        assert last is not None
        parts = diff_plan(engine, repo, last, commit, paths, result)
    else:
        parts = full_plan(engine, repo, commit, paths, result, reread)
    # Blobs go to the parser part by part as git names them, so the workers start on the
    # first ones while git is still listing, and what the scan holds is a few parts, never
    # the whole tree. closing(): git must not wait on a full pipe after a failure.
    # Nothing a scan allocates needs the cycle collector often (see storage.scan.collect).
    with (
        rarely(),
        Parser(repo.git_dir, fields, workers) as parser,
        contextlib.closing(parts),
    ):
        undated = apply_changes(engine, parser, parts, result, progress, finish)
    # A full scan (the self-check) looks at every article still undated, so one that git
    # could not be asked about before gets its age; a diff scan only at what it wrote.
    age_from_git(engine, repo, commit, None if mode == "full" else undated)
    return result


def _finish(conn: Connection, *, branch: str, reader: str, result: ScanResult) -> None:
    """Record the commit as scanned, and count, in the transaction of the last rows."""
    _save_state(conn, branch, result.commit, reader)
    # One pass over a narrow index for both counts.
    result.scanned, result.errors = conn.execute(
        select(func.count(), func.count(ARTICLE.c.error)).where(ARTICLE.c.removed_at.is_(None))
    ).one()
    result.unchanged = result.scanned - result.new - result.changed


def _save_state(conn: Connection, branch: str, commit: str, reader: str) -> None:
    values = {"commit_sha": commit, "reader": reader, "scanned_at": utcnow()}
    updated = conn.execute(update(STATE).where(STATE.c.branch == branch).values(values))
    if updated.rowcount == 0:
        conn.execute(insert(STATE).values(branch=branch, **values))
