"""Votes by desk, over real HTTP on SQLite and PostgreSQL: a card counts its own desk's
editors, emoji and quorum, and expires after its own desk's voting window.

Slack-signed reaction events go into the bot's endpoint under the production server; the
cards were posted to the local Slack stand-in by the daily post of each desk.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.config import Config
from bot.slack.editors import editors_from
from bot.slack.voting import expire_posts, reconcile
from tests.desk_newsroom import (
    NOW,
    DeskStandIn,
    cards,
    client,
    desk_config,
    post_a_day,
    react,
    running_standin,
    status,
    voters,
)
from tests.helpers import Newsroom
from tests.slack_requests import serve_bot
from tests.slack_standin import BOT_USER
from tests.test_slack_loop import REFRESH_QUIET, eventually, mrkdwn_of


@pytest.fixture
def standin() -> Iterator[DeskStandIn]:
    with running_standin() as s:
        yield s


@pytest.fixture
def config(tmp_path: Path, db_url: str, newsroom: Newsroom) -> Config:
    return desk_config(tmp_path, db_url, newsroom.remote)


@pytest.fixture
def day(engine, newsroom, content_repo, standin, config) -> None:
    post_a_day(newsroom, content_repo, engine, standin, config)


@pytest.fixture
def endpoint(config: Config, engine: Engine, standin: DeskStandIn) -> Iterator[str]:
    with serve_bot(config, engine, standin.url) as url:
        yield url


def test_each_desk_posts_in_its_channel_and_its_card_shows_its_quorum(day, engine, standin):
    by_title = cards(engine)
    assert by_title["AI alpha"].desk == "AI" and by_title["AI alpha"].channel == "CAIDESK"
    assert by_title["Policy beta"].channel == "CPOLICY"
    assert by_title["Science alpha"].channel == "CSCIENCE"
    assert by_title["Sports alpha"].desk == "General"
    shown = {
        t: mrkdwn_of(standin.messages[(r.channel, r.ts)]["blocks"]) for t, r in by_title.items()
    }
    assert "1 needed" in shown["AI alpha"] and "2 needed" in shown["Policy alpha"]
    # The bot's one-click buttons are the desk's own emoji.
    seeded = {(c.params["channel"], c.params["name"]) for c in standin.called("reactions.add")}
    assert ("CSCIENCE", "rocket") in seeded and ("CSCIENCE", "white_check_mark") not in seeded
    assert ("CPOLICY", "white_check_mark") in seeded


def test_an_editor_votes_only_in_the_desks_they_edit(day, engine, endpoint):
    policy, ai = cards(engine)["Policy alpha"].id, cards(engine)["AI beta"].id
    # Alice edits AI, not Policy: her ✅ on a Policy card is not a vote.
    react(endpoint, "Policy alpha", "UALICE", "white_check_mark", engine)
    # Dave edits both: his ✅ counts on both.
    react(endpoint, "Policy alpha", "UDAVE", "white_check_mark", engine)
    react(endpoint, "AI beta", "UDAVE", "white_check_mark", engine)
    eventually(lambda: voters(engine, policy) == {("UDAVE", "white_check_mark")})
    # Per-desk quorum: one vote approves on AI (quorum 1), Policy still needs a second.
    eventually(lambda: status(engine, "AI beta") == "approved")
    assert voters(engine, ai) == {("UDAVE", "white_check_mark")}
    time.sleep(REFRESH_QUIET)
    assert voters(engine, policy) == {("UDAVE", "white_check_mark")}
    assert status(engine, "Policy alpha") == "open"
    # Bob edits Policy: the second vote approves it.
    react(endpoint, "Policy alpha", "UBOB", "white_check_mark", engine)
    eventually(lambda: status(engine, "Policy alpha") == "approved")
    # Bob does not edit AI; his ❌ there is not a vote.
    react(endpoint, "AI alpha", "UBOB", "x", engine)
    react(endpoint, "AI alpha", "UALICE", "white_check_mark", engine)
    eventually(lambda: status(engine, "AI alpha") == "approved")
    time.sleep(REFRESH_QUIET)
    assert voters(engine, cards(engine)["AI alpha"].id) == {("UALICE", "white_check_mark")}


def test_a_desk_counts_its_own_emoji(day, engine, endpoint, standin):
    science = cards(engine)["Science alpha"]
    # Science publishes with rocket: a ✅ there is no vote, a rocket is (quorum 1).
    react(endpoint, "Science alpha", "UBOB", "white_check_mark", engine)
    react(endpoint, "Science alpha", "UALICE", "rocket", engine)
    eventually(lambda: status(engine, "Science alpha") == "approved")
    time.sleep(REFRESH_QUIET)
    assert voters(engine, science.id) == {("UALICE", "rocket")}
    eventually(lambda: ":rocket: 1" in mrkdwn_of(standin.messages[(science.channel, science.ts)]))
    # General keeps the default emoji: a rocket there is no vote, a ✅ is.
    general = cards(engine)["Sports alpha"]
    react(endpoint, "Sports alpha", "UALICE", "rocket", engine)
    react(endpoint, "Sports alpha", "UALICE", "white_check_mark", engine)
    eventually(lambda: voters(engine, general.id) == {("UALICE", "white_check_mark")})
    time.sleep(REFRESH_QUIET)
    assert voters(engine, general.id) == {("UALICE", "white_check_mark")}
    assert status(engine, "Sports alpha") == "open"  # General's quorum is 2


def test_reconcile_counts_by_the_cards_desk(day, config, engine, standin):
    by_title = cards(engine)

    def put(title: str, emoji: str, user: str) -> None:
        standin.react(by_title[title].channel, by_title[title].ts, emoji, user)

    put("Policy alpha", "white_check_mark", "UALICE")  # not a Policy editor
    put("Policy alpha", "white_check_mark", "UDAVE")
    put("AI alpha", "white_check_mark", "UDAVE")
    put("Science alpha", "white_check_mark", "UBOB")  # not Science's emoji
    put("Science beta", "rocket", "UBOB")
    put("Sports alpha", "rocket", "UALICE")  # not General's emoji
    report = reconcile(
        engine, client(standin), config, NOW, bot_user=BOT_USER, editors=editors_from(config)
    )
    assert report.checked == 8 and report.failed == 0
    after = cards(engine)
    assert voters(engine, after["Policy alpha"].id) == {("UDAVE", "white_check_mark")}
    assert after["Policy alpha"].status == "open"
    assert after["AI alpha"].status == "approved"
    assert voters(engine, after["Science alpha"].id) == set()
    assert after["Science alpha"].status == "open"
    assert after["Science beta"].status == "approved"
    assert voters(engine, after["Sports alpha"].id) == set()
    assert report.changed == 3  # Policy alpha, AI alpha, Science beta


def test_each_desk_expires_after_its_own_window(day, config, engine, standin):
    def open_desks() -> set[str]:
        return {r.desk for r in cards(engine).values() if r.status == "open"}

    assert expire_posts(engine, client(standin), config, NOW + timedelta(days=1, hours=23)) == 0
    # AI's window is 2 days; the others' are still running.
    assert expire_posts(engine, client(standin), config, NOW + timedelta(days=2, hours=1)) == 2
    assert open_desks() == {"Policy", "Science", "General"}
    assert {r.desk for r in cards(engine).values() if r.status == "expired"} == {"AI"}
    # Science and General take the default 3 days; Policy has 5.
    assert expire_posts(engine, client(standin), config, NOW + timedelta(days=3, hours=1)) == 4
    assert open_desks() == {"Policy"}
    assert expire_posts(engine, client(standin), config, NOW + timedelta(days=4, hours=23)) == 0
    assert expire_posts(engine, client(standin), config, NOW + timedelta(days=5, hours=1)) == 2
    assert open_desks() == set()
    shown = mrkdwn_of(standin.messages[("CPOLICY", cards(engine)["Policy alpha"].ts)]["blocks"])
    assert "Expired" in shown
