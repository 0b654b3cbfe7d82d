"""The morning summary: built from the database (SQLite and PostgreSQL), posted through the
local Slack stand-in, and ``curator summary`` from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from bot.cli.terminal import render_blocks
from bot.config import Config
from bot.slack.client import make_client
from bot.slack.summary import build_summary, group_by_topic
from bot.slack.summary_message import summary_message
from bot.slack.summary_post import post_summary
from storage.articles import ArticleView
from storage.models import JobRun
from tests.slack_standin import Call, SlackStandIn
from tests.test_digest import COMMIT, COMMIT_URL, HOSTILE, NO, YES, D, H, add_card, make_config

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # Thursday
LAST = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)  # Tuesday's summary
QUIET = "Nothing was decided or published since Tuesday 08:30; no cards are waiting."


def blocks_of(call: Call) -> list[dict]:
    """The blocks as sent (the client sends JSON or form-encoded)."""
    blocks = call.params["blocks"]
    return json.loads(blocks) if isinstance(blocks, str) else blocks


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> Config:
    # The day's cards go out at 09:30, after this 09:00 summary.
    return make_config(tmp_path, db_url, schedule={"publish": "0 10 * * *", "post": "30 9 * * *"})


def news(engine: Engine, now: datetime) -> None:
    """A night with news: two articles published in one commit, one rejected, one expired,
    one approved and held back, two cards waiting, and fresh candidates for today."""
    with engine.begin() as conn:
        for title in ("Facial recognition rules for cities", HOSTILE):
            add_card(conn, title=title, now=now, status="published", quality=70,
                     changed=20 * H, commit=COMMIT)  # fmt: skip
        add_card(conn, title="Published before the last summary", now=now, status="published",
                 changed=3 * D, commit="f" * 40)  # fmt: skip
        add_card(conn, title="Smart meters reveal occupancy", now=now, status="rejected",
                 votes=[("UALICE", NO), ("UBOB", NO)], changed=10 * H)  # fmt: skip
        add_card(
            conn, title="Expired drone story", now=now, status="expired", changed=H, posted=4 * D
        )
        add_card(conn, title="Held back broadband map", now=now, status="blocked",
                 hold="file missing on the remote", changed=30 * H)  # fmt: skip
        add_card(conn, title="Budget dashboard", now=now, posted=3 * D + 2 * H, changed=3 * D)
        add_card(conn, title="Police face search audit", now=now, posted=D, changed=D,
                 votes=[("UALICE", YES)])  # fmt: skip
        for title, topics, quality in (
            ("AI weather model", ("AI", "Climate"), 80),
            ("AI procurement rules", ("AI", "Procurement"), 90),
            ("Heat pumps in housing", ("Climate", "Housing"), 70),
            ("Fare capping", ("Transportation",), 60),
            ("Untitled topics", (), 50),
        ):
            add_card(conn, title=title, now=now, status=None, topics=topics, quality=quality,
                     dated=5 * H)  # fmt: skip


def test_summary_of_a_night_with_news(engine: Engine, config: Config, standin: SlackStandIn):
    news(engine, NOW)
    ts = post_summary(engine, make_client("xoxb-test", standin.url), config, since=LAST, now=NOW)

    (call,) = standin.called("chat.postMessage")
    assert call.params["channel"] == "CCURATION" and ts
    assert call.params["text"] == (
        "Morning summary: 2 published, 1 rejected, 1 expired, 1 to be published, "
        "2 waiting for votes"
    )
    blocks = blocks_of(call)
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"] == "Morning summary · Thursday 26 November"
    assert blocks[1]["elements"][0]["text"].startswith("Since Tuesday 08:30 · 2 published")
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    published, rejected, expired, approved, waiting, candidates = sections

    # Published: grouped under their commit, linked; the one before the last summary is not.
    assert published.startswith("*Published* · 2\n")
    assert f"in <{COMMIT_URL.format(sha=COMMIT)}|abc1234>:" in published
    assert "Facial recognition rules for cities" in published
    assert "Published before the last summary" not in json.dumps(blocks)
    # Article text stays inert.
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example¦click&gt;" in published
    assert "<!channel>" not in json.dumps(blocks)

    assert rejected.startswith("*Rejected* · 1\n") and ":x: 2" in rejected
    assert "<@" not in json.dumps(blocks)  # a channel message: naming voters would ping them
    assert expired.startswith("*Expired without a decision* · 1\n")
    assert approved.startswith("*Approved, to be published today 10:00* · 1\n")
    assert "held back from publishing: file missing on the remote" in approved

    # Waiting: oldest first, with how long and the tally.
    assert waiting.startswith("*Waiting for votes* · 2, oldest first\n")
    budget, police = waiting.split("\n")[1:]
    assert "Budget dashboard" in budget and "waiting 3 days" in budget
    assert "Police face search audit" in police and "waiting 24 hours" in police
    assert ":white_check_mark: 1 · :x: 0 · 2 needed" in police

    # Today's candidates, by the topic most of them share.
    lines = candidates.split("\n")
    assert lines[0] == "*Today's top candidates by topic* · 5, to be posted at 09:30"
    assert lines[1].startswith("*AI*: <https://news.example/")
    assert lines[1].index("AI procurement rules") < lines[1].index("AI weather model")
    assert lines[2].startswith("*Climate*: ") and "Heat pumps in housing" in lines[2]
    assert lines[3].startswith("*Transportation*: ")
    assert lines[4].startswith("*Other topics*: ")


def test_a_quiet_night_is_said_in_one_line(engine: Engine, config: Config, standin: SlackStandIn):
    with engine.begin() as conn:  # decided before the last summary: not news
        add_card(conn, title="Old rejection", now=NOW, status="rejected", changed=3 * D)
        add_card(conn, title="Stale unposted", now=NOW, status=None, dated=30 * D)
    post_summary(engine, make_client("xoxb-test", standin.url), config, since=LAST, now=NOW)
    (call,) = standin.called("chat.postMessage")
    assert call.params["text"] == QUIET
    assert blocks_of(call) == [
        {"type": "section", "text": {"type": "mrkdwn", "text": QUIET, "verbatim": True}}
    ]


def test_an_unscored_card_says_so(engine: Engine, config: Config):
    with engine.begin() as conn:
        add_card(conn, title="No score yet", now=NOW, quality=None, posted=D)
    with engine.connect() as conn:
        summary = build_summary(conn, config, since=LAST, now=NOW)
    shown = render_blocks(summary_message(summary, config)[1])
    assert "• No score yet (https://news.example/" in shown and ") (unscored) · waiting" in shown


def test_a_quiet_night_still_shows_todays_candidates(engine: Engine, config: Config):
    with engine.begin() as conn:
        add_card(conn, title="Fresh candidate", now=NOW, status=None, dated=2 * H)
    with engine.connect() as conn:
        summary = build_summary(conn, config, since=LAST, now=NOW)
    text, blocks = summary_message(summary, config)
    assert summary.quiet and text == QUIET
    shown = render_blocks(blocks)
    assert shown.startswith(QUIET + "\n") and "AI: Fresh candidate (https://" in shown


def test_once_posted_todays_cards_are_listed_instead_of_a_preview(engine: Engine, config: Config):
    with engine.begin() as conn:
        add_card(conn, title="Posted this morning", now=NOW, posted=H, changed=H)
        add_card(conn, title="Not chosen today", now=NOW, status=None, dated=2 * H)
    with engine.connect() as conn:
        summary = build_summary(conn, config, since=LAST, now=NOW)
    shown = render_blocks(summary_message(summary, config)[1])
    assert "Today's cards by topic · 1" in shown and "Posted this morning" in shown
    assert "Not chosen today" not in shown


def test_long_lists_point_to_the_digest(engine: Engine, config: Config):
    with engine.begin() as conn:
        for i in range(14):
            add_card(conn, title=f"Rejected {i:02d}", now=NOW, status="rejected", changed=H)
    with engine.connect() as conn:
        summary = build_summary(conn, config, since=LAST, now=NOW)
    shown = render_blocks(summary_message(summary, config)[1])
    assert shown.count("• Rejected") == 10
    assert "… and 4 more: /digest status:rejected since:3d" in shown.replace("`", "")


def article(title: str, *topics: str) -> ArticleView:
    return ArticleView(
        id=0, path=title, title=title, excerpt=None, url=None, quality=None, heat=None,
        dated=None, first_seen_at=NOW, provider_name=None, provider_domain=None,
        image_url=None, topics=topics, related=(),
    )  # fmt: skip


def test_group_by_topic_uses_the_commonest_shared_topic():
    groups = group_by_topic([
        article("a", "AI", "Climate"), article("b", "climate"), article("c", "Climate", "Water"),
        article("d", "AI", "Privacy"), article("e"), article("f", "Space"),
    ])  # fmt: skip
    assert [(g.topic, [a.title for a in g.articles]) for g in groups] == [
        ("Climate", ["a", "b", "c"]), ("AI", ["d"]), ("Space", ["f"]), ("Other topics", ["e"]),
    ]  # fmt: skip


# ================================================================================ the CLI


@pytest.fixture
def cli_env(
    tmp_path: Path, db_url: str, engine: Engine, standin: SlackStandIn,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:  # fmt: skip
    path = tmp_path / "curator.yml"
    path.write_text(
        f"content:\n  remote: {tmp_path / 'remote.git'}\n  commit_url: '{COMMIT_URL}'\n"
        'slack:\n  channel: "#curation"\n  editors: [UALICE, UBOB]\n'
    )
    for key, value in {
        "DATABASE_URL": db_url, "CURATOR_CONFIG": str(path), "SLACK_API_URL": standin.url,
        "SLACK_BOT_TOKEN": "xoxb-test-not-real",
    }.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    return path


def curator(*args: str, code: int = 0) -> str:
    from bot.cli.main import cli

    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_curator_summary_dry_run_sends_nothing(
    cli_env: Path, engine: Engine, standin: SlackStandIn
):
    now = datetime.now(UTC)
    news(engine, now)
    out = curator("summary", "--dry-run")
    assert "Morning summary ·" in out and "Waiting for votes · 2, oldest first" in out
    assert "Facial recognition rules for cities (https://news.example/" in out
    assert f"in abc1234 ({COMMIT_URL.format(sha=COMMIT)}):" in out
    assert standin.calls == []
    payload = json.loads(curator("summary", "--dry-run", "--json"))
    assert payload["blocks"][0]["type"] == "header"


def test_curator_summary_since_the_last_summary_run(cli_env: Path, engine: Engine):
    now = datetime.now(UTC)
    with engine.begin() as conn:
        add_card(conn, title="Rejected before the last run", now=now, status="rejected",
                 changed=3 * H, posted=2 * D)  # fmt: skip
        add_card(conn, title="Rejected after the last run", now=now, status="rejected",
                 changed=H, posted=2 * D)  # fmt: skip
        for job, outcome, ago in (("summary", "ok", 2 * H), ("summary", "failed", 0.5 * H),
                                  ("post", "ok", 0.1 * H)):  # fmt: skip
            conn.execute(
                insert(JobRun.__table__).values(
                    job=job, slot=now - ago, outcome=outcome, finished_at=now - ago
                )
            )
    out = curator("summary", "--dry-run")
    assert "Rejected after the last run" in out and "Rejected before" not in out
    # Without a successful run the summary covers 24 hours; --since overrides both.
    assert "Rejected before the last run" in curator("summary", "--dry-run", "--since", "4h")


def test_curator_summary_bad_since(cli_env: Path):
    out = curator("summary", "--dry-run", "--since", "yesterday", code=2)
    assert "--since" in out and "expected 7d, 24h or a date like" in out


def test_curator_summary_posts_to_the_channel(cli_env: Path, engine: Engine, standin: SlackStandIn):
    out = curator("summary")
    assert "posted the summary since" in out and "to #curation" in out
    (call,) = standin.called("chat.postMessage")
    assert call.params["channel"] == "CCURATION"
    assert call.params["text"].startswith("Nothing was decided or published since ")


def test_summary_with_nothing_since_24h_ago_by_default(cli_env: Path, engine: Engine):
    now = datetime.now(UTC)
    with engine.begin() as conn:
        add_card(conn, title="Rejected two days ago", now=now, status="rejected", changed=2 * D)
    out = curator("summary", "--dry-run")
    assert out.startswith("Nothing was decided or published since ")
    assert "no cards are waiting." in out
