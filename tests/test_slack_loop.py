"""A day of curation over real HTTP: scan, post, vote, replay, reconcile.

The bot talks to a local stand-in for Slack's Web API; Slack-signed events go into the
bot's HTTP endpoint under the production WSGI server. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bot.config import Config, config_from_mapping
from bot.slack import daily_post
from bot.slack.client import make_client
from bot.slack.editors import editors_from
from bot.slack.voting import expire_posts, reconcile
from storage.fields import FieldMap
from storage.models import Decision, Post, Vote
from storage.pathfilter import PathFilter
from storage.scan import scan
from tests.helpers import Newsroom, article
from tests.slack_requests import reaction_event, send_event, serve_bot
from tests.slack_standin import BOT_USER, SlackStandIn

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
EDITORS = ("UALICE", "UBOB")
GROUP_MEMBER = "UCAROL"
OUTSIDER = "UMALLORY"
CH = "CCURATION"


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    s = SlackStandIn(
        users={"UALICE": "Alice", "UBOB": "Bob", "UCAROL": "Carol", "UMALLORY": "Mallory"},
        groups={"SEDITORS": [GROUP_MEMBER]},
    ).start()
    yield s
    s.stop()


@pytest.fixture
def config(tmp_path: Path, db_url: str, newsroom: Newsroom) -> Config:
    return config_from_mapping(
        {
            "content": {"remote": str(newsroom.remote)},
            "slack": {"channel": "#curation", "editors": list(EDITORS), "editor_group": "SEDITORS"},
            "votes": {"quorum": 2, "window_days": 3},
            "candidates": {"per_day": 3, "max_age_days": 100000},
        },
        path=tmp_path / "curator.yml",
        env={"DATABASE_URL": db_url},
    )


@pytest.fixture
def day(engine: Engine, newsroom: Newsroom, content_repo) -> None:
    """A content repo with four candidates (one with a hostile title) and one live article."""
    newsroom.write("a.md", article("Alpha", quality=90))
    newsroom.write("b.md", article("Beta <!channel> & <https://evil.example|click>", quality=80))
    newsroom.write("c.md", article("Gamma", quality=70))
    newsroom.write("d.md", article("Delta", quality=10))
    newsroom.write("live.md", article("Live", published=True))
    newsroom.commit()
    content_repo.fetch()
    scan(engine, content_repo, FieldMap(), PathFilter())


@pytest.fixture
def endpoint(config: Config, engine: Engine, standin: SlackStandIn) -> Iterator[str]:
    with serve_bot(config, engine, standin.url) as url:
        yield url


def eventually(check: Callable[[], object], timeout: float = 10) -> None:
    """Listeners run after the ack; wait for their effect."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            assert check()
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def posts(engine: Engine) -> dict[str, object]:
    with engine.connect() as conn:
        return {r.ts: r for r in conn.execute(select(Post.__table__).order_by(Post.__table__.c.id))}


REFRESH_QUIET = 1.3  # a little over the card refresher's interval


def decisions_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Decision.__table__)).scalar_one()


def votes_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Vote.__table__)).scalar_one()


def mrkdwn_of(blocks: object) -> str:
    """All text Slack renders as mrkdwn (plain_text and alt_text are never parsed)."""
    if isinstance(blocks, dict):
        own = blocks.get("text", "") if blocks.get("type") == "mrkdwn" else ""
        return own + "".join(mrkdwn_of(v) for v in blocks.values())
    if isinstance(blocks, list):
        return "".join(mrkdwn_of(v) for v in blocks)
    return ""


def client(standin: SlackStandIn) -> WebClient:
    return make_client("xoxb-test-token", standin.url)


