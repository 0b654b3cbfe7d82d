"""Named run locks, one per database: one publish (or one scan) at a time, across processes
and replicas, and never a stale lock when the holder dies, even by ``kill -9``. Where the
lock lives depends on the backend:

- PostgreSQL: in the database server, a session-level advisory lock on a connection of its
  own, held for the run. The key comes from the schema and the name, so installations that
  share a server (or tests, each in its schema) do not block each other. When the holder
  dies its connection closes and the server lets the lock go.
- SQLite: not in the database at all, but ``flock`` on a file beside the database file
  (``curator.db.publish.lock``), so only processes on the same machine see it, as only
  they can share a SQLite file safely. The kernel drops it with the process; the file stays.
- SQLite in memory: a lock in this process, the only one that can open that database.

Who holds a lock, and since when, is told as far as it can be seen: the application name
of the holder's lock connection on PostgreSQL, the lock file's one line on SQLite.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import socket
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

_POLL = 0.1  # seconds between tries while waiting for a lock


class Busy(RuntimeError):
    """Another process holds the lock ``name``; ``holder`` (host:pid) and ``since`` when known."""

    def __init__(self, name: str, holder: str | None = None, since: datetime | None = None):
        self.name, self.holder, self.since = name, holder, since
        detail = []
        if since is not None:
            detail.append(f"since {since.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC")
        if holder:
            detail.append(f"by {holder}")
        super().__init__(
            f"another {name} is running" + (f" ({', '.join(detail)})" if detail else "")
        )


@contextmanager
def run_lock(engine: Engine, name: str, *, wait: float = 0.0) -> Iterator[None]:
    """Hold the lock ``name`` of this database for the ``with`` block.

    Waits up to ``wait`` seconds for another holder to finish, then raises Busy.
    """
    if engine.dialect.name == "postgresql":
        lock = _pg_lock(engine, name, wait)
    elif (path := _sqlite_file(engine)) is not None:
        lock = _file_lock(Path(f"{path}.{name}.lock"), name, wait)
    else:
        lock = _local_lock(engine, name, wait)
    with lock:
        yield


def _me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _deadline_passed(deadline: float) -> bool:
    if time.monotonic() >= deadline:
        return True
    time.sleep(_POLL)
    return False


# --- PostgreSQL ---------------------------------------------------------------------------


def _pg_key(schema: str, name: str) -> int:
    """A signed 64-bit advisory lock key for (schema, name)."""
    digest = hashlib.sha256(f"newsroom-curator\0{schema}\0{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def _pg_lock(engine: Engine, name: str, wait: float) -> Iterator[None]:
    # A connection made as the engine makes them (its connect timeout and every other
    # connect argument), then detached from the pool: the lock lives and dies with it, and
    # no other work ever runs in that session. Autocommit: a session left "idle in
    # transaction" could be ended by the server, and the lock with it.
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.detach()
        key = _pg_key(conn.execute(text("select current_schema()")).scalar_one(), name)
        deadline = time.monotonic() + wait
        take = text("select pg_try_advisory_lock(:key)")
        while not conn.execute(take, {"key": key}).scalar_one():
            if _deadline_passed(deadline):
                raise Busy(name, *_pg_holder(conn, key, name))
        label = f"curator {name} {int(time.time())} {_me()}"[:63]  # NAMEDATALEN
        conn.execute(text("select set_config('application_name', :v, false)"), {"v": label})
        try:
            yield
        finally:
            # Closing the connection lets the lock go too; unlocking first is just tidy.
            with contextlib.suppress(Exception):
                conn.execute(text("select pg_advisory_unlock(:key)"), {"key": key})


def _pg_holder(conn: Connection, key: int, name: str) -> tuple[str | None, datetime | None]:
    """(host:pid, since) of the session holding advisory lock ``key``, as far as visible."""
    unsigned = key % (1 << 64)
    row = conn.execute(
        text(
            "select a.application_name from pg_locks l join pg_stat_activity a on a.pid = l.pid"
            " where l.locktype = 'advisory' and l.granted and l.objsubid = 1"
            " and l.classid = cast(:hi as oid) and l.objid = cast(:lo as oid)"
            " and l.database = (select oid from pg_database where datname = current_database())"
        ),
        {"hi": unsigned >> 32, "lo": unsigned & 0xFFFFFFFF},
    ).first()
    return _parse_label(row[0] if row else None, name)


def _parse_label(label: str | None, name: str) -> tuple[str | None, datetime | None]:
    """Read back "curator NAME EPOCH HOLDER" (PostgreSQL) or "EPOCH HOLDER" (the file)."""
    parts = (label or "").split()
    if parts[:2] == ["curator", name]:
        parts = parts[2:]
    if len(parts) != 2 or not parts[0].isdigit():
        return None, None
    return parts[1], datetime.fromtimestamp(int(parts[0]), UTC)


# --- SQLite ---------------------------------------------------------------------------------


def _sqlite_file(engine: Engine) -> str | None:
    """The database file of a SQLite engine; None when the database is in memory."""
    database = engine.url.database or ""
    if database.startswith("file:"):  # a URI filename
        database, _, query = database[len("file:") :].partition("?")
        if "mode=memory" in query:
            return None
    if database in ("", ":memory:") or engine.url.query.get("mode") == "memory":
        return None
    return database


@contextmanager
def _file_lock(path: Path, name: str, wait: float) -> Iterator[None]:
    # The file is never removed: a process that opened it before the removal would lock a
    # file nobody else can find any more.
    with open(path, "a+", encoding="utf-8") as file:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if _deadline_passed(deadline):
                    file.seek(0)
                    raise Busy(name, *_parse_label(file.read(200), name)) from None
        file.seek(0)
        file.truncate()
        file.write(f"{int(time.time())} {_me()}\n")
        file.flush()
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


# An in-memory database lives in one process, so a lock in this process is enough.
_LOCAL: weakref.WeakKeyDictionary[Engine, dict[str, tuple[threading.Lock, list[str]]]] = (
    weakref.WeakKeyDictionary()
)
_LOCAL_GUARD = threading.Lock()


@contextmanager
def _local_lock(engine: Engine, name: str, wait: float) -> Iterator[None]:
    with _LOCAL_GUARD:
        lock, label = _LOCAL.setdefault(engine, {}).setdefault(name, (threading.Lock(), [""]))
    acquired = lock.acquire(timeout=wait) if wait > 0 else lock.acquire(blocking=False)
    if not acquired:
        raise Busy(name, *_parse_label(label[0], name))
    label[0] = f"{int(time.time())} {_me()}:{threading.get_ident()}"
    try:
        yield
    finally:
        lock.release()
