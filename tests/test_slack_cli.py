"""The Slack-facing commands: run, serve, post, reconcile, doctor — as an operator uses them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.main import cli
from tests.conftest import REPO_ROOT
from tests.helpers import Newsroom, article
from tests.slack_requests import SIGNING_SECRET, reaction_event, send_event
from tests.slack_standin import SlackStandIn, not_slack


@pytest.fixture
def standin():
    """Slack, where the config's editors are users (doctor looks them up)."""
    with SlackStandIn(users={"UALICE": "Alice", "UBOB": "Bob"}) as s:
        yield s


@pytest.fixture
def setup(tmp_path: Path, db_url: str, newsroom: Newsroom, standin: SlackStandIn, monkeypatch):
    """A config, a scanned content repo with two candidates, and Slack secrets in the env."""
    (tmp_path / "curator.yml").write_text(
        f"content:\n  remote: {newsroom.remote}\n"
        'slack:\n  channel: "#curation"\n  editors: [UALICE, UBOB]\n'
        "candidates:\n  max_age_days: 100000\n"
    )
    newsroom.write("a.md", article("Alpha", quality=90))
    newsroom.write("b.md", article("Beta", quality=80))
    newsroom.commit()
    env = {
        "DATABASE_URL": db_url,
        "SLACK_API_URL": standin.url,
        "SLACK_BOT_TOKEN": "xoxb-test-not-real",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "CURATOR_CONFIG": str(tmp_path / "curator.yml"),
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    invoke("db", "upgrade")
    invoke("scan")
    return env


def invoke(*args: str, code: int = 0):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == code, result.output
    return result


def test_run_without_tokens_says_what_to_set(monkeypatch, tmp_path: Path):
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    out = invoke("-c", str(tmp_path / "x.yml"), "run", code=1).output
    assert "SLACK_BOT_TOKEN, SLACK_APP_TOKEN" in out
    assert "`curator manifest`" in out
    assert "Traceback" not in out


def test_post_dry_run_prints_block_kit_and_sends_nothing(setup, standin):
    cards = json.loads(invoke("post", "--dry-run").output)
    assert [c["path"] for c in cards] == ["a.md", "b.md"]
    assert cards[0]["blocks"][0]["type"] == "section"
    assert standin.calls == []


def test_post_then_rerun_posts_once(setup, standin):
    assert "2 candidates, 2 posted now, 0 already posted, 0 left" in invoke("post").output
    assert "0 posted now, 2 already posted" in invoke("post").output
    assert len(standin.called("chat.postMessage")) == 2


def test_reconcile_command(setup, standin):
    invoke("post")
    card = standin.called("chat.postMessage")[0]
    ts = next(ts for (ch, ts), m in standin.messages.items() if m["text"] == card.params["text"])
    standin.react("CCURATION", ts, "white_check_mark", "UALICE")
    out = invoke("reconcile").output
    assert "checked 2 posts: 1 changed, 0 failed" in out


def test_doctor_reports_each_part(setup, standin):
    out = invoke("doctor").output
    for part in (
        "config",
        "database",
        "content repo",
        "slack auth",
        "slack scopes",
        "slack channel",
        "slack editors",
    ):
        assert f"ok   {part}:" in out, out
    standin.scopes = "chat:write"
    out = invoke("doctor", code=1).output
    assert "FIX  slack scopes: missing" in out and "reactions:read" in out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_curator_serve_subprocess(setup, standin):
    """The production path: `curator serve` verifies signatures; a forged request writes nothing."""
    invoke("post")
    ts = next(iter(standin.messages))[1]
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO_ROOT, env={**os.environ, **setup}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "serve did not start"
                time.sleep(0.1)
        event = reaction_event(
            "reaction_added", user="UALICE", reaction="white_check_mark", channel="CCURATION",
            ts=ts, event_ts="1900000000.000001",
        )  # fmt: skip
        assert send_event(base + "/slack/events", event, secret="forged") == 401
        assert send_event(base + "/slack/events", event) == 200
        deadline = time.monotonic() + 10
        while not standin.called("chat.update"):
            assert time.monotonic() < deadline, "the vote never reached the card"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=10)[0].decode()
    assert "xoxb-test-not-real" not in output and SIGNING_SECRET not in output


def test_status_shows_jobs_leader_and_open_posts(setup, standin):
    invoke("post")
    out = invoke("status").output
    assert "jobs (UTC):" in out
    assert "post       0 9 * * mon-fri" in out and "never run" in out
    assert "leader: none yet" in out
    assert "last publish: none yet" in out
    assert "open posts: 2" in out and "Alpha" in out


