"""Kill the publish job (SIGKILL, a real subprocess) at every stage; the next run finishes.

Whatever the stage, afterwards: every approved article is published on the remote by exactly
one commit, no file is edited twice, and the database says what the remote says.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.publishing.job import publish_approved
from storage import frontmatter
from storage.gitrepo import ContentRepo
from storage.models import Decision, PostStatus, PublishBatch, PublishCommit
from tests.conftest import REPO_ROOT
from tests.helpers import Newsroom, article
from tests.publish_crash_runner import config as runner_config
from tests.test_publish import NOW, approve, curator_commits, posts, show, tip

RUNNER = REPO_ROOT / "tests" / "publish_crash_runner.py"
PATHS = [f"news/story-{i}.md" for i in range(3)]


def run_killed(db_url: str, newsroom: Newsroom, checkout: Path, stage: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(RUNNER), db_url, str(newsroom.remote), str(checkout), stage],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
    )
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stdout, proc.stderr)


def batches(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        q = select(PublishBatch.__table__.c.state).order_by(PublishBatch.__table__.c.id)
        return list(conn.execute(q).scalars())


@pytest.mark.parametrize(
    ("stages", "expected_batches"),
    [
        pytest.param(["before-commit"], ["pushed"], id="before-commit"),
        pytest.param(["before-push"], ["failed", "pushed"], id="before-push"),
        pytest.param(["after-push"], ["pushed"], id="after-push"),
        pytest.param(["mid-record"], ["pushed"], id="mid-record"),
        # Killed after the push, then killed again while the next run was recording it.
        pytest.param(["after-push", "mid-record"], ["pushed"], id="after-push+mid-record"),
    ],
)
def test_killed_run_is_finished_exactly_once(
    stages: Sequence[str],
    expected_batches: list[str],
    engine: Engine,
    db_url: str,
    newsroom: Newsroom,
    tmp_path: Path,
):
    for path in PATHS:
        newsroom.write(path, article(path))
    newsroom.write("news/live.md", article("Live", published=True))
    base = newsroom.commit("collect")
    for path in PATHS:
        approve(engine, path)
    checkout = tmp_path / "bot-clone.git"

    # Killed after the push (or while recording it): the remote has the commit.
    pushed = stages[0] in ("after-push", "mid-record")
    for stage in stages:
        run_killed(db_url, newsroom, checkout, stage)
        # The crash left the remote either untouched or with exactly our commit on top.
        assert (tip(newsroom) != base) == pushed
        assert {p.status for p in posts(engine).values()} == {PostStatus.APPROVED}

    cfg = runner_config(db_url, str(newsroom.remote), checkout)
    repo = ContentRepo(checkout, cfg.content.remote, cfg.content.branch)
    report = publish_approved(engine, repo, cfg, now=NOW)

    # The remote: one commit by the bot, touching each approved file once, flag flipped.
    [commit] = curator_commits(newsroom)
    for path in PATHS:
        assert curator_commits(newsroom, path) == [commit]
        assert frontmatter.parse(show(newsroom, path))["published"] is True
    assert curator_commits(newsroom, "news/live.md") == []

    # The database agrees with it.
    got = posts(engine)
    assert {(p.status, p.commit_sha) for p in got.values()} == {(PostStatus.PUBLISHED, commit)}
    with engine.connect() as conn:
        commits = conn.execute(select(PublishCommit.__table__)).all()
        decisions = conn.execute(select(Decision.__table__)).all()
    assert [(c.sha, c.article_count) for c in commits] == [(commit, len(PATHS))]
    assert sorted(d.post_id for d in decisions if d.to_status == "published") == sorted(
        p.id for p in got.values()
    )
    assert batches(engine) == expected_batches

    assert report.count("published") == len(PATHS)
    assert {p.commit_sha for p in report.posts} == {commit}
    assert all(p.recovered for p in report.posts) == pushed
    assert report.commit_sha == (None if pushed else commit)

    # And a further run has nothing left to do.
    again = publish_approved(engine, repo, cfg, now=NOW)
    assert again.posts == () and curator_commits(newsroom) == [commit]


def test_two_recoveries_at_once_record_a_batch_once(
    engine: Engine, db_url: str, newsroom: Newsroom, tmp_path: Path, monkeypatch
):
    """Issue 9, item 10, behind the publish lock: should two runs ever settle the same
    pending batch at once, the batch is recorded once, with one decision per post."""
    import threading

    import storage.publish_commit
    from bot.publishing.job import recover

    for path in PATHS:
        newsroom.write(path, article(path))
    newsroom.commit("collect")
    for path in PATHS:
        approve(engine, path)
    checkout = tmp_path / "bot-clone.git"
    run_killed(db_url, newsroom, checkout, "after-push")
    cfg = runner_config(db_url, str(newsroom.remote), checkout)
    repo = ContentRepo(checkout, cfg.content.remote, cfg.content.branch)
    tip_now = repo.fetch()

    both_read = threading.Barrier(2, timeout=30)
    find_pushed = storage.publish_commit.find_pushed

    def after_both_have_read(*args, **kwargs):
        both_read.wait()  # each run has its list of pending batches
        return find_pushed(*args, **kwargs)

    monkeypatch.setattr(storage.publish_commit, "find_pushed", after_both_have_read)
    reports: list[list[object]] = []

    def settle() -> None:
        reports.append(recover(engine, repo, cfg, tip=tip_now, now=NOW))

    threads = [threading.Thread(target=settle) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    [commit] = curator_commits(newsroom)
    assert sorted(len(r) for r in reports) == [0, len(PATHS)]
    with engine.connect() as conn:
        decisions = conn.execute(select(Decision.__table__)).all()
        commits = conn.execute(select(PublishCommit.__table__.c.sha)).scalars().all()
    assert len(decisions) == len(PATHS) and commits == [commit]
    assert batches(engine) == ["pushed"]
