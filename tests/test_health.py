"""``/healthz`` once the bot is up: the database or Slack going down is reported, not fatal."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from slack_sdk.errors import SlackApiError

from bot.health import DatabaseHealth, Health, SlackHealth
from bot.slack_client import make_client, single_try
from storage.db import make_engine
from tests.conftest import PG_URL, POSTGRES
from tests.helpers import NotSlack
from tests.slack_standin import SlackStandIn


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
    (line,) = [r.getMessage() for r in caplog.records if r.name == "bot.health"]
    assert line.startswith("database is down: ") and logged in line and "\n" not in line


def test_a_database_that_hangs_ties_up_one_thread_at_most():
    """A server that accepts and never answers: one probe waits on it, every other probe
    answers at once, and after ``patience`` the answer is "down"."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    db = DatabaseHealth(
        make_engine(f"postgresql://postgres@127.0.0.1:{port}/hang"), ttl=0, patience=0.2
    )
    stuck = threading.Thread(target=db.check, daemon=True)
    stuck.start()
    time.sleep(0.3)  # the first probe is connecting, for longer than patience
    answers: list = []
    other = threading.Thread(target=lambda: answers.append(db.check()), daemon=True)
    other.start()
    other.join(timeout=5)  # it answers while the first probe still hangs
    assert answers and (answers[0].state, answers[0].reason) == ("down", "timeout")
    assert answers[0].detail.startswith("no answer for") and stuck.is_alive()
    listener.close()  # the hung probe now fails, and the next probe runs again
    stuck.join(timeout=10)
    assert db.check().state == "down" and "did not answer" in db.check().detail


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
    with NotSlack(status) as page:
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

    from bot.clockwork import Clockwork
    from bot.scheduler import start_scheduler

    caplog.set_level(logging.INFO)
    down = make_engine(f"postgresql://postgres@127.0.0.1:{closed_port()}/nothing")
    clockwork = Clockwork(down, [], ZoneInfo("UTC"), lease_ttl=timedelta(seconds=3))
    scheduler = start_scheduler(clockwork)
    try:
        time.sleep(1.3)  # a second beat, a second after the first
    finally:
        scheduler.shutdown(wait=True)
    paused = [r for r in caplog.records if "scheduler paused" in r.getMessage()]
    assert len(paused) == 1 and "Connection refused" in paused[0].getMessage()
    assert "trying again every 1 s" in paused[0].getMessage()
    assert not any(r.exc_info for r in caplog.records if r.levelno >= logging.INFO)