def test_a_day_of_curation(day, config, engine, standin, endpoint):
    report = daily_post.post_day(engine, client(standin), config, NOW)
    assert (report.planned, report.posted, report.remaining) == (3, 3, 0)
    sent = standin.called("chat.postMessage")
    assert len(sent) == 3
    assert all(c.params["channel"] == CH for c in sent)
    # Best first; the hostile title is inert.
    hostile = mrkdwn_of(sent[1].params["blocks"]) + sent[1].params["text"]
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example¦click&gt;" in hostile
    assert "<!channel>" not in hostile and "<https://evil.example" not in hostile
    assert "Alpha" in str(sent[0].params["blocks"])
    # The bot seeds its own buttons on every card and says they are not votes.
    assert len(standin.called("reactions.add")) == 6
    assert "not votes" in str(sent[0].params["blocks"])
    card = next(iter(posts(engine)))
    assert posts(engine)[card].permalink.startswith("https://newsroom.slack.com/archives/")

    def vote(kind: str, user: str, emoji: str, at: str, ts: str = card) -> int:
        return send_event(
            endpoint,
            reaction_event(kind, user=user, reaction=emoji, channel=CH, ts=ts, event_ts=at),
        )

    updates = lambda: len(standin.called("chat.update"))  # noqa: E731
    shown = lambda: mrkdwn_of(standin.messages[(CH, card)]["blocks"])  # noqa: E731

    def settled() -> int:
        """Card updates are coalesced (at most one per card per second): wait them out."""
        time.sleep(REFRESH_QUIET)
        return updates()

    assert vote("reaction_added", "UALICE", "white_check_mark", "1800000100.000001") == 200
    eventually(lambda: "(<@UALICE>)" in shown())
    assert posts(engine)[card].status == "open" and "*Open*" in shown()

    # Not votes: an outsider, the bot itself, an emoji that means nothing.
    assert vote("reaction_added", OUTSIDER, "white_check_mark", "1800000101.000001") == 200
    assert vote("reaction_added", BOT_USER, "white_check_mark", "1800000102.000001") == 200
    assert vote("reaction_added", "UBOB", "tada", "1800000103.000001") == 200
    before = settled()
    assert votes_count(engine) == 1 and settled() == before

    # Quorum: Bob approves (skin tone and all).
    vote("reaction_added", "UBOB", "white_check_mark::skin-tone-3", "1800000104.000001")
    eventually(lambda: posts(engine)[card].status == "approved")
    eventually(lambda: "*Approved*" in shown() and "<@UBOB>" in shown())

    # Carol (via the user group) rejects: 2 publish vs 1 reject, still approved.
    vote("reaction_added", GROUP_MEMBER, "x", "1800000105.000001")
    eventually(lambda: votes_count(engine) == 3)
    assert posts(engine)[card].status == "approved"

    # Bob changes his mind: his later ❌ replaces his ✅ -> 1 vs 2, rejected.
    vote("reaction_added", "UBOB", "x", "1800000106.000001")
    eventually(lambda: posts(engine)[card].status == "rejected")

    eventually(lambda: "*Rejected*" in shown())

    # A replayed (duplicate) event and a stale, out-of-order one change nothing.
    before, decisions = settled(), decisions_count(engine)
    vote("reaction_added", "UBOB", "x", "1800000106.000001")
    vote("reaction_removed", "UBOB", "x", "1800000090.000001")  # older than his add
    assert settled() == before and decisions_count(engine) == decisions
    assert posts(engine)[card].status == "rejected"

    # Bob removes his ❌: his ✅ is still on the message, so it counts again -> approved.
    vote("reaction_removed", "UBOB", "x", "1800000107.000001")
    eventually(lambda: posts(engine)[card].status == "approved")

    # Out of order: Alice's remove (later) arrives before her re-add (earlier).
    vote("reaction_removed", "UALICE", "white_check_mark", "1800000109.000001")
    vote("reaction_added", "UALICE", "white_check_mark", "1800000108.000001")
    eventually(lambda: posts(engine)[card].status == "open")  # only Bob's ✅ left vs Carol's ❌
    eventually(lambda: "*Open*" in shown() and "<@UALICE>" not in shown())
    assert updates() <= 6  # never more than one update per counted vote

    with engine.connect() as conn:
        causes = [r.cause for r in conn.execute(select(Decision.__table__))]
    assert causes.count("posted") == 3 and "vote by UBOB" in causes


