"""Publishing across desks (issue 11): one commit for every desk's approved articles, grouped
by desk, each article approved by its own desk's editors with its own desk's emoji, and each
desk's cards updated with the commit link in their own channel.

Real parts: a bare remote and clones, the local Slack stand-in, SQLite and PostgreSQL.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.clock.jobs import publish_and_tell
from bot.config import Config, config_from_mapping
from bot.publishing.message import Candidate, commit_message
from bot.runtime import Runtime
from bot.slack import daily_post
from bot.slack.client import make_client
from bot.slack.editors import editors_from
from bot.slack.voting import reconcile
from storage.fields import FieldMap
from storage.gitrepo import ContentRepo
from storage.models import Post
from storage.pathfilter import PathFilter
from storage.scan import scan
from tests.helpers import Newsroom, article
from tests.slack_standin import BOT_USER, SlackStandIn

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
AI, POLICY = "CAIDESK", "CPOLICY"
COMMIT_URL = "https://git.example/c/{sha}"


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    s = SlackStandIn(
        users={"UALICE": "Alice", "UBOB": "Bob", "UCAROL": "Carol", "UDAVE": "Dave"}
    ).start()
    yield s
    s.stop()


def desks_config(tmp_path: Path, db_url: str, newsroom: Newsroom) -> Config:
    """Two desks. AI comes first and has no catch-all after it, so it is the default desk:
    the one publishing used to count every post's votes by."""
    return config_from_mapping(
        {
            "content": {"remote": str(newsroom.remote), "commit_url": COMMIT_URL},
            "slack": {"channel": AI, "editors": ["UALICE"]},
            "candidates": {"per_day": 3, "max_age_days": 100000},
            "desks": [
                {"name": "AI", "channel": AI, "topics": ["AI"], "editors": ["UALICE", "UBOB"],
                 "publish": ["rocket"], "quorum": 2},
                {"name": "Policy", "channel": POLICY, "topics": ["Policy"],
                 "editors": ["UCAROL", "UDAVE"], "quorum": 1},
            ],
        },
        path=tmp_path / "curator.yml",
        env={"DATABASE_URL": db_url},
    )  # fmt: skip


def client(standin: SlackStandIn) -> WebClient:
    return make_client("xoxb-test-token", standin.url)


def cards(engine: Engine) -> dict[str, Post]:
    """Every card by its channel."""
    with engine.connect() as conn:
        return {r.channel: r for r in conn.execute(select(Post.__table__))}


def test_one_commit_across_desks_grouped_by_desk_with_each_desks_approvers(
    tmp_path: Path, db_url: str, engine: Engine, newsroom: Newsroom, content_repo: ContentRepo,
    standin: SlackStandIn,
):  # fmt: skip
    newsroom.write("ai.md", article("Model audit", topics=("AI",), quality=90))
    newsroom.write("policy.md", article("Council rules", topics=("Policy",), quality=80))
    before = newsroom.commit()
    content_repo.fetch()
    scan(engine, content_repo, FieldMap(), PathFilter())
    config = desks_config(tmp_path, db_url, newsroom)
    for desk in config.desks:
        daily_post.post_day(engine, client(standin), config, NOW, desk)
    ai, policy = cards(engine)[AI], cards(engine)[POLICY]
    assert (ai.desk, policy.desk) == ("AI", "Policy")

    # The AI desk votes with :rocket:; a Policy editor's ✅ on its card is no vote there.
    for user in ("UALICE", "UBOB"):
        standin.react(AI, ai.ts, "rocket", user)
    standin.react(AI, ai.ts, "white_check_mark", "UCAROL")
    standin.react(POLICY, policy.ts, "white_check_mark", "UCAROL")
    standin.react(POLICY, policy.ts, "rocket", "UDAVE")  # not a Policy vote
    reconcile(engine, client(standin), config, NOW, bot_user=BOT_USER, editors=editors_from(config))
    assert {c.status for c in cards(engine).values()} == {"approved"}

    repo = ContentRepo(tmp_path / "publish-clone.git", str(newsroom.remote), newsroom.branch)
    report = publish_and_tell(Runtime(config, engine, repo, PathFilter()), client(standin), NOW)
    sha = report.commit_sha
    assert sha and {c.status for c in cards(engine).values()} == {"published"}

    # One commit on the remote for both desks.
    log = subprocess.run(
        ["git", "--git-dir", str(newsroom.remote), "log", "--format=%H", f"{before}..HEAD"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert log == [sha]
    message = subprocess.run(
        ["git", "--git-dir", str(newsroom.remote), "log", "-1", "--format=%B"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    body = message.split("\n\n", 1)[1]
    assert body.startswith(
        "Desk: AI\n"
        "- Model audit\n  ai.md\n  approved by Alice, Bob\n"
        "\n"
        "Desk: Policy\n"
        "- Council rules\n  policy.md\n  approved by Carol\n"
        "\n"
        "Approved-by: Alice <UALICE>\nApproved-by: Bob <UBOB>\nApproved-by: Carol <UCAROL>\n"
    ), message
    assert "Dave" not in message

    # Each desk's card, in its own channel, now links the commit.
    link = f"<{COMMIT_URL.format(sha=sha)}|{sha[:7]}>"
    for channel, ts in ((AI, ai.ts), (POLICY, policy.ts)):
        assert link in str(standin.messages[(channel, ts)]["blocks"]), channel
    updated = {c.params["channel"] for c in standin.called("chat.update")}
    assert updated >= {AI, POLICY}


def candidate(path: str, desk: str | None, title: str = "T") -> Candidate:
    return Candidate(
        post_id=1, article_id=1, path=path, title=title, channel="C1", ts=None, permalink=None,
        status="approved", held=False, hold_blob=None, desk=desk,
    )  # fmt: skip


def test_the_desk_lines_cannot_forge_a_trailer_and_keep_the_config_order():
    posts = [
        candidate("a.md", "Science"),
        candidate("b.md", "AI\nApproved-by: Mallory <UMALLORY>"),
        candidate("c.md", "AI"),
    ]
    message = commit_message(posts, "tok", desks=["AI", "Science"])
    lines = message.splitlines()
    assert lines[2:9] == [
        "Desk: AI", "- T", "  c.md", "", "Desk: Science", "- T", "  a.md",
    ]  # fmt: skip
    assert "Desk: AI Approved-by: Mallory <UMALLORY>" in lines
    assert not any(line.startswith("Approved-by:") for line in lines)
    # Without desks, no Desk: lines at all (a config without desks: as before).
    assert "Desk:" not in commit_message(posts, "tok")
