"""Run the publish job and SIGKILL this very process at a chosen stage (for crash tests).

    python tests/publish_crash_runner.py DB_URL REMOTE CHECKOUT STAGE [CONFIG SLACK_API_URL]

With CONFIG (a curator.yml) the run counts votes and groups the commit by its desks, and
with SLACK_API_URL (the Slack stand-in) it names the approvers as the bot does; without,
a config of one channel and no names.

The production code has no test hooks: the functions the job calls are wrapped here, and at
the stage the process kills itself with SIGKILL, so nothing gets to clean up (no finally, no
rollback sent, no atexit). Stages:

- ``before-commit``: the edits are made in memory; ``commit-tree`` is never run;
- ``before-push``: the commit exists in the bot's clone and its batch is recorded as pending;
- ``after-push``: the remote has the commit; the database has not heard of it;
- ``mid-record``: inside the transaction that records the outcome, before it commits;
- ``none``: run normally;
- ``parallel``: run normally, with the edits on two worker processes however few cores
  (for tests that kill the process from outside while the workers edit).
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import storage.publish_commit.attempt
import storage.publish_commit.planning
import storage.publish_log
from bot.config import Config, ContentConfig, SlackConfig, load_config
from bot.publishing.job import publish_approved
from bot.slack.client import make_client
from bot.slack.editors import DisplayNames
from storage.db import make_engine
from storage.gitrepo import ContentRepo

STAGES = ("before-commit", "before-push", "after-push", "mid-record", "none", "parallel")


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def arm(stage: str) -> None:
    """Wrap the function at ``stage`` so that the process dies there."""
    push_commit = storage.publish_commit.attempt.push_commit
    mark_published = storage.publish_log._mark_published

    def killed(*args: Any, **kwargs: Any) -> Any:
        die()

    def push_then_die(repo: ContentRepo, commit: str) -> bool:
        push_commit(repo, commit)
        die()
        return True

    def record_then_die(*args: Any, **kwargs: Any) -> None:
        mark_published(*args, **kwargs)
        die()

    if stage == "before-commit":
        storage.publish_commit.attempt.write_commit = killed
    elif stage == "before-push":
        storage.publish_commit.attempt.push_commit = killed
    elif stage == "after-push":
        storage.publish_commit.attempt.push_commit = push_then_die
    elif stage == "mid-record":
        storage.publish_log._mark_published = record_then_die
    elif stage == "parallel":
        edit_all = storage.publish_commit.planning.edit_all
        storage.publish_commit.planning.edit_all = lambda items, fields, workers: edit_all(
            items, fields, 2
        )
    elif stage != "none":
        raise SystemExit(f"unknown stage {stage!r}; one of {', '.join(STAGES)}")


def config(db_url: str, remote: str, checkout: Path) -> Config:
    return Config(
        content=ContentConfig(
            remote=remote,
            checkout=checkout,
            author_name="Curator Bot",
            author_email="curator@newsroom.example",
        ),
        slack=SlackConfig(channel="C0CURATION"),
        database_url=db_url,
    )


def main(argv: list[str]) -> int:
    db_url, remote, checkout, stage, *desk_run = argv
    names = None
    if desk_run:
        config_file, slack_url = desk_run
        cfg = load_config(Path(config_file), env={"DATABASE_URL": db_url})
        names = DisplayNames(make_client("xoxb-test-token", slack_url))
    else:
        cfg = config(db_url, remote, Path(checkout))
    engine = make_engine(db_url)
    repo = ContentRepo(Path(checkout), remote, cfg.content.branch)
    arm(stage)
    report = publish_approved(engine, repo, cfg, now=datetime.now(UTC), approver_names=names)
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
