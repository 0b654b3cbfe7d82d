"""Run locks in the database: one holder at a time, and none left behind by kill -9."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from storage.db import make_engine
from storage.locks import Busy, run_lock
from tests.conftest import REPO_ROOT


def test_one_holder_at_a_time_and_who_holds_it(engine: Engine, db_url: str):
    other = make_engine(db_url)  # another engine: as another process would have
    try:
        with run_lock(engine, "publish"):
            started = datetime.now(UTC)
            with pytest.raises(Busy) as busy, run_lock(other, "publish"):
                pass
            with run_lock(other, "scan"):  # another name is another lock
                pass
        err = busy.value
        assert err.name == "publish" and err.holder and err.holder.endswith(f":{os.getpid()}")
        assert err.since is not None and abs(err.since - started) < timedelta(seconds=5)
        assert str(err).startswith("another publish is running (since ")
        with run_lock(other, "publish"):  # released at the end of the block
            pass
    finally:
        other.dispose()


def test_a_waiter_gets_the_lock_when_the_holder_is_done(engine: Engine, db_url: str):
    other = make_engine(db_url)
    held, done = threading.Event(), threading.Event()

    def holder() -> None:
        with run_lock(other, "scan"):
            held.set()
            done.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(10)
        threading.Timer(0.3, done.set).start()
        with run_lock(engine, "scan", wait=20):
            assert done.is_set()
    finally:
        done.set()
        thread.join()
        other.dispose()


def test_no_stale_lock_after_kill_9(engine: Engine, db_url: str):
    proc = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "tests" / "lock_holder.py"), db_url, "publish"],
        stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "held\n"
        with pytest.raises(Busy, match=f"by .*:{proc.pid}\\)"), run_lock(engine, "publish"):
            pass
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # The kernel (SQLite) or the server (PostgreSQL, once it sees the connection close)
        # lets the lock go; the bound is only there so a bug cannot hang the suite.
        with run_lock(engine, "publish", wait=30):
            pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_in_memory_sqlite_locks_within_the_process():
    engine = make_engine("sqlite://")
    with run_lock(engine, "publish"):
        with pytest.raises(Busy), run_lock(engine, "publish"):
            pass
        with run_lock(make_engine("sqlite://"), "publish"):  # another database altogether
            pass
    with run_lock(engine, "publish", wait=1):
        pass


def test_busy_says_what_it_knows():
    assert str(Busy("scan")) == "another scan is running"
    since = datetime(2026, 11, 26, 15, 30, 2, tzinfo=UTC)
    assert str(Busy("publish", "host:42", since)) == (
        "another publish is running (since 2026-11-26 15:30:02 UTC, by host:42)"
    )


def test_taking_the_lock_from_a_database_that_hangs_gives_up_with_the_engines_timeout():
    """A server that accepts and never speaks. The lock's connection is made as the engine
    makes its own, with the engine's connect timeout (storage.db gives every engine one);
    before, it had none and waited on psycopg's default (over two minutes)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    # psycopg's shortest timeout is 2 s; make_engine's 10 s would only make the test slower.
    engine = create_engine(
        f"postgresql+psycopg://curator@127.0.0.1:{port}/hang", connect_args={"connect_timeout": 2}
    )
    outcome: list[BaseException | None] = []

    def take() -> None:
        try:
            with run_lock(engine, "publish"):
                outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    taker = threading.Thread(target=take, daemon=True)
    taker.start()
    try:
        taker.join(timeout=30)  # only a bound, so a regression fails instead of hanging
        assert not taker.is_alive(), "still waiting for a server that never answers"
        (error,) = outcome
        assert isinstance(error, OperationalError) and "timeout" in str(error).lower()
    finally:
        listener.close()  # a probe still waiting gets its connection closed, and ends
        taker.join(timeout=10)
        engine.dispose()
