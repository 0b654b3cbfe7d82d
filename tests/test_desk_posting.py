"""Desks through the real daily post: which desk takes an article, where its card goes, and
how each desk keeps its own per_day, emoji, posting time and votes. SQLite and PostgreSQL,
the local Slack stand-in over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.clock.jobs import build_jobs
from bot.clock.slot_runner import SlotRunner
from bot.config import Config, config_from_mapping
from bot.runtime import Runtime
from bot.slack import daily_post, day_plan
from bot.slack.client import make_client
from bot.slack.editors import editors_from
from bot.slack.voting import reconcile
from storage.fields import FieldMap
from storage.models import Post
from storage.pathfilter import PathFilter
from storage.scan import scan
from tests.helpers import Newsroom, article
from tests.slack_standin import SlackStandIn

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # a Thursday
AI = {"name": "AI", "channel": "CAI", "topics": ["ai"], "per_day": 1, "quorum": 1,
      "publish": ["rocket"], "reject": ["no_entry"], "editors": ["UALICE"]}  # fmt: skip
POLICY = {"name": "Policy", "channel": "CPOLICY", "topics": ["Policy"]}
GENERAL = {"name": "General", "channel": "CGENERAL"}  # no topics: the catch-all


def desks_config(
    tmp_path: Path, db_url: str, newsroom: Newsroom, *desks: dict, **extra: Any
) -> Config:
    return config_from_mapping(
        {
            "content": {"remote": str(newsroom.remote)},
            "slack": {"editors": ["UBOB"]},
            "votes": {"quorum": 2},
            "candidates": {"per_day": 5, "max_age_days": 100000},
            "desks": list(desks),
            **extra,
        },
        path=tmp_path / "curator.yml",
        env={"DATABASE_URL": db_url},
    )


def scanned(engine: Engine, newsroom: Newsroom, content_repo, **files: str) -> None:
    for name, text in files.items():
        newsroom.write(f"{name}.md", text)
    newsroom.commit()
    content_repo.fetch()
    scan(engine, content_repo, FieldMap(), PathFilter())


def client(standin: SlackStandIn) -> WebClient:
    return make_client("xoxb-test-token", standin.url)


def cards(engine: Engine) -> list[tuple[str, str, str]]:
    """(article path, desk, channel) of every card, in planning order."""
    from storage.models import Article

    p, a = Post.__table__, Article.__table__
    query = select(a.c.path, p.c.desk, p.c.channel).join(a, a.c.id == p.c.article_id)
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(query.order_by(p.c.id))]


def posted_in(standin: SlackStandIn, channel: str) -> list[str]:
    return [
        c.params["text"]
        for c in standin.called("chat.postMessage")
        if c.params["channel"] == channel
    ]


def post_every_desk(engine: Engine, standin: SlackStandIn, config: Config, now: datetime = NOW):
    return {
        d.name: daily_post.post_day(engine, client(standin), config, now, d) for d in config.desks
    }


def test_first_desk_listing_a_topic_takes_it_any_case_and_the_catch_all_the_rest(
    tmp_path, db_url, engine, newsroom, content_repo, standin
):
    config = desks_config(tmp_path, db_url, newsroom, AI, POLICY, GENERAL)
    scanned(
        engine, newsroom, content_repo,
        both=article("Both", topics=("AI", "Policy"), quality=90),  # AI is listed first
        rules=article("Rules", topics=("POLICY",), quality=80),  # any case
        sport=article("Sport", topics=("Football",), quality=70),  # nobody's: the catch-all
        untagged=article("Untagged", topics=(), quality=60),
    )  # fmt: skip
    reports = post_every_desk(engine, standin, config)
    assert {name: r.posted for name, r in reports.items()} == {"AI": 1, "Policy": 1, "General": 2}
    assert cards(engine) == [
        ("both.md", "AI", "CAI"),
        ("rules.md", "Policy", "CPOLICY"),
        ("sport.md", "General", "CGENERAL"),
        ("untagged.md", "General", "CGENERAL"),
    ]
    assert len(posted_in(standin, "CAI")) == 1 and len(posted_in(standin, "CGENERAL")) == 2


def test_an_article_no_desk_takes_is_posted_nowhere_and_counted(
    tmp_path, db_url, engine, newsroom, content_repo, standin
):
    config = desks_config(tmp_path, db_url, newsroom, AI, POLICY)  # no catch-all desk
    scanned(
        engine, newsroom, content_repo,
        rules=article("Rules", topics=("Policy",)), sport=article("Sport", topics=("Football",)),
    )  # fmt: skip
    reports = post_every_desk(engine, standin, config)
    assert cards(engine) == [("rules.md", "Policy", "CPOLICY")]
    assert len(standin.called("chat.postMessage")) == 1
    # The AI desk has none today, and says why: one for another desk, one for no desk.
    assert reports["AI"].posted == 0
    assert reports["AI"].why_none == (
        "no candidates today: 2 unpublished; 1 for other desks, 1 on no desk's topics"
    )
    assert reports["Policy"].why_none is None


def test_one_card_per_story_across_desks(tmp_path, db_url, engine, newsroom, content_repo, standin):
    """The same URL in an AI article and a Policy article: the first desk to post takes the
    story, the other desk does not post it again."""
    config = desks_config(tmp_path, db_url, newsroom, AI, POLICY)
    url = "https://example.org/one-story"
    scanned(
        engine, newsroom, content_repo,
        ai=article("As AI", topics=("AI",), url=url),
        policy=article("As policy", topics=("Policy",), url=url),
    )  # fmt: skip
    reports = post_every_desk(engine, standin, config)
    assert cards(engine) == [("ai.md", "AI", "CAI")]
    assert len(standin.called("chat.postMessage")) == 1
    assert reports["Policy"].why_none == (
        "no candidates today: 2 unpublished; 1 already posted, "
        "1 repeating a story already published or posted"
    )
    # The other order: the Policy desk posts first (its own time), then the AI desk.
    later = NOW + timedelta(days=1)
    scanned(
        engine, newsroom, content_repo,
        ai2=article("Again as AI", topics=("AI",), url=url + "-2"),
        policy2=article("Again as policy", topics=("Policy",), url=url + "-2"),
    )  # fmt: skip
    for name in ("Policy", "AI"):
        daily_post.post_day(engine, client(standin), config, later, config.find_desk(name))
    assert cards(engine)[1:] == [("policy2.md", "Policy", "CPOLICY")]


def test_desks_plan_one_at_a_time_across_processes(
    tmp_path, db_url, engine, newsroom, content_repo
):
    """Two desks planning at once would each read the pool before the other wrote its plan,
    and could both offer one story: planning holds the database's "plan" lock (an operator's
    `curator post --desk` beside the scheduler's job waits for it)."""
    import threading

    from storage.locks import run_lock

    config = desks_config(tmp_path, db_url, newsroom, AI, POLICY)
    scanned(engine, newsroom, content_repo, p1=article("Policy one", topics=("Policy",)))
    planned: list[list[int]] = []
    policy = config.find_desk("Policy")
    planner = threading.Thread(
        target=lambda: planned.append(daily_post.plan_day(engine, config, NOW, "CP", policy)[0])
    )
    with run_lock(engine, "plan"):  # another process planning its desk
        planner.start()
        planner.join(timeout=1.5)
        assert planner.is_alive() and planned == [] and cards(engine) == []
    planner.join(timeout=30)
    assert len(planned[0]) == 1 and cards(engine) == [("p1.md", "Policy", "CP")]


