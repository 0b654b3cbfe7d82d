"""Reconcile reads the unpublish votes on published cards (issue 12, point 4): a quorum of
rewinds cast while the bot was down is counted by the next reconcile and taken back by the
next publish run, as by event. The bot is down throughout: reactions are put in the Slack
stand-in, and only reconcile (reactions.get) sees them. SQLite and PostgreSQL.

Reconcile reads the published cards of the last week (``UNPUBLISH_RECONCILED``), not every
card ever published: one reactions.get per card, every run.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.clock.jobs import publish_and_tell
from bot.config import Config
from bot.runtime import Runtime
from bot.slack.editors import editors_from
from bot.slack.voting import UNPUBLISH_RECONCILED, ReconcileReport, reconcile
from storage.gitrepo import ContentRepo
from storage.pathfilter import PathFilter
from tests.desk_newsroom import (
    NOW,
    DeskStandIn,
    cards,
    client,
    desk_config,
    post_every_desk,
    running_standin,
    voters,
    write_stories,
)
from tests.helpers import Newsroom
from tests.slack_standin import BOT_USER
from tests.test_publish import remote, show
from tests.test_slack_loop import mrkdwn_of


@pytest.fixture
def standin() -> Iterator[DeskStandIn]:
    with running_standin() as s:
        yield s


@pytest.fixture
def config(tmp_path: Path, db_url: str, newsroom: Newsroom) -> Config:
    return desk_config(tmp_path, db_url, newsroom.remote)


@pytest.fixture
def day(engine, newsroom, content_repo, standin, config) -> None:
    write_stories(newsroom, content_repo, engine)
    post_every_desk(engine, standin, config)


def put(standin: DeskStandIn, engine: Engine, title: str, emoji: str, *users: str) -> None:
    """Reactions made in Slack while the bot was down."""
    card = cards(engine)[title]
    for user in users:
        standin.react(card.channel, card.ts, emoji, user)


def catch_up(engine: Engine, standin: DeskStandIn, config: Config, at: datetime) -> ReconcileReport:
    return reconcile(
        engine, client(standin), config, at, bot_user=BOT_USER, editors=editors_from(config)
    )


def publish(config: Config, engine: Engine, repo: ContentRepo, standin: DeskStandIn, at: datetime):
    return publish_and_tell(Runtime(config, engine, repo, PathFilter()), client(standin), at)


def status(engine: Engine, title: str) -> str:
    return str(cards(engine)[title].status)


def read_cards(standin: DeskStandIn) -> list[str]:
    return [str(c.params["timestamp"]) for c in standin.called("reactions.get")]


def test_rewinds_cast_while_the_bot_was_down_unpublish_in_the_next_run(
    day, engine, standin, config, content_repo, newsroom
):
    # Policy's quorum is 2: approved and published while the bot was down, found by reconcile.
    put(standin, engine, "Policy alpha", "white_check_mark", "UBOB", "UCAROL")
    catch_up(engine, standin, config, NOW)
    assert status(engine, "Policy alpha") == "approved"
    publish(config, engine, content_repo, standin, NOW)
    assert status(engine, "Policy alpha") == "published"
    live = show(newsroom, "policy-alpha.md")
    policy = cards(engine)["Policy alpha"]

    # Down again: Alice (no Policy editor), then Bob and Dave rewind it.
    put(standin, engine, "Policy alpha", "rewind", "UALICE", "UBOB", "UDAVE")
    later = NOW + timedelta(hours=3)
    report = catch_up(engine, standin, config, later)
    assert report.failed == 0 and report.changed == 1
    assert voters(engine, policy.id) >= {("UBOB", "rewind"), ("UDAVE", "rewind")}
    assert ("UALICE", "rewind") not in voters(engine, policy.id)
    assert status(engine, "Policy alpha") == "unpublishing"
    blocks = standin.messages[(policy.channel, policy.ts)]["blocks"]
    assert "*Unpublishing*" in mrkdwn_of(blocks)
    # The votes that published it are left as they are.
    assert {("UBOB", "white_check_mark"), ("UCAROL", "white_check_mark")} <= voters(
        engine, policy.id
    )

    report = publish(config, engine, content_repo, standin, later)
    assert status(engine, "Policy alpha") == "unpublished"
    assert show(newsroom, "policy-alpha.md") == live.replace(
        b"published: true", b"published: false"
    )
    assert report.summary().startswith("published 0, unpublished 1,")
    message = remote(newsroom, "log", "-1", "--format=%B", str(report.commit_sha))
    trailers = [line for line in message.splitlines() if line.startswith("Unpublished-by:")]
    assert trailers == ["Unpublished-by: Bob <UBOB>", "Unpublished-by: Dave <UDAVE>"]


def test_one_rewind_is_no_quorum_and_other_emoji_on_a_published_card_are_no_votes(
    day, engine, standin, config, content_repo
):
    put(standin, engine, "AI alpha", "white_check_mark", "UALICE")  # AI's quorum is 1
    catch_up(engine, standin, config, NOW)
    publish(config, engine, content_repo, standin, NOW)
    ai = cards(engine)["AI alpha"]
    assert ai.status == "published"
    # Dave approves it too, now that it is live, and rejects it: no votes on a published card.
    put(standin, engine, "AI alpha", "white_check_mark", "UDAVE")
    put(standin, engine, "AI alpha", "x", "UDAVE")
    report = catch_up(engine, standin, config, NOW + timedelta(hours=1))
    assert report.changed == 0 and status(engine, "AI alpha") == "published"
    assert voters(engine, ai.id) == {("UALICE", "white_check_mark")}
    # AI's quorum is 1: Dave's rewind alone takes it back.
    put(standin, engine, "AI alpha", "rewind", "UDAVE")
    catch_up(engine, standin, config, NOW + timedelta(hours=2))
    assert status(engine, "AI alpha") == "unpublishing"


def test_cards_published_more_than_a_week_ago_are_not_read(
    day, engine, standin, config, content_repo
):
    put(standin, engine, "AI alpha", "white_check_mark", "UALICE")
    catch_up(engine, standin, config, NOW)
    publish(config, engine, content_repo, standin, NOW)
    ai = cards(engine)["AI alpha"]
    put(standin, engine, "AI alpha", "rewind", "UDAVE")
    standin.calls.clear()
    catch_up(engine, standin, config, NOW + UNPUBLISH_RECONCILED + timedelta(minutes=1))
    assert ai.ts not in read_cards(standin)
    assert status(engine, "AI alpha") == "published"
    catch_up(engine, standin, config, NOW + UNPUBLISH_RECONCILED - timedelta(minutes=1))
    assert ai.ts in read_cards(standin)
    assert status(engine, "AI alpha") == "unpublishing"