def test_slack_refusals_are_one_line_not_a_traceback(setup, standin, monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-revoked-not-real")
    standin.fail("auth.test", status=200, retry_after=None)  # answers ok: false
    out = invoke("reconcile", code=1).output
    assert "Slack said ratelimited; Slack is busy or unwell: try again" in out
    assert "Traceback" not in out
    standin.fail("chat.postMessage", status=200, retry_after=None)
    out = invoke("post", code=1).output
    assert "Slack said" in out and "Traceback" not in out


# ------------------------------------------------------------------ Slack down or refusing


# slack_sdk retries a refused connection twice with backoff (seconds): once, on SQLite, is enough.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@SQLITE_ONLY
@pytest.mark.parametrize("command", [["post"], ["reconcile"], ["summary"], ["publish"]])
def test_slack_unreachable_is_one_line(setup, standin, command):
    """Issue 9: Slack not answering gave a URLError traceback; now one line naming the host."""
    if command == ["publish"]:  # something to publish, so the command needs Slack
        invoke("post")
        ts = next(ts for (ch, ts), m in standin.messages.items() if "Alpha" in m["text"])
        for editor in ("UALICE", "UBOB"):
            standin.react("CCURATION", ts, "white_check_mark", editor)
        invoke("reconcile")
    host = standin.url.split("/")[2]
    standin.stop()  # the port is closed now: nothing answers
    out = invoke(*command, code=1).output
    assert out.strip().splitlines() == [
        f"Error: Slack did not answer at {host} (Connection refused): check the network, or "
        "SLACK_API_URL if it is set; 'curator doctor' checks every part"
    ]
    assert "xoxb-test-not-real" not in out


@SQLITE_ONLY
@pytest.mark.parametrize("status", [404, 200])
def test_a_slack_api_url_that_is_not_slack_is_named(setup, monkeypatch, status):
    """Issue 9, item 15: a web server at SLACK_API_URL that is not Slack's Web API made
    `serve` and `run` say "check SLACK_BOT_TOKEN", and `post` "Slack said Received a response
    in a non-JSON format" (with the start of the page)."""
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-test-not-real")
    with not_slack(status) as page:
        monkeypatch.setenv("SLACK_API_URL", page.url)
        for command in (["serve", "--port", "0"], ["run"], ["post"], ["reconcile"]):
            out = invoke(*command, code=1).output
            (line,) = out.strip().splitlines()
            method = "conversations.list" if command == ["post"] else "auth.test"
            assert line == (
                f"Error: {page.url} does not answer like Slack's Web API ({method}: HTTP "
                f"{status}, not JSON): check SLACK_API_URL, or unset it to use Slack's own; "
                "'curator doctor' checks every part"
            ), command
        out = invoke("doctor", code=1).output
    assert f"FIX  slack auth: {page.url} does not answer like Slack's Web API" in out
    assert "SLACK_BOT_TOKEN" not in out and "intranet" not in out


@SQLITE_ONLY
def test_doctor_with_slack_unreachable(setup, standin):
    standin.stop()
    out = invoke("doctor", code=1).output
    assert "FIX  slack auth: Slack did not answer at 127.0.0.1:" in out
    assert "ok   database:" in out and "Traceback" not in out


@pytest.mark.parametrize(
    ("method", "error", "command", "fix"),
    [
        ("auth.test", "invalid_auth", "reconcile", "check SLACK_BOT_TOKEN"),
        ("chat.postMessage", "not_in_channel", "summary", "invite the bot to the channel"),
        ("chat.postMessage", "is_archived", "post", "the channel is archived: set another"),
    ],
)
def test_slack_errors_name_the_code_and_the_fix(setup, standin, method, error, command, fix):
    standin.fail(method, status=200, retry_after=None, error=error, times=10)
    out = invoke(command, code=1).output
    assert out.strip().splitlines()[-1].startswith(f"Error: Slack said {error}; {fix}"), out
    assert "Traceback" not in out


def _healthz(base: str, proc: subprocess.Popen, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as r:
                return json.loads(r.read())
        except OSError:
            assert time.monotonic() < deadline and proc.poll() is None, "serve did not start"
            time.sleep(0.1)


def test_serve_waits_for_a_slack_that_comes_up_late(setup):
    """Slack's Web API refuses connections when `serve` starts: a line per attempt with the
    next delay, no traceback; once Slack answers on that address, serve comes up."""
    api_port = _free_port()
    env = {**os.environ, **setup, "SLACK_API_URL": f"http://127.0.0.1:{api_port}/api/"}
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, b"")))
    reader.start()
    late = None
    try:
        deadline = time.monotonic() + 30
        while sum(b"retrying in" in line for line in lines) < 2:
            assert time.monotonic() < deadline and proc.poll() is None, b"".join(lines)
            time.sleep(0.05)
        late = SlackStandIn(port=api_port).start()
        report = _healthz(f"http://127.0.0.1:{port}", proc)
        assert report["status"] == "ok" and report["slack"]["state"] == "ok"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        reader.join(timeout=10)
        if late is not None:
            late.stop()
    output = b"".join(lines).decode()
    assert proc.returncode == 0, output
    # The start, up to listening (the scheduler's own threads are another story).
    start = output.split("listening on")[0]
    assert "attempt 1, retrying in 1 s" in start and "attempt 2, retrying in 2 s" in start
    assert "Check the network and SLACK_API_URL" in start
    assert "Traceback" not in start and "will be unused" not in start, start
    assert "answered the bot token (auth.test) on attempt" in start


@pytest.mark.parametrize(
    "command, method, says",
    [
        ("serve", "auth.test", "Slack refused the bot token (auth.test) (invalid_auth): "
         "check SLACK_BOT_TOKEN"),
        ("run", "apps.connections.open", "Slack refused a Socket Mode connection "
         "(apps.connections.open) (invalid_auth): check SLACK_APP_TOKEN"),
    ],
)  # fmt: skip
def test_a_refused_token_is_one_line_and_exit_1(setup, standin, monkeypatch, command, method, says):
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-test-not-real")
    standin.fail(method, status=200, retry_after=None, error="invalid_auth")
    result = CliRunner().invoke(cli, [command])
    assert result.exit_code == 1, result.output
    assert says in result.output and "Traceback" not in result.output
    assert result.output.count("\n") == 1
