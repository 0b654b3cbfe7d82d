"""``/healthz`` once the bot is up: the database or Slack going down is reported, not fatal."""

from __future__ import annotations

import json
import logging
import socket
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from slack_sdk.errors import SlackApiError
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.slack.client import make_client, single_try
from bot.slack.health import DatabaseHealth, Health, SlackHealth, State
from storage.db import make_engine
from tests.conftest import PG_URL, POSTGRES
from tests.slack_standin import SlackStandIn, not_slack


def eventually(check: Callable[[], object], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.02)


def closed_port() -> int:
    """A port nothing listens on: connections are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthz(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_database_that_refuses_is_503_and_says_so(engine):
    down = make_engine(f"postgresql://postgres@127.0.0.1:{closed_port()}/nothing")
    code, report = Health(DatabaseHealth(down), SlackHealth()).report()
    assert code == 503 and report["status"] == "down"
    assert report["database"] == {"state": "down", "reason": "refused"}
    code, report = Health(DatabaseHealth(engine), SlackHealth()).report()
    assert code == 200 and report["database"] == {"state": "ok"}


def _down_database(tmp_path: Path, case: str) -> tuple[str, str, str]:
    """(DATABASE_URL, the reason /healthz gives, what the log line says) for ``case``."""
    port = closed_port()
    (tmp_path / "a-file").write_text("not a directory")
    path = f"{tmp_path}/a-file/hidden-name.db"
    return {
        "refused": (
            f"postgresql://hidden_user@127.0.0.1:{port}/nothing", "refused",
            f"database at 127.0.0.1:{port} did not answer (Connection refused)",
        ),
        "no such database": (
            f"{PG_URL.rsplit('/', 1)[0]}/hidden_db_name", "rejected",
            'database "hidden_db_name" does not exist',
        ),
        "sqlite file": (
            f"sqlite:///{path}", "unavailable", f"cannot open the SQLite database {path}",
        ),
    }[case]  # fmt: skip


@pytest.mark.parametrize("case", ["refused", "no such database", "sqlite file"])
def test_healthz_says_why_the_database_is_down_but_not_where(tmp_path, caplog, case):
    """/healthz answers anyone: a word for why, never the driver's text (host, port, user,
    database name, file path). The log line keeps the whole story, in one line."""
    if case == "no such database" and not POSTGRES:
        pytest.skip("PostgreSQL is not running")
    url, reason, logged = _down_database(tmp_path, case)
    caplog.set_level(logging.INFO)
    code, report = Health(DatabaseHealth(make_engine(url)), SlackHealth()).report()
    assert code == 503 and report["database"] == {"state": "down", "reason": reason}
    (line,) = [r.getMessage() for r in caplog.records if r.name == "bot.slack.health"]
    assert line.startswith("database is down: ") and logged in line and "\n" not in line


def _probes() -> int:
    return sum(t.name == "database-probe" for t in threading.enumerate())


def _answer(check: Callable[[], State]) -> State:
    """``check()`` on a request's thread; the test fails, rather than hangs, if it hangs."""
    answers: list[State] = []
    request = threading.Thread(target=lambda: answers.append(check()), daemon=True)
    request.start()
    request.join(timeout=60)
    assert answers, "the request that ran the probe hung"
    return answers[0]


