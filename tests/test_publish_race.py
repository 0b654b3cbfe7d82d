"""Two `curator publish` at once (an operator beside the scheduled job, two replicas), as
real processes on SQLite and PostgreSQL: one commit, one decision per post, no error."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine

from storage.models import Decision, PostStatus, PublishBatch
from tests.conftest import REPO_ROOT
from tests.helpers import Newsroom, article
from tests.test_publish import approve, curator_commits, posts

PATHS = [f"news/story-{i}.md" for i in range(8)]


def setup(
    engine: Engine, db_url: str, newsroom: Newsroom, tmp_path: Path, clone: str = "clone"
) -> dict[str, str]:
    """The environment of a `curator` with its own content clone (replicas on two hosts)
    or a shared one (an operator beside the job), for eight approved articles."""
    if not list(tmp_path.glob("*.yml")):  # the first call makes the newsroom
        for path in PATHS:
            newsroom.write(path, article(path))
        newsroom.commit("collect")
        for path in PATHS:
            approve(engine, path)
    config = tmp_path / f"{clone}.yml"
    config.write_text(
        f"content:\n  remote: {newsroom.remote}\n  checkout: {tmp_path / clone}.git\n"
        '  author: "Curator Bot <curator@newsroom.example>"\n'
        'slack:\n  channel: "#curation"\n  editors: [U0ANN]\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    return {**env, "DATABASE_URL": db_url, "CURATOR_CONFIG": str(config)}


def curator(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "publish", *args], cwd=REPO_ROOT, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def finish(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, (out, err)
    assert "Traceback" not in err
    return out


def assert_published_once(engine: Engine, newsroom: Newsroom) -> str:
    [commit] = curator_commits(newsroom)
    got = posts(engine)
    assert {(p.status, p.commit_sha) for p in got.values()} == {(PostStatus.PUBLISHED, commit)}
    with engine.connect() as conn:
        decisions = conn.execute(select(Decision.__table__)).all()
        batches = conn.execute(select(PublishBatch.__table__.c.state)).scalars().all()
    # Exactly one decision per change: approved -> published, once per post.
    assert sorted(d.post_id for d in decisions) == sorted(p.id for p in got.values())
    assert {(d.from_status, d.to_status) for d in decisions} == {("approved", "published")}
    assert batches == ["pushed"]
    return commit


def test_a_second_publish_leaves_the_running_one_be(
    engine: Engine, db_url: str, newsroom: Newsroom, tmp_path: Path
):
    """The first replica has pushed and not yet recorded (its push waits in the remote's
    hook) when the second starts: the second must not record the first's batch (two
    decisions per post), and says why it does nothing."""
    env = setup(engine, db_url, newsroom, tmp_path, "replica-1")
    other = setup(engine, db_url, newsroom, tmp_path, "replica-2")
    pushed, go = tmp_path / "pushed", tmp_path / "go"
    hook = newsroom.remote / "hooks" / "post-receive"
    hook.write_text(
        f"#!/bin/sh\ntouch '{pushed}'\n"
        f"i=0; while [ ! -e '{go}' ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done\n"
    )
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)
    first = curator(env)
    try:
        deadline = time.monotonic() + 60
        while not pushed.exists():
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first publish never pushed"
            time.sleep(0.05)
        second = finish(curator(other, "--wait", "0"))
        assert second.startswith("another publish is running (since ")
        assert second.rstrip().endswith("; nothing to do")
    finally:
        go.touch()
    out = finish(first)
    commit = assert_published_once(engine, newsroom)
    assert out.splitlines()[-1] == (
        f"published 8, already published 0, missing 0, refused 0, commit {commit[:12]}"
    )


def test_two_publishes_at_once(engine: Engine, db_url: str, newsroom: Newsroom, tmp_path: Path):
    env = setup(engine, db_url, newsroom, tmp_path)
    procs = [curator(env), curator(env)]
    outs = [finish(p) for p in procs]
    commit = assert_published_once(engine, newsroom)
    # One published the eight; the other waited for it and found nothing left to do.
    assert sorted(out.splitlines()[-1] for out in outs) == [
        "published 0, already published 0, missing 0, refused 0, no commit",
        f"published 8, already published 0, missing 0, refused 0, commit {commit[:12]}",
    ]
