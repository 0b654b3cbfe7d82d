"""Two `curator serve` processes on one PostgreSQL: the day (each desk's) is posted exactly
once, and when the leader is killed the other takes the jobs over within one lease period."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli.main import cli
from storage.db import make_engine
from storage.models import JobRun, Lease
from tests.conftest import REPO_ROOT
from tests.helpers import Newsroom, article
from tests.slack_requests import SIGNING_SECRET
from tests.slack_standin import SlackStandIn

LEASE_SECONDS = 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


# Two desks posting at the same minute: each desk's day is claimed under its own job name.
DESKS = (
    "desks:\n"
    "  - {name: AI, channel: CAI, topics: [AI]}\n"
    '  - {name: General, channel: "#curation"}\n'
)


@pytest.mark.parametrize("desks", [False, True], ids=["one desk", "two desks"])
def test_two_replicas_post_once_and_fail_over(
    db_url: str, tmp_path: Path, newsroom: Newsroom, desks: bool
):
    if not db_url.startswith("postgresql"):
        pytest.skip("replicas share a PostgreSQL database")
    standin = SlackStandIn().start()
    procs: dict[int, subprocess.Popen] = {}
    try:
        config = tmp_path / "curator.yml"
        config.write_text(
            f"content:\n  remote: {newsroom.remote}\n"
            'slack:\n  channel: "#curation"\n  editors: [UALICE]\n'
            "candidates:\n  max_age_days: 100000\n"
            # Every minute, so the slot that is due when the replicas start is caught up.
            'schedule:\n  post: "* * * * *"\n  refresh: off\n  publish: off\n'
            "  summary: off\n  reconcile: off\n  expire: off\n"
            f"  grace: {{post: 10}}\n  lease_seconds: {LEASE_SECONDS}\n" + (DESKS if desks else "")
        )
        for name, topic in (("Alpha", "AI"), ("Beta", "AI"), ("Gamma", "Food")):
            newsroom.write(f"{name}.md", article(name, topics=(topic,)))
        newsroom.commit()
        env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "CURATOR_CONFIG": str(config),
            "SLACK_API_URL": standin.url,
            "SLACK_BOT_TOKEN": "xoxb-test-not-real",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        }
        runner = CliRunner()
        for args in (["db", "upgrade"], ["scan"]):
            result = runner.invoke(cli, ["-c", str(config), *args], env=env)
            assert result.exit_code == 0, result.output

        for _ in range(2):
            proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1",
                 "--port", str(_free_port())],
                cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            procs[proc.pid] = proc

        _wait(lambda: len(standin.called("chat.postMessage")) >= 3, 30, "the day's cards")
        time.sleep(2)  # both replicas have had time to try
        assert len(standin.called("chat.postMessage")) == 3
        if desks:  # each desk's cards once, in its own channel
            channels = sorted(c.params["channel"] for c in standin.called("chat.postMessage"))
            assert channels == ["CAI", "CAI", "CCURATION"]

        engine = make_engine(db_url)

        def holder() -> str | None:
            with engine.connect() as conn:
                row = conn.execute(select(Lease.__table__)).first()
            return row.holder if row else None

        leader_pid = int(str(holder()).split(":")[1])
        assert leader_pid in procs
        jobs = ["post:AI", "post:General"] if desks else ["post"]
        with engine.connect() as conn:
            post_runs = conn.execute(
                select(JobRun.__table__.c.job, JobRun.__table__.c.slot).where(
                    JobRun.__table__.c.job.like("post%")
                )
            ).all()
        assert {r.job for r in post_runs} == set(jobs)
        assert len(post_runs) == len({(r.job, r.slot) for r in post_runs})  # each slot once

        # Kill the leader without a chance to release the lease.
        procs[leader_pid].send_signal(signal.SIGKILL)
        procs[leader_pid].wait()
        killed_at = time.monotonic()
        _wait(
            lambda: holder() is not None and int(str(holder()).split(":")[1]) != leader_pid,
            LEASE_SECONDS + 3,
            "the other replica to take the lease",
        )
        took = time.monotonic() - killed_at
        assert took <= LEASE_SECONDS + 2, f"takeover took {took:.1f}s"
        time.sleep(1)
        assert len(standin.called("chat.postMessage")) == 3  # the takeover posts nothing twice
        engine.dispose()
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        standin.stop()