def test_forged_and_stale_requests_are_refused(day, config, engine, standin, endpoint):
    daily_post.post_day(engine, client(standin), config, NOW)
    card = next(iter(posts(engine)))
    payload = reaction_event(
        "reaction_added", user="UALICE", reaction="white_check_mark", channel=CH, ts=card,
        event_ts="1800000100.000001",
    )  # fmt: skip
    assert send_event(endpoint, payload, secret="not-the-secret") == 401
    assert send_event(endpoint, payload, timestamp=int(time.time()) - 3600) == 401
    time.sleep(0.2)
    assert votes_count(engine) == 0
    assert standin.called("chat.update") == []


def test_healthz(endpoint):
    import json
    import urllib.request

    with urllib.request.urlopen(endpoint.replace("/slack/events", "/healthz")) as r:
        assert r.status == 200
        report = json.loads(r.read())
    assert report["status"] == "ok" and report["database"] == {"state": "ok"}
    assert report["slack"]["state"] == "ok"


def test_rate_limit_mid_post_resumes_without_a_double(day, config, engine, standin):
    # One 429 (Retry-After: 1) on the second card: the client waits it out.
    standin.fail("chat.postMessage", status=429, retry_after=1, skip=1)
    report = daily_post.post_day(engine, client(standin), config, NOW)
    assert (report.posted, report.remaining) == (3, 0)
    # Slack keeps failing on the third card: the run stops, a rerun resumes.
    with engine.begin() as conn:
        conn.execute(Post.__table__.update().values(ts=None).where(Post.__table__.c.id == 3))
    standin.messages.clear()
    standin.fail("chat.postMessage", status=500, retry_after=None, times=10)
    stopped = daily_post.post_day(engine, client(standin), config, NOW)
    assert (stopped.posted, stopped.remaining) == (0, 1) and stopped.error
    standin.failures.clear()
    resumed = daily_post.post_day(engine, client(standin), config, NOW)
    assert (resumed.posted, resumed.already, resumed.remaining) == (1, 2, 0)
    again = daily_post.post_day(engine, client(standin), config, NOW)
    assert (again.posted, again.already) == (0, 3)


def test_crash_after_posting_adopts_the_message(day, config, engine, standin):
    """A run that posted a card but died before saving its ts: the rerun finds it in Slack."""
    first = daily_post.post_day(engine, client(standin), config, NOW)
    assert first.posted == 3
    ts_before = set(posts(engine))
    with engine.begin() as conn:  # lose the record of the second card, as a crash would
        conn.execute(Post.__table__.update().values(ts=None).where(Post.__table__.c.id == 2))
    rerun = daily_post.post_day(engine, client(standin), config, NOW)
    assert (rerun.posted, rerun.already) == (0, 3)
    assert set(posts(engine)) == ts_before
    assert len(standin.called("chat.postMessage")) == 3


def test_reconcile_counts_votes_cast_while_down(day, config, engine, standin):
    daily_post.post_day(engine, client(standin), config, NOW)
    card = next(iter(posts(engine)))
    standin.react(CH, card, "white_check_mark", "UALICE")
    standin.react(CH, card, "white_check_mark", GROUP_MEMBER)
    standin.react(CH, card, "white_check_mark", OUTSIDER)  # not an editor: ignored
    editors = editors_from(config)
    report = reconcile(engine, client(standin), config, NOW, bot_user=BOT_USER, editors=editors)
    assert (report.checked, report.changed) == (3, 1)
    assert posts(engine)[card].status == "approved"
    assert len(standin.called("reactions.get")) == 3
    # Alice took hers back while the bot was down again.
    standin.unreact(CH, card, "white_check_mark", "UALICE")
    later = NOW + timedelta(minutes=10)
    reconcile(engine, client(standin), config, later, bot_user=BOT_USER, editors=editors)
    assert posts(engine)[card].status == "open"
    # Nothing changed since: nothing is written, no message is updated.
    updates = len(standin.called("chat.update"))
    later = later + timedelta(minutes=10)
    again = reconcile(engine, client(standin), config, later, bot_user=BOT_USER, editors=editors)
    assert again.changed == 0 and len(standin.called("chat.update")) == updates


