"""A content repo's remote that cannot be used is one line — the remote, git's reason, the fix —
from `curator scan`, `curator publish`, the refresh job and `curator doctor` alike, with real git
(issue 9, item 15: `scan` printed git's stderr over several lines, with no fix)."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine

from bot.cli.main import cli
from bot.config import config_from_mapping
from bot.slack.client import make_client
from storage.fields import FieldMap
from storage.git_command import GitError
from storage.gitrepo import ContentRepo
from storage.pathfilter import PathFilter
from storage.publish_commit import Author, Edit
from storage.schedule_state import last_run
from tests.helpers import Newsroom, article, publish

FIX = "check content.remote and content.branch, the network and git's credentials"
DOCTOR = "; 'curator doctor' checks every part"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def _bad_remotes(tmp_path: Path, newsroom: Newsroom) -> list[tuple[str, str, str, str]]:
    """(remote, branch, git's reason, the fix) for each way a remote fails."""
    newsroom.write("news/a.md", article("A"))
    newsroom.commit()
    missing = tmp_path / "no-such-repo"
    url = f"http://127.0.0.1:{_closed_port()}/news.git"
    return [
        (str(missing), "main", "it does not appear to be a git repository", FIX),
        (url, "main", "unable to access it: Failed to connect to 127.0.0.1", FIX),
        (
            str(newsroom.remote), "drafts", "couldn't find remote ref refs/heads/drafts",
            "check content.branch",
        ),
    ]  # fmt: skip


def _line(verb: str, remote: str, branch: str, reason: str, fix: str) -> tuple[str, str]:
    """The start and the end of the one line."""
    return f"cannot {verb} {branch} {remote} ({reason}", f"): {fix}{DOCTOR}"


@pytest.fixture
def invoke(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)

    def run(remote: str, branch: str, *args: str):
        (tmp_path / "curator.yml").write_text(
            f"content:\n  remote: {remote}\n  branch: {branch}\n"
            'slack:\n  channel: "#curation"\n  editors: [U0EDITOR1]\n'
        )
        return CliRunner().invoke(cli, ["-c", str(tmp_path / "curator.yml"), *args])

    return run


def test_scan_and_publish_say_it_in_one_line(invoke, tmp_path: Path, newsroom: Newsroom):
    assert invoke(str(newsroom.remote), "main", "db", "upgrade").exit_code == 0
    for remote, branch, reason, fix in _bad_remotes(tmp_path, newsroom):
        start, end = _line("fetch", remote, f"{branch} from", reason, fix)
        for command in ("scan", "publish"):
            result = invoke(remote, branch, command)
            lines = result.output.strip().splitlines()
            assert result.exit_code == 1, result.output
            assert len(lines) == 1, (command, lines)
            assert lines[0].startswith(f"Error: {start}"), (command, lines[0])
            assert lines[0].endswith(end), (command, lines[0])


def test_doctor_names_the_same_problem(invoke, tmp_path: Path, newsroom: Newsroom):
    """`ls-remote --heads` exits 0 for a branch the remote lacks: doctor said "ok"."""
    for remote, branch, reason, fix in _bad_remotes(tmp_path, newsroom):
        result = invoke(remote, branch, "doctor")
        line = next(x for x in result.output.splitlines() if "content repo:" in x)
        start, _ = _line("find branch", remote, f"{branch} at", reason, fix)
        assert line.startswith(f"FIX  content repo: {start}"), line
        assert line.endswith(f"): {fix}"), line
    ok = invoke(str(newsroom.remote), "main", "doctor").output
    assert "ok   content repo: main reachable" in ok


def test_the_refresh_job_keeps_the_one_line(
    tmp_path: Path, db_url: str, engine: Engine, newsroom: Newsroom, caplog
):
    """In its detail, in the channel and in the log: an outage is not a bug, so the log says
    it in one line too (the traceback only with -v)."""
    import logging

    caplog.set_level(logging.INFO)
    from bot.clock.jobs import build_jobs
    from bot.clock.slot_runner import SlotRunner
    from bot.runtime import Runtime

    start_at = datetime(2026, 11, 26, 9, tzinfo=UTC)
    for hour, (remote, branch, reason, fix) in enumerate(_bad_remotes(tmp_path, newsroom)):
        slot = start_at + timedelta(hours=hour)
        config = config_from_mapping(
            {
                "content": {"remote": remote, "branch": branch},
                "slack": {"channel": "#curation", "editors": ["U0EDITOR1"]},
            },
            path=tmp_path / "curator.yml", env={"DATABASE_URL": db_url},
        )  # fmt: skip
        repo = ContentRepo(tmp_path / f"clone-{hour}.git", remote, branch)
        runtime = Runtime(config, engine, repo, PathFilter())
        client = make_client("xoxb-not-used", f"http://127.0.0.1:{_closed_port()}/api/")
        (refresh,) = [s for s in build_jobs(runtime, client, bot_user=None) if s.name == "refresh"]
        told: list[str] = []
        cw = SlotRunner(
            engine, [refresh], config.zone, lease_ttl=timedelta(seconds=60), notify=told.append,
            clock=lambda at=slot: at,
        )  # fmt: skip
        cw.leader = True
        assert cw.run_slot(refresh, slot, slot) == "failed"
        with engine.connect() as conn:
            detail = last_run(conn, job="refresh").detail
        start, end = _line("fetch", remote, f"{branch} from", reason, fix)
        assert detail.startswith(start) and detail.endswith(end), detail
        failed = [r for r in caplog.records if "refresh job for slot" in r.getMessage()]
        assert failed and failed[-1].levelno == logging.WARNING and failed[-1].exc_info is None
        assert failed[-1].getMessage().endswith(detail)


def test_a_push_the_remote_refuses_says_why(tmp_path: Path, newsroom: Newsroom):
    """A pre-receive hook that says why, and one that says nothing (git reports that only
    on stdout)."""
    newsroom.write("news/a.md", article("A"))
    newsroom.commit()
    hook = newsroom.remote / "hooks" / "pre-receive"
    for script, reason in [
        ('echo "pushes are frozen for the election" >&2', "pushes are frozen for the election"),
        ("true", "[remote rejected] (pre-receive hook declined)"),
    ]:
        hook.write_text(f"#!/bin/sh\n{script}\nexit 1\n")
        hook.chmod(0o755)
        repo = ContentRepo(tmp_path / "clone.git", str(newsroom.remote), "main")
        with pytest.raises(GitError) as info:
            publish(
                repo, [Edit("news/a.md")], fields=FieldMap(),
                author=Author("Curator", "curator@example.org"), message=lambda _: "Publish",
            )  # fmt: skip
        start, end = _line("push", str(newsroom.remote), "main to", reason, FIX)
        said = str(info.value)
        assert "\n" not in said and said.startswith(start) and said.endswith(end), said