def test_a_plan_that_waits_too_long_fails_in_one_line_not_a_silent_skip(
    tmp_path, db_url, engine, newsroom, content_repo, monkeypatch
):
    """The slot runner reads Busy as "another process does this very work" and skips the
    slot quietly; a desk's day left unplanned must be told instead."""
    from bot.outages import Told, explain
    from storage.locks import run_lock

    config = desks_config(tmp_path, db_url, newsroom, AI, POLICY)
    monkeypatch.setattr(day_plan, "PLAN_WAIT", 0.2)
    with run_lock(engine, "plan"), pytest.raises(Told) as told:
        daily_post.plan_day(engine, config, NOW, "CP", config.find_desk("Policy"))
    line = explain(told.value, database_url=None, slack_api_url=None)
    assert line is not None and line.startswith("the Policy desk's day was not planned: another")
    assert line.endswith("it is planned at the next run of its post job or `curator post --desk`")


def test_each_desk_posts_in_its_channel_with_its_per_day_and_emoji(
    tmp_path, db_url, engine, newsroom, content_repo, standin
):
    config = desks_config(tmp_path, db_url, newsroom, AI, GENERAL)
    scanned(
        engine, newsroom, content_repo,
        a1=article("AI one", topics=("AI",), quality=90),
        a2=article("AI two", topics=("AI",), quality=80),
        g1=article("General one", topics=("Food",)), g2=article("General two", topics=("Food",)),
    )  # fmt: skip
    post_every_desk(engine, standin, config)
    assert len(posted_in(standin, "CAI")) == 1  # the AI desk's per_day
    assert len(posted_in(standin, "CGENERAL")) == 2  # the shared per_day
    marks = {(c.params["channel"], c.params["name"]) for c in standin.called("reactions.add")}
    assert marks == {
        ("CAI", "rocket"), ("CAI", "no_entry"), ("CGENERAL", "white_check_mark"), ("CGENERAL", "x"),
    }  # fmt: skip
    ai_card = next(c for c in standin.called("chat.postMessage") if c.params["channel"] == "CAI")
    assert ":rocket:" in str(ai_card.params["blocks"])