def test_open_posts_expire_after_the_window(day, config, engine, standin):
    daily_post.post_day(engine, client(standin), config, NOW)
    assert expire_posts(engine, client(standin), config, NOW + timedelta(days=2)) == 0
    assert expire_posts(engine, client(standin), config, NOW + timedelta(days=3, hours=1)) == 3
    assert {p.status for p in posts(engine).values()} == {"expired"}
    assert "Expired" in str(standin.called("chat.update")[-1].params["blocks"])


def test_published_cards_show_their_commit(day, config, engine, standin, newsroom, tmp_path):
    """The publish job pushes the approved article and its card links the commit."""
    from dataclasses import replace

    from bot.clock.jobs import publish_and_tell
    from bot.runtime import Runtime
    from storage.gitrepo import ContentRepo

    config = replace(
        config,
        content=replace(config.content, commit_url="https://git.example/c/{sha}"),
    )
    daily_post.post_day(engine, client(standin), config, NOW)
    card = next(iter(posts(engine)))
    standin.users.update({"UALICE": "Alice", "UBOB": "Bob"})
    for user in ("UALICE", "UBOB"):
        standin.react(CH, card, "white_check_mark", user)
    editors = editors_from(config)
    reconcile(engine, client(standin), config, NOW, bot_user=BOT_USER, editors=editors)
    assert posts(engine)[card].status == "approved"

    repo = ContentRepo(tmp_path / "publish-clone.git", str(newsroom.remote), newsroom.branch)
    runtime = Runtime(config, engine, repo, PathFilter())
    report = publish_and_tell(runtime, client(standin), NOW)
    sha = report.commit_sha
    assert sha and posts(engine)[card].status == "published"
    shown = mrkdwn_of(standin.messages[(CH, card)]["blocks"])
    assert f"*Published* in <https://git.example/c/{sha}|{sha[:7]}>" in shown
    message = subprocess.run(
        ["git", "--git-dir", str(newsroom.remote), "log", "-1", "--format=%B"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "Approved-by: Alice <UALICE>" in message and "Approved-by: Bob <UBOB>" in message
    assert "Slack-Thread: https://newsroom.slack.com/archives/" in message


def test_a_failing_publish_tells_the_channel_once(day, config, engine, standin, tmp_path):
    from bot.clock.jobs import build_jobs
    from bot.clock.slot_runner import SlotRunner
    from bot.runtime import Runtime
    from storage.gitrepo import ContentRepo

    broken = ContentRepo(tmp_path / "clone.git", str(tmp_path / "gone.git"), "main")
    runtime = Runtime(config, engine, broken, PathFilter())
    specs = [
        s for s in build_jobs(runtime, client(standin), bot_user=BOT_USER) if s.name == "publish"
    ]
    told: list[str] = []
    cw = SlotRunner(
        engine, specs, config.zone, lease_ttl=timedelta(seconds=60), notify=told.append,
        clock=lambda: NOW,
    )  # fmt: skip
    cw.leader = True
    for hour in (1, 2):
        slot = NOW.replace(hour=hour, minute=0)
        assert cw.run_slot(specs[0], slot, slot) == "failed"
    assert len(told) == 1
    assert told[0].startswith(":warning: The publish job failed: cannot fetch main from ")


def test_a_failing_job_tells_the_channel_without_secrets_or_markup(
    day, config, engine, standin, tmp_path
):
    """Issue 9 review: a job's failure went to Slack as ``str(exc)`` with only ``& < >``
    escaped: an environment secret, a token or a ``?password=`` that git quoted was posted,
    and ``*bold*`` or ``:x:`` rendered. The notice now passes the process's scrubber and
    ``bot.slack.text.mrkdwn``, as does the reason kept for ``curator status``."""
    from bot.clock.jobs import build_slot_runner
    from bot.runtime import Runtime
    from storage.credentials import Scrubber
    from storage.gitrepo import ContentRepo
    from storage.schedule_state import last_run

    signing = "8f14e45fceea167a5a36dedd4bea2543"  # no shape: known only from the environment
    gone = tmp_path / "gone" / signing / "ghp_DoNotLeak0123456789abcdef" / "*news* :x: <!here>"
    remote = f"{gone}?password=hunter2x"
    runtime = Runtime(config, engine, ContentRepo(tmp_path / "c.git", remote, "main"), PathFilter())
    scrub = Scrubber({"SLACK_SIGNING_SECRET": signing})
    cw = build_slot_runner(runtime, client(standin), bot_user=BOT_USER, scrub=scrub)
    cw.leader = True

    assert cw.run_slot(cw.specs["publish"], NOW, NOW) == "failed"

    (call,) = standin.called("chat.postMessage")
    told = call.params["text"]
    assert told.startswith(":warning: The publish job failed: cannot fetch main from ")
    for secret in (signing, "DoNotLeak", "hunter2x"):
        assert secret not in told
    assert "\u2217news\u2217 \u2236x: &lt;!here&gt;" in told  # shown, not rendered
    with engine.connect() as conn:
        detail = last_run(conn, job="publish").detail
    assert detail and "***" in detail
    assert not any(secret in detail for secret in (signing, "DoNotLeak", "hunter2x"))


def test_a_5xx_on_posting_is_not_resent_in_the_same_run(day, config, engine, standin):
    """Slack may have posted the card before the 500: stop, and let the next run adopt it."""
    standin.fail("chat.postMessage", status=500, retry_after=None, skip=1, times=1)
    first = daily_post.post_day(engine, client(standin), config, NOW)
    assert (first.posted, first.remaining) == (1, 2) and first.error
    assert len(standin.called("chat.postMessage")) == 2  # the failed one was sent once
    later = daily_post.post_day(engine, client(standin), config, NOW)
    assert (later.posted, later.already, later.remaining) == (2, 1, 0)


def test_cards_of_an_earlier_day_that_never_posted_return_to_the_pool(day, config, engine, standin):
    standin.fail("chat.postMessage", status=500, retry_after=None, times=10)
    stopped = daily_post.post_day(engine, client(standin), config, NOW)
    assert stopped.posted == 0 and stopped.remaining == 3
    standin.failures.clear()
    tomorrow = daily_post.post_day(engine, client(standin), config, NOW + timedelta(days=1))
    assert tomorrow.posted == 3  # the same three stories, offered again the next day
    assert {p.day for p in posts(engine).values()} == {"2026-11-27"}


def test_a_day_without_candidates_says_why_in_the_post_job(day, config, engine, standin):
    """The post job's line (logged, and kept for `curator status`) gives the counts."""
    import dataclasses

    from bot.clock.jobs import build_jobs
    from bot.clock.slot_runner import SlotRunner
    from bot.runtime import Runtime
    from storage.schedule_state import last_run

    strict = dataclasses.replace(
        config, candidates=dataclasses.replace(config.candidates, topics=("Sports",))
    )
    runtime = Runtime(strict, engine, None, PathFilter())  # type: ignore[arg-type]
    (spec,) = [
        s for s in build_jobs(runtime, client(standin), bot_user=BOT_USER) if s.name == "post"
    ]
    cw = SlotRunner(
        engine, [spec], strict.zone, lease_ttl=timedelta(seconds=60), notify=lambda _: None,
        clock=lambda: NOW,
    )  # fmt: skip
    cw.leader = True
    assert cw.run_slot(spec, NOW, NOW) == "ok"
    with engine.connect() as conn:
        run = last_run(conn, job="post")
    assert run is not None
    assert run.detail == "no candidates today: 4 unpublished; 4 not on a listed topic"
    assert standin.called("chat.postMessage") == []


def test_a_resumed_post_adopts_only_its_own_cards(
    day, config, engine, standin, content_repo, tmp_path
):
    """Issue 9, item 12: staging posts its cards to the same channel first; production
    planned its day (the same post ids) and stopped before daily_post. Its rerun must post its
    own cards, not bind its posts to staging's cards of the same ids."""
    from storage import migrate
    from storage.db import make_engine

    staging = make_engine(f"sqlite:///{tmp_path / 'staging.db'}")
    migrate.upgrade(staging)
    scan(staging, content_repo, FieldMap(), PathFilter())
    assert daily_post.post_day(staging, client(standin), config, NOW).posted == 3
    staging_cards = {ts for (_, ts) in standin.messages}

    channel = daily_post.resolve_channel(client(standin), config.slack.channel)
    ids, fresh = daily_post.plan_day(engine, config, NOW, channel)
    assert fresh and len(ids) == 3  # ... and the run dies here
    rerun = daily_post.post_day(engine, client(standin), config, NOW)
    assert (rerun.posted, rerun.already) == (3, 0)
    assert set(posts(engine)).isdisjoint(staging_cards)
    assert len(standin.called("chat.postMessage")) == 6
    staging.dispose()


def test_cards_without_an_installation_id_are_not_adopted(day, config, engine, standin):
    """A card posted by an older version carries only the post id: it may be another
    database's, so it is not adopted (the post gets a card of its own)."""
    daily_post.post_day(engine, client(standin), config, NOW)
    with engine.begin() as conn:  # the run that posted post 2 died before saving its ts
        old_ts = conn.execute(select(Post.__table__.c.ts).where(Post.__table__.c.id == 2))
        old_ts = old_ts.scalar_one()
        conn.execute(Post.__table__.update().values(ts=None).where(Post.__table__.c.id == 2))
    standin.messages[(CH, old_ts)]["metadata"]["event_payload"] = {"post_id": 2}
    rerun = daily_post.post_day(engine, client(standin), config, NOW)
    assert (rerun.posted, rerun.already) == (1, 2)
    with engine.connect() as conn:
        new_ts = conn.scalar(select(Post.__table__.c.ts).where(Post.__table__.c.id == 2))
    assert new_ts != old_ts


def test_slack_away_while_serving_costs_a_line_not_a_vote(
    day, config, engine, standin, endpoint, caplog
):
    """Slack's Web API goes away after start: events are still acked and votes recorded;
    the failed card update is one line; /healthz says Slack is down, with 200."""
    import json
    import logging
    import urllib.request

    caplog.set_level(logging.INFO)
    daily_post.post_day(engine, client(standin), config, NOW)
    card = next(iter(posts(engine)))
    standin.stop()
    event = reaction_event(
        "reaction_added", user="UALICE", reaction="white_check_mark", channel=CH, ts=card,
        event_ts="1800000100.000001",
    )  # fmt: skip
    assert send_event(endpoint, event) == 200
    eventually(lambda: votes_count(engine) == 1)
    eventually(lambda: "could not update message" in caplog.text)
    with urllib.request.urlopen(endpoint.replace("/slack/events", "/healthz")) as r:
        assert r.status == 200
        report = json.loads(r.read())
    assert report["status"] == "degraded" and report["slack"]["state"] == "down"
    line = next(r for r in caplog.records if "could not update message" in r.getMessage())
    assert "Connection refused" in line.getMessage()
    assert not any(r.exc_info for r in caplog.records if r.levelno >= logging.WARNING)


def test_another_apps_message_is_never_adopted_nor_stops_the_post(day, config, engine, standin):
    """Any app can post metadata under our event type: a payload of another shape, or a copy
    of one of our cards' metadata (installation id included) posted by someone else, is not
    ours. Before, a list as the post id stopped the resumed post with a TypeError, and a copy
    was adopted as the card."""
    daily_post.post_day(engine, client(standin), config, NOW)
    with engine.begin() as conn:  # the run that posted post 1 died before saving its ts
        ts = conn.scalar(select(Post.__table__.c.ts).where(Post.__table__.c.id == 1))
        conn.execute(Post.__table__.update().values(ts=None).where(Post.__table__.c.id == 1))
    ours = standin.messages.pop((CH, ts))  # ... and its card is gone from the channel
    forged = {**ours, "user": "UMALLORY", "bot_id": "BMALLORY", "ts": "1800000100.000100"}
    standin.messages[(CH, forged["ts"])] = forged
    for i, payload in enumerate([{"post_id": [1]}, "not json", ["post_id", 1], {"post_id": True}]):
        odd = {"event_type": daily_post.METADATA_TYPE, "event_payload": payload}
        standin.messages[(CH, f"18000002{i:02}.000100")] = {
            "user": BOT_USER,
            "text": "odd",
            "ts": f"18000002{i:02}.000100",
            "metadata": odd,
        }
    rerun = daily_post.post_day(engine, client(standin), config, NOW)
    assert (rerun.posted, rerun.already, rerun.error) == (1, 2, None)
    with engine.connect() as conn:
        new_ts = conn.scalar(select(Post.__table__.c.ts).where(Post.__table__.c.id == 1))
    assert new_ts not in (ts, forged["ts"])


def test_a_page_that_is_not_slack_stops_the_post_in_one_line_naming_slack_api_url(
    day, config, engine, standin
):
    """Mid-run, a SLACK_API_URL that answers a web page stopped the post with "Slack said
    Received a response in a non-JSON format"; it is now the line every other command gives."""
    import dataclasses

    by_id = dataclasses.replace(config, slack=dataclasses.replace(config.slack, channel=CH))
    standin.page = (200, b"<html><body>Our intranet</body></html>")
    report = daily_post.post_day(engine, client(standin), by_id, NOW)
    assert (report.posted, report.remaining) == (0, 3)
    assert report.error is not None and report.error.endswith(
        "does not answer like Slack's Web API (chat.postMessage: HTTP 200, not JSON): "
        "check SLACK_API_URL, or unset it to use Slack's own; 'curator doctor' checks every part"
    )
    assert "intranet" not in report.error


@pytest.mark.parametrize("host_zone", ["UTC", "Pacific/Kiritimati", "America/Los_Angeles"])
def test_a_resumed_post_looks_back_from_midnight_utc_whatever_the_host_zone(
    day, config, engine, standin, monkeypatch, host_zone
):
    """The channel's history is read from the start of yesterday, UTC: the host's own time
    zone (TZ) used to shift it by up to 14 hours."""
    monkeypatch.setenv("TZ", host_zone)
    time.tzset()
    try:
        daily_post.post_day(engine, client(standin), config, NOW)
        with engine.begin() as conn:  # lose a card's ts: the rerun reads the history
            conn.execute(Post.__table__.update().values(ts=None).where(Post.__table__.c.id == 2))
        daily_post.post_day(engine, client(standin), config, NOW)
    finally:
        monkeypatch.undo()
        time.tzset()
    yesterday = datetime(2026, 11, 25, tzinfo=UTC).timestamp()
    oldest = {float(c.params["oldest"]) for c in standin.called("conversations.history")}
    assert oldest == {yesterday}
