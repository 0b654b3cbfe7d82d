"""Morning summaries with desks (issue 11): each desk's in its own channel, the newsroom's in
``slack.summary_channel`` grouped by desk, one refused channel not stopping the others, and
``curator summary --desk``. SQLite and PostgreSQL, through the local Slack stand-in."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine

from bot.clock.jobs import build_jobs
from bot.config import Config, config_from_mapping
from bot.runtime import Runtime
from bot.slack.client import make_client
from bot.slack.limits import message_problems
from bot.slack.summary_post import SummaryError, newsroom_message, post_summary
from storage.db import reading
from storage.gitrepo import ContentRepo
from storage.models import Post
from storage.pathfilter import PathFilter
from tests.slack_standin import SlackStandIn
from tests.test_digest import COMMIT, COMMIT_URL, YES, D, H, add_card
from tests.test_summary import blocks_of, curator

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # Thursday
LAST = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
AI, POLICY, NEWSROOM = "CAIDESK", "CPOLICY", "CNEWSROOM"
ROCKET = "rocket"


def desks(tmp_path: Path, db_url: str, *, summary_channel: str | None = NEWSROOM) -> dict:
    slack: dict[str, Any] = {"channel": AI, "editors": ["UALICE", "UBOB"]}
    if summary_channel:
        slack["summary_channel"] = summary_channel
    return {
        "content": {"remote": str(tmp_path / "remote.git"), "commit_url": COMMIT_URL},
        "slack": slack,
        "schedule": {"publish": "0 10 * * *", "post": "30 9 * * *", "summary": "0 9 * * *"},
        "candidates": {"max_age_days": 7},
        "desks": [
            {"name": "AI", "channel": AI, "topics": ["AI"], "publish": [ROCKET], "quorum": 2},
            {"name": "Policy", "channel": POLICY, "topics": ["Policy"], "quorum": 1,
             "post": "0 11 * * *"},
        ],
    }  # fmt: skip


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> Config:
    return config_from_mapping(
        desks(tmp_path, db_url), path=tmp_path / "curator.yml", env={"DATABASE_URL": db_url}
    )


def card(conn, desk: str | None, channel: str, **kw: Any) -> int:
    """A card of ``desk`` in ``channel`` (desk None: from before desks)."""
    post_id = add_card(conn, now=NOW, **kw)
    conn.execute(
        update(Post.__table__).where(Post.__table__.c.id == post_id).values(
            desk=desk, channel=channel
        )
    )  # fmt: skip
    return post_id


def night(engine: Engine) -> None:
    """Each desk's night: AI published one, waits on one (a rocket from Alice); Policy
    rejected one, waits on one (a ✅ from Alice); a card from before desks waits too."""
    with engine.begin() as conn:
        card(conn, "AI", AI, title="AI audit published", status="published", changed=20 * H,
             commit=COMMIT)  # fmt: skip
        card(conn, "AI", AI, title="Model cards explained", posted=D, changed=D,
             votes=[("UALICE", ROCKET), ("UBOB", YES)])  # fmt: skip
        card(conn, None, AI, title="Older card of no desk", posted=2 * D, changed=2 * D)
        card(conn, "Policy", POLICY, title="Zoning change rejected", status="rejected",
             topics=("Policy",), changed=10 * H)  # fmt: skip
        card(conn, "Policy", POLICY, title="Council budget vote", posted=D, changed=D,
             topics=("Policy",), votes=[("UALICE", YES)])  # fmt: skip
        add_card(conn, title="AI chips candidate", now=NOW, status=None, topics=("AI",),
                 dated=5 * H)  # fmt: skip
        add_card(conn, title="Transit levy candidate", now=NOW, status=None,
                 topics=("Policy",), dated=5 * H)  # fmt: skip


def run_summary_jobs(
    config: Config, engine: Engine, standin: SlackStandIn, tmp_path: Path,
    told: list[str] | None = None,
) -> dict[str, tuple[str | None, str | None]]:  # fmt: skip
    """Every summary job of the schedule through the slot runner, as the scheduler runs them
    at one slot: job name -> (outcome, detail)."""
    from datetime import timedelta

    from bot.clock.slot_runner import SlotRunner
    from storage.schedule_state import last_run

    repo = ContentRepo(tmp_path / "clone.git", str(tmp_path / "remote.git"), "main")
    rt = Runtime(config, engine, repo, PathFilter())
    client = make_client("xoxb-test", standin.url)
    specs = [s for s in build_jobs(rt, client, bot_user=None) if s.name.startswith("summary")]
    runner = SlotRunner(
        engine, specs, config.zone, lease_ttl=timedelta(seconds=60),
        notify=(told if told is not None else []).append, clock=lambda: NOW,
    )  # fmt: skip
    out = {}
    for spec in specs:
        runner.run_slot(spec, NOW, NOW)
        with engine.connect() as conn:
            run = last_run(conn, job=spec.name)
        assert run is not None
        out[spec.name] = (run.outcome, run.detail)
    return out


def text_of(blocks: list[dict]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_each_desk_gets_its_summary_and_the_newsroom_gets_all_grouped_by_desk(
    config: Config, engine: Engine, standin: SlackStandIn, tmp_path: Path
):
    night(engine)
    since = ("ok", "since 2026-11-25 09:00")  # no summary yet: the last 24 hours; each job's own
    assert run_summary_jobs(config, engine, standin, tmp_path) == {
        "summary:AI": since, "summary:Policy": since, "summary:all": since,
    }  # fmt: skip
    ai, policy, newsroom = standin.called("chat.postMessage")
    assert [c.params["channel"] for c in (ai, policy, newsroom)] == [AI, POLICY, NEWSROOM]

    # The AI desk: its cards (and the one of no desk: AI is the default desk), its emoji,
    # its quorum, its posting time.
    assert ai.params["text"] == ("Morning summary of the AI desk: 1 published, 2 waiting for votes")
    shown = text_of(blocks_of(ai))
    assert blocks_of(ai)[0]["text"]["text"] == "Morning summary · AI · Thursday 26 November"
    assert "AI audit published" in shown and "Model cards explained" in shown
    assert "Older card of no desk" in shown
    assert ":rocket: 1 · :x: 0 · 2 needed" in shown  # Bob's ✅ is no vote on this desk
    assert "Today's top candidates by topic* · 1, to be posted at 09:30" in shown
    assert "AI chips candidate" in shown
    assert "Zoning" not in shown and "Council" not in shown and "Transit" not in shown

    shown = text_of(blocks_of(policy))
    assert policy.params["text"] == (
        "Morning summary of the Policy desk: 1 rejected, 1 waiting for votes"
    )
    assert "Zoning change rejected" in shown and "Council budget vote" in shown
    assert ":white_check_mark: 1 · :x: 0 · 1 needed" in shown
    assert "to be posted at 11:00" in shown and "Transit levy candidate" in shown
    assert "AI audit" not in shown and "Model cards" not in shown and "AI chips" not in shown

    # The newsroom: a header per desk, in config order, each desk's cards under its own.
    blocks = blocks_of(newsroom)
    headers = [b["text"]["text"] for b in blocks if b["type"] == "header"]
    assert headers == ["Newsroom summary · Thursday 26 November", "AI", "Policy"]
    at_policy = next(i for i, b in enumerate(blocks) if b.get("text", {}).get("text") == "Policy")
    before, after = text_of(blocks[:at_policy]), text_of(blocks[at_policy:])
    assert "Model cards explained" in before and "AI chips candidate" in before
    assert "Council budget vote" in after and "Transit levy candidate" in after
    assert "Council" not in before and "Model cards" not in after
    assert "1 published · 1 rejected · 3 waiting for votes" in text_of(blocks[:2])
    assert newsroom.params["text"] == (
        "Newsroom summary: AI: 1 published, 2 waiting for votes; "
        "Policy: 1 rejected, 1 waiting for votes"
    )


def test_without_a_summary_channel_only_the_desks_get_one(
    tmp_path: Path, db_url: str, engine: Engine, standin: SlackStandIn
):
    data = desks(tmp_path, db_url, summary_channel=None)
    config = config_from_mapping(data, path=tmp_path / "c.yml", env={"DATABASE_URL": db_url})
    assert set(run_summary_jobs(config, engine, standin, tmp_path)) == {
        "summary:AI",
        "summary:Policy",
    }
    assert [c.params["channel"] for c in standin.called("chat.postMessage")] == [AI, POLICY]


def test_a_desk_slack_refuses_neither_stops_nor_stretches_the_others(
    config: Config, engine: Engine, standin: SlackStandIn, tmp_path: Path, caplog
):
    """Each summary is a job of its own: the refused desk's fails alone (told once, in one
    line, no traceback), the others go out and tomorrow start from today, not from the last
    morning every desk was posted."""
    night(engine)
    standin.refuse(lambda m: m["channel"] == POLICY, "not_in_channel")
    told: list[str] = []
    runs = run_summary_jobs(config, engine, standin, tmp_path, told)
    assert runs["summary:AI"][0] == runs["summary:all"][0] == "ok"
    outcome, detail = runs["summary:Policy"]
    assert outcome == "failed" and detail is not None
    assert "not_in_channel" in detail and "invite the bot" in detail
    assert len(told) == 1 and told[0].startswith(":warning: The summary:Policy job failed")
    assert not [r for r in caplog.records if r.exc_info], "a told failure is not a bug"
    posted = [c.params["channel"] for c in standin.called("chat.postMessage")]
    assert posted == [AI, POLICY, NEWSROOM]  # Policy was tried; the newsroom still went out
    assert set(ch for ch, _ in standin.messages) == {AI, NEWSROOM}
    # The next morning the AI desk's summary covers since this one; Policy's, since its last.
    from storage.schedule_state import last_run

    with engine.connect() as conn:
        ai, policy = (last_run(conn, job=j, outcome="ok") for j in ("summary:AI", "summary:Policy"))
    assert ai is not None and ai.slot.replace(tzinfo=UTC) == NOW
    assert policy is None


def test_curator_summary_refusals_are_one_line_each_and_the_rest_go_out(
    config: Config, engine: Engine, standin: SlackStandIn
):
    night(engine)
    standin.refuse(lambda m: m["channel"] == POLICY, "not_in_channel")
    with pytest.raises(SummaryError) as told:
        post_summary(
            engine, make_client("xoxb-test", standin.url), config, since=LAST, now=NOW
        ).check()
    assert str(told.value) == (
        "the Policy desk's summary was not posted to CPOLICY (desks[1].channel): Slack said "
        "not_in_channel; "
        "invite the bot to the channel (/invite @Newsroom Curator); posted: AI, newsroom"
    )


def test_a_lone_summary_refused_raises_slacks_own_error(
    config: Config, engine: Engine, standin: SlackStandIn
):
    from slack_sdk.errors import SlackApiError

    standin.refuse(lambda m: True, "not_in_channel")
    with pytest.raises(SlackApiError):
        post_summary(
            engine, make_client("xoxb-test", standin.url), config, since=LAST, now=NOW,
            desk=config.find_desk("policy"),
        )  # fmt: skip


@pytest.mark.parametrize("n_desks", [12, 30])
def test_the_newsroom_summary_fits_with_many_desks_and_many_cards(
    tmp_path: Path, db_url: str, engine: Engine, n_desks: int
):
    names = [f"Desk & {i:02d}" for i in range(n_desks)]
    data = desks(tmp_path, db_url)
    data["desks"] = [
        {"name": name, "channel": f"CDESK{i:02d}", "topics": [f"T{i}"]}
        for i, name in enumerate(names)
    ]
    config = config_from_mapping(data, path=tmp_path / "c.yml", env={"DATABASE_URL": db_url})
    long = "Long title " * 30
    with engine.begin() as conn:
        for i, name in enumerate(names[:12]):
            for j in range(14):
                for status in ("open", "rejected", "published"):
                    card(conn, name, f"CDESK{i:02d}", title=f"Story {i}-{j} {long}", status=status,
                         topics=(f"T{i}",), changed=H, commit=COMMIT, url="https://x.example/"
                         + "p" * 900 + f"{i}{j}{status}")  # fmt: skip
    with reading(engine) as conn:
        from bot.slack.summary import build_summary

        summaries = [build_summary(conn, config, since=LAST, now=NOW, desk=d) for d in config.desks]
    text, blocks = newsroom_message(summaries, config)
    assert message_problems(text, blocks, posted=True) == []
    dicts = [b.to_dict() for b in blocks]
    headers = [b["text"]["text"] for b in dicts if b["type"] == "header"]
    tip = dicts[-1]["elements"][0]["text"]
    if n_desks == 12:  # every desk under its own header, each with some of its cards
        assert headers[1:] == names
        for i in range(12):
            assert f"Story {i}-0 " in text_of(dicts), i
    else:  # the desks that do not fit are counted and sent to their channels
        assert headers[1] == names[0] and len(headers) < n_desks + 1
        assert f"{n_desks - len(headers) + 1} more desks did not fit" in tip
        assert "Desk &amp; 29" in tip or "more)" in tip
    assert "more lines did not fit in one Slack message" in tip


# ================================================================================ the CLI


@pytest.fixture
def cli_env(
    tmp_path: Path, db_url: str, engine: Engine, standin: SlackStandIn,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:  # fmt: skip
    import yaml

    path = tmp_path / "curator.yml"
    path.write_text(yaml.safe_dump(desks(tmp_path, db_url)))
    for key, value in {
        "DATABASE_URL": db_url, "CURATOR_CONFIG": str(path), "SLACK_API_URL": standin.url,
        "SLACK_BOT_TOKEN": "xoxb-test-not-real",
    }.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    return path


def test_curator_summary_desk_posts_that_desks_only(
    cli_env: Path, engine: Engine, standin: SlackStandIn
):
    out = curator("summary", "--desk", "policy")
    assert "posted the summary of Policy since " in out and " to CPOLICY (ts " in out
    assert [c.params["channel"] for c in standin.called("chat.postMessage")] == [POLICY]

    out = curator("summary", "--desk", "Science", code=1)
    assert "--desk Science: no such desk; the desks are: AI, Policy" in out

    out = curator("summary", "--dry-run", "--desk", "AI")
    assert out.startswith("Nothing was decided or published since ")
    out = curator("summary", "--dry-run")
    assert "── AI, to CAIDESK ──" in out and "── Policy, to CPOLICY ──" in out
    assert "── newsroom, to CNEWSROOM ──" in out and "Newsroom summary" not in out.split("──")[0]
    payload = json.loads(curator("summary", "--dry-run", "--json"))
    assert [m["channel"] for m in payload] == [AI, POLICY, NEWSROOM]

    standin.calls.clear()
    out = curator("summary")
    assert [c.params["channel"] for c in standin.called("chat.postMessage")] == [
        AI, POLICY, NEWSROOM
    ]  # fmt: skip
    assert "posted the summary of newsroom since " in out


def test_curator_summary_tells_a_refused_desk_in_one_line(
    cli_env: Path, engine: Engine, standin: SlackStandIn
):
    standin.refuse(lambda m: m["channel"] == AI, "channel_not_found")
    out = curator("summary", code=1)
    assert "posted the summary of Policy since " in out
    assert out.strip().splitlines()[-1] == (
        "Error: the AI desk's summary was not posted to CAIDESK (desks[0].channel): Slack said "
        "channel_not_found; check the channel in slack.channel or desks[].channel and invite "
        "the bot to it; posted: Policy, newsroom"
    )


def test_a_day_with_nothing_for_one_desk_says_so_in_the_newsroom(
    config: Config, engine: Engine, standin: SlackStandIn
):
    with engine.begin() as conn:
        card(conn, "AI", AI, title="Only AI waits", posted=D, changed=D)
    report = post_summary(
        engine, make_client("xoxb-test", standin.url), config, since=LAST, now=NOW
    )
    assert [s.where for s in report.sent] == ["AI", "Policy", "newsroom"]
    newsroom = blocks_of(standin.called("chat.postMessage")[-1])
    contexts = [b["elements"][0]["text"] for b in newsroom if b["type"] == "context"]
    assert "CPOLICY · Nothing was decided or published; no cards are waiting." in contexts
    assert any(c.startswith("CAIDESK · 1 waiting for votes") for c in contexts)