def test_changing_a_desks_topics_moves_no_card(
    tmp_path, db_url, engine, newsroom, content_repo, standin
):
    config = desks_config(tmp_path, db_url, newsroom, AI, GENERAL)
    scanned(engine, newsroom, content_repo, a=article("AI one", topics=("AI",)))
    post_every_desk(engine, standin, config)
    assert cards(engine) == [("a.md", "AI", "CAI")]
    # The AI desk now takes robots only: the card stays the AI desk's, and its vote counts
    # there, by that desk's emoji and editors (quorum 1).
    moved = desks_config(tmp_path, db_url, newsroom, {**AI, "topics": ["Robots"]}, GENERAL)
    post_every_desk(engine, standin, moved, NOW + timedelta(days=1))
    assert cards(engine) == [("a.md", "AI", "CAI")]
    ts = next(ts for (channel, ts) in standin.messages if channel == "CAI")
    standin.react("CAI", ts, "rocket", "UALICE")
    report = reconcile(
        engine, client(standin), moved, NOW + timedelta(days=1, hours=1), bot_user="UCURATOR",
        editors=editors_from(moved),
    )  # fmt: skip
    assert report.changed == 1
    with engine.connect() as conn:
        status = conn.scalar(select(Post.__table__.c.status))
    assert status == "approved"


# --- posting times --------------------------------------------------------------------------


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


OTHER_JOBS_OFF = {
    "schedule": {
        name: "off" for name in ("refresh", "publish", "summary", "reconcile", "expire", "remind")
    }
}


def test_each_desk_posts_at_its_own_time_and_only_its_own_cards(
    tmp_path, db_url, engine, newsroom, content_repo, standin
):
    config = desks_config(
        tmp_path, db_url, newsroom,
        {**AI, "post": "0 9 * * *"}, {**POLICY, "post": "0 14 * * *"}, {**GENERAL, "post": "off"},
        **OTHER_JOBS_OFF,
    )  # fmt: skip
    scanned(
        engine, newsroom, content_repo,
        a=article("AI one", topics=("AI",)), p=article("Policy one", topics=("Policy",)),
        g=article("General one", topics=("Food",)),
    )  # fmt: skip
    rt = Runtime(config, engine, content_repo, PathFilter())
    specs = build_jobs(rt, client(standin), bot_user=None)
    assert [s.name for s in specs] == ["post:AI", "post:Policy"]  # General: post off, no job
    clock = Clock(NOW)
    runner = SlotRunner(engine, specs, config.zone, lease_ttl=timedelta(seconds=60), clock=clock)
    assert runner.heartbeat()  # 09:00: the AI desk's slot
    assert cards(engine) == [("a.md", "AI", "CAI")]
    clock.now = NOW.replace(hour=14)
    assert runner.fire("post:Policy") == "ok"
    assert runner.fire("post:Policy") is None and runner.fire("post:AI") is None  # once
    assert cards(engine) == [("a.md", "AI", "CAI"), ("p.md", "Policy", "CPOLICY")]
    assert posted_in(standin, "CGENERAL") == []


def test_a_desk_with_no_candidates_says_why_in_its_job_detail(
    tmp_path, db_url, engine, newsroom, content_repo, standin
):
    config = desks_config(
        tmp_path, db_url, newsroom, {**AI, "post": "0 9 * * *"}, {**POLICY, "post": "0 9 * * *"},
        **OTHER_JOBS_OFF,
    )  # fmt: skip
    scanned(
        engine, newsroom, content_repo,
        p=article("Policy one", topics=("Policy",)), s=article("Sport", topics=("Football",)),
    )  # fmt: skip
    rt = Runtime(config, engine, content_repo, PathFilter())
    specs = {s.name: s for s in build_jobs(rt, client(standin), bot_user=None)}
    from bot.clock.slot_runner import JobContext

    ctx = JobContext(slot=NOW, now=NOW, last_ok=None)
    assert specs["post:AI"].run(ctx) == (
        "no candidates today: 2 unpublished; 1 for other desks, 1 on no desk's topics"
    )
    assert specs["post:Policy"].run(ctx) == "1 posted, 0 already there"


@pytest.mark.parametrize("desk_post", [None, "off"])
def test_the_implicit_desk_keeps_the_post_job(tmp_path, newsroom, desk_post):
    """A config without desks: one job named "post", switched off by schedule.post."""
    schedule = {
        name: "off" for name in ("refresh", "publish", "summary", "reconcile", "expire", "remind")
    }
    if desk_post:
        schedule["post"] = desk_post
    config = config_from_mapping(
        {"content": {"remote": str(newsroom.remote)}, "slack": {"channel": "#curation"},
         "schedule": schedule},
        path=tmp_path / "curator.yml", env={"DATABASE_URL": f"sqlite:///{tmp_path}/c.db"},
    )  # fmt: skip
    rt = Runtime(config, None, None, PathFilter())  # type: ignore[arg-type]
    names = [s.name for s in build_jobs(rt, None, bot_user=None)]  # type: ignore[arg-type]
    assert names == ([] if desk_post else ["post"])
