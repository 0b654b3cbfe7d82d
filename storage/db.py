"""The database engine, and the transactions bot/ passes on: SQLite (WAL) by default,
PostgreSQL by URL."""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import NullPool
from sqlmodel import create_engine

from storage.credentials import scrub

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PgInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert

SUPPORTED = "sqlite:///path/to/curator.db or postgresql://user@host:5432/dbname"
# The drivers each backend is run with; anything else would import a module we never test.
_DRIVERS = {"sqlite": ("", "pysqlite"), "postgresql": ("psycopg",)}
_CONNECT_TIMEOUT = 10  # seconds: a database that does not answer says so, it does not hang
_SQLITE_TIMEOUT = 30  # seconds a SQLite writer waits for the lock before "database is locked"


class DatabaseURLError(ValueError):
    """A database URL this bot cannot use. ``problem`` says what and how to fix it, without
    the URL; ``str()`` adds the URL with its password hidden."""

    def __init__(self, shown: str, problem: str) -> None:
        self.problem = problem
        super().__init__(f"database URL {shown}: {problem}")


def normalize_url(url: str) -> str:
    """Let operators write the usual ``postgres://`` / ``postgresql://`` and get psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def open_kept(url: str) -> Engine:
    """The engine for a command's database, refusing one that keeps nothing: each command is
    its own process, so a scan into an in-memory SQLite is gone when the command ends."""
    parsed = check_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise DatabaseURLError(
            scrub(url.strip()),
            "a SQLite database in memory keeps nothing once the command ends; "
            "give it a file, e.g. sqlite:///curator.db",
        )
    return make_engine(url)


def check_url(url: str) -> URL:
    """Parse ``url`` and check, before any driver is imported, that this bot can use it.

    Raises :class:`DatabaseURLError` naming the supported schemes, or the extra to install
    when the PostgreSQL driver is missing.
    """
    try:
        parsed = make_url(normalize_url(url.strip()))
    except ArgumentError:
        scheme = url.split("://", 1)[0] if "://" in url else ""
        shown = f"{scheme}://..." if scheme.isidentifier() else "(not shown)"
        raise DatabaseURLError(shown, f"not a database URL; use {SUPPORTED}") from None
    shown = scrub(url.strip())  # as the operator wrote it
    backend, _, driver = parsed.drivername.partition("+")
    if backend not in _DRIVERS:
        raise DatabaseURLError(shown, f"{backend}:// is not supported; use {SUPPORTED}")
    if driver not in _DRIVERS[backend]:
        plain = "postgresql" if backend == "postgresql" else "sqlite"
        raise DatabaseURLError(
            shown, f"the {driver} driver is not supported; write {plain}:// without '+{driver}'"
        )
    if backend == "postgresql":
        try:
            import psycopg  # noqa: F401  (the driver SQLAlchemy would import)
        except ImportError as exc:
            raise DatabaseURLError(
                shown,
                f"PostgreSQL needs the psycopg driver ({exc}): "
                "pip install 'newsroom-curator[postgres]'",
            ) from None
    return parsed


def make_engine(url: str) -> Engine:
    """Build an engine; SQLite gets WAL, foreign keys and a busy timeout on every connection.

    Raises :class:`DatabaseURLError` for a URL this bot cannot use (see :func:`check_url`).
    """
    parsed = check_url(url)
    url = normalize_url(url.strip())
    if parsed.get_backend_name() != "sqlite":
        connect_args = {}
        if "connect_timeout" not in parsed.query:
            connect_args["connect_timeout"] = _CONNECT_TIMEOUT
        return create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": _SQLITE_TIMEOUT}
    )

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        # WAL lets the Slack listeners read while a scan or publish writes.
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    return engine


def prober(engine: Engine, seconds: float, statement: str = "SELECT 1") -> Callable[[], None]:
    """A health probe of ``engine``'s database that cannot hang for long: ``statement`` on
    a fresh connection (a pooled one may sit on a socket whose server stopped answering, and
    wait on it for ever) that gives up connecting after about ``seconds`` (libpq counts
    whole seconds, two at least). PostgreSQL also ends the statement after ``seconds``: set
    with SET LOCAL, as PgBouncer refuses the same setting given at connect (``options``).
    SQLite waits ``seconds`` for a lock. Raises what the driver raises."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        args: dict[str, Any] = {"check_same_thread": False, "timeout": seconds}
    else:
        args = {"connect_timeout": max(2, math.ceil(seconds))}
        url = url.difference_update_query(["connect_timeout"])
    fresh = create_engine(url, poolclass=NullPool, connect_args=args)
    limit = f"SET LOCAL statement_timeout = {max(1, round(seconds * 1000))}"

    def probe() -> None:
        with fresh.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(limit)
            conn.exec_driver_sql(statement)

    return probe


def dialect_insert(conn: Connection, table: Table) -> PgInsert | SqliteInsert:
    """An INSERT with ``on_conflict_do_*`` for the connection's database (both have it)."""
    # Imported on first use: a SQLite deployment never loads PostgreSQL's dialect, nor the
    # modules of its four drivers that come with it.
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def redacted(url: str) -> str:
    """The URL with its password hidden, safe for logs and error messages: by the scrubber
    the logs use, so a '?password=' (libpq reads it too) or a token anywhere is hidden, and
    the user name stays ('curator:***@')."""
    return scrub(normalize_url(url.strip()))


#: One transaction, as bot/ holds it to pass on to several storage functions: bot/ never
#: runs a statement on it.
Transaction = Connection


@contextmanager
def transaction(engine: Engine) -> Iterator[Transaction]:
    """One transaction, committed when the block ends, rolled back on an error."""
    with _one_writer(engine), engine.begin() as conn:
        yield conn


# SQLite has one writer at a time, and a writer that finds the database locked sleeps in
# SQLite's busy handler (1, 2, 5, 10 ms and on) however soon the lock is free: two listener
# threads voting at once spent more time asleep there than voting (bench/events.py). The
# threads of one process queue on a lock here instead, woken as soon as it is let go. Every
# transaction() writes; other processes still wait in SQLite's busy handler.
_WRITERS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_WRITERS_GUARD = threading.Lock()


@contextmanager
def _one_writer(engine: Engine) -> Iterator[None]:
    if engine.dialect.name != "sqlite":
        yield  # PostgreSQL locks rows, and wakes a waiter itself
        return
    with _WRITERS_GUARD:
        lock = _WRITERS.setdefault(engine, threading.RLock())
    # Not for longer than SQLite itself would wait: past it, SQLite's own lock decides.
    held = lock.acquire(timeout=_SQLITE_TIMEOUT)
    try:
        yield
    finally:
        if held:
            lock.release()


@contextmanager
def reading(engine: Engine) -> Iterator[Transaction]:
    """A connection for reads only: nothing done on it is committed."""
    with engine.connect() as conn:
        yield conn