def test_a_silent_database_host_is_down_at_patience_and_the_probe_ends():
    """Issue 9, item 15: a server that accepts and never speaks. The request that starts the
    probe waits ``patience`` at most, the others answer at once, one probe runs at a time,
    and the probe gives up by itself (its own connect timeout), so none pile up."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    db = DatabaseHealth(
        make_engine(f"postgresql://postgres@127.0.0.1:{port}/hang"), ttl=60, patience=0.2
    )
    try:
        first = _answer(db.check)
        assert (first.state, first.reason) == ("down", "timeout")
        assert first.detail.startswith("no answer for")  # not the driver giving up, later
        for _ in range(20):  # the probe still waits on the socket: nobody else waits
            assert (db.check().state, db.check().reason) == ("down", "timeout")
        assert _probes() == 1
        eventually(lambda: _probes() == 0, timeout=30)
        after = db.check()  # the probe's own verdict, kept for ``ttl``
        assert (after.state, after.reason) == ("down", "timeout")
        assert "did not answer" in after.detail and _probes() == 0
    finally:
        listener.close()


class FrozenProxy:
    """A TCP proxy to PostgreSQL that, once frozen, forwards nothing more and accepts new
    connections without a word, every socket kept open: a proxy stopped with SIGSTOP."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.frozen = threading.Event()
        self.closed = threading.Event()
        self.sockets: list[socket.socket] = [self.listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.sockets.append(client)
            if self.frozen.is_set():
                continue
            upstream = socket.create_connection(self.target)
            self.sockets.append(upstream)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        while not self.closed.is_set():
            try:
                data = source.recv(1 << 16)
                if not data or self.frozen.is_set():
                    break
                sink.sendall(data)
            except OSError:
                break
        self.closed.wait()

    def close(self) -> None:
        self.closed.set()
        for s in self.sockets:
            s.close()


@pytest.mark.skipif(not POSTGRES, reason="PostgreSQL is not running")
def test_a_database_that_freezes_under_a_pooled_connection_is_down_at_patience():
    """The acceptance test's case: PostgreSQL behind a TCP proxy stopped with SIGSTOP. The
    pool's connection (pinged on checkout) waited on it for ever, and so did /healthz."""
    pg = make_url(PG_URL)
    proxy = FrozenProxy(pg.host or "127.0.0.1", pg.port or 5432)
    engine = make_engine(f"postgresql://{pg.username}@127.0.0.1:{proxy.port}/{pg.database}")
    try:
        with engine.connect() as conn:  # the bot's pool holds a connection, as in `serve`
            conn.execute(text("SELECT 1"))
        db = DatabaseHealth(engine, ttl=0, patience=0.5)
        assert _answer(db.check).ok
        proxy.frozen.set()
        hung = _answer(db.check)
        assert (hung.state, hung.reason) == ("down", "timeout")
        eventually(lambda: _probes() == 0, timeout=30)  # the probe gave up by itself
    finally:
        proxy.close()
        engine.dispose()


def test_the_probe_statement_has_a_timeout(db_url: str):
    """PostgreSQL ends a probe statement that runs past the probe's time (a database that
    takes the connection and then sits on the statement); SQLite gives up on a lock."""
    from storage.db import prober

    engine = make_engine(db_url)
    if engine.dialect.name == "sqlite":
        holder = sqlite3.connect(engine.url.database or "", isolation_level=None)
        holder.execute("CREATE TABLE t (x)")
        holder.execute("BEGIN EXCLUSIVE")  # a writer that does not let go
        try:
            with pytest.raises(OperationalError, match="locked"):
                prober(engine, 0.3, "SELECT count(*) FROM t")()
        finally:
            holder.close()
        return
    with pytest.raises(OperationalError, match="statement timeout"):
        prober(engine, 0.3, "SELECT pg_sleep(30)")()
    prober(engine, 0.3)()  # and a quick one passes


def test_slack_going_down_and_coming_back_is_reported_not_fatal():
    standin = SlackStandIn().start()
    port = int(standin.url.split(":")[2].split("/")[0])
    slack = SlackHealth()
    client = make_client("xoxb-test-not-real", standin.url, health=slack)
    health = Health(DatabaseHealth(make_engine("sqlite://")), slack, single_try(client).auth_test)
    assert slack.check().state == "unknown"
    client.auth_test()
    assert health.report() == (200, {
        "status": "ok", "database": {"state": "ok"}, "slack": {"state": "ok", "seconds_ago": 0},
    })  # fmt: skip

    standin.stop()
    with pytest.raises(OSError):  # a listener's call while Slack is away
        single_try(client).chat_postMessage(channel="C1", text="hello")
    code, report = health.report()
    assert code == 200 and report["status"] == "degraded"
    assert report["slack"] == {"state": "down", "reason": "refused", "seconds_ago": 0}
    assert slack.check().detail == "unreachable (Connection refused)"  # for the log

    # Back on the same address; nothing calls Slack, but a stale "down" is asked again.
    again = SlackStandIn(port=port).start()
    try:
        slack.recheck_if_stale(single_try(client).auth_test, after=0)
        eventually(lambda: slack.check().state == "ok")
        assert [c.method for c in again.calls] == ["auth.test"]
    finally:
        again.stop()


def test_a_revoked_token_is_slack_down(standin):
    slack = SlackHealth()
    client = make_client("xoxb-revoked-not-real", standin.url, health=slack)
    standin.fail("auth.test", status=200, retry_after=None, error="token_revoked")
    with pytest.raises(SlackApiError):
        client.auth_test()
    state = slack.check()
    assert (state.state, state.reason) == ("down", "token_revoked")
    assert state.detail == "Slack refused the bot token (token_revoked)"
    standin.fail("chat.postMessage", status=429, retry_after=None, times=1)
    with pytest.raises(SlackApiError):
        single_try(client).chat_postMessage(channel="C1", text="x")
    state = slack.check()
    assert (state.state, state.reason) == ("ok", "rate limited")  # Slack is up, just busy


@pytest.mark.parametrize(("status", "reason"), [(404, "HTTP 404"), (200, "not Slack")])
def test_a_server_that_is_not_slack_is_slack_down(status, reason):
    """An HTML page answered with 200 was taken for Slack being up."""
    slack = SlackHealth()
    with not_slack(status) as page:
        client = make_client("xoxb-test-not-real", page.url, health=slack)
        with pytest.raises(SlackApiError):
            client.auth_test()
    state = slack.check()
    assert (state.state, state.reason) == ("down", reason)
    assert state.detail.startswith(f"{page.url} does not answer like Slack's Web API (auth.test")
    assert "check SLACK_API_URL" in state.detail


def test_the_scheduler_outlives_a_database_that_stops_answering(caplog):
    """The lease heartbeat meets a database that refuses: one line, no traceback, and the
    scheduler keeps beating (before, the first beat took `serve` and `run` down)."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from bot.clock.scheduler import start_scheduler
    from bot.clock.slot_runner import SlotRunner

    caplog.set_level(logging.INFO)
    down = make_engine(f"postgresql://postgres@127.0.0.1:{closed_port()}/nothing")
    slot_runner = SlotRunner(down, [], ZoneInfo("UTC"), lease_ttl=timedelta(seconds=3))
    scheduler = start_scheduler(slot_runner)
    try:
        time.sleep(1.3)  # a second beat, a second after the first
    finally:
        scheduler.shutdown(wait=True)
    paused = [r for r in caplog.records if "scheduler paused" in r.getMessage()]
    assert len(paused) == 1 and "Connection refused" in paused[0].getMessage()
    assert "trying again every 1 s" in paused[0].getMessage()
    assert not any(r.exc_info for r in caplog.records if r.levelno >= logging.INFO)
