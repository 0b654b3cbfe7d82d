"""Unpublish and veto beside "changed after the votes" (bot/slack/revote.py), over real HTTP
on SQLite and PostgreSQL, publishing against a bare remote:

- an unpublish takes back whatever is live: a published article changed since its votes is
  still unpublished (no fingerprint is checked for it);
- a chief's veto is cast on a version, as a reject is: when the article changes, the card goes
  back to a vote and the veto shows among the earlier votes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.config import Config, config_from_mapping
from bot.publishing.job import publish_approved
from tests.helpers import Newsroom, git
from tests.slack_requests import reaction_event, send_event, serve_bot
from tests.slack_standin import SlackStandIn
from tests.test_revote import AGAIN, CH, CHANGE, COMMIT_URL, FIRST, Desk
from tests.test_slack_loop import eventually


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    s = SlackStandIn(users={"UALICE": "Alice", "UBOB": "Bob"}).start()
    yield s
    s.stop()


@pytest.fixture
def config(tmp_path: Path, db_url: str, newsroom: Newsroom) -> Config:
    return config_from_mapping(
        {
            "content": {"remote": str(newsroom.remote), "commit_url": COMMIT_URL},
            "slack": {"channel": "#curation", "editors": ["UALICE", "UBOB"], "chiefs": ["UBOB"]},
            "votes": {"quorum": 2, "window_days": 3, "veto": ["no_entry"]},
            "candidates": {"per_day": 1, "max_age_days": 100000},
        },
        path=tmp_path / "curator.yml",
        env={"DATABASE_URL": db_url},
    )


@pytest.fixture
def desk(engine: Engine, newsroom, content_repo, config, standin) -> Iterator[Desk]:
    with serve_bot(config, engine, standin.url) as url:
        yield Desk(engine, newsroom, content_repo, config, standin, url)


def react(desk: Desk, user: str, emoji: str, at: float) -> None:
    event = reaction_event(
        "reaction_added", user=user, reaction=emoji, channel=CH, ts=desk.ts, event_ts=f"{at:.6f}"
    )
    assert send_event(desk.endpoint, event) == 200


def test_a_published_article_changed_since_its_votes_is_still_unpublished(desk: Desk):
    desk.approve()
    now = datetime.fromtimestamp(CHANGE, UTC)
    assert publish_approved(desk.engine, desk.repo, desk.config, now=now).commit_sha
    assert desk.post().status == "published"
    git("pull", "--quiet", "origin", "main", cwd=desk.newsroom.work)
    desk.change('title: "Alpha"', 'title: "Alpha, corrected after publishing"')
    desk.scan()  # a published card is not sent back to a vote
    assert desk.post().status == "published"
    react(desk, "UALICE", "rewind", AGAIN)
    react(desk, "UBOB", "rewind", AGAIN + 1)
    eventually(lambda: desk.post().status == "unpublishing")

    report = publish_approved(desk.engine, desk.repo, desk.config, now=now)
    assert report.commit_sha is not None and report.count("unpublished") == 1
    assert report.count("changed") == 0
    assert desk.post().status == "unpublished"
    git("pull", "--quiet", "origin", "main", cwd=desk.newsroom.work)
    text = (desk.newsroom.work / "a.md").read_text()
    assert "published: false" in text and "Alpha, corrected after publishing" in text


def test_a_veto_is_cast_on_a_version_and_a_change_reopens_the_card(desk: Desk):
    react(desk, "UBOB", "no_entry", FIRST)  # Bob is a chief: his veto is the first vote
    eventually(lambda: desk.post().status == "rejected")
    assert desk.post().voted_hash is not None
    desk.change('title: "Alpha"', 'title: "Alpha, reworked"')
    assert desk.scan() == [desk.post().id]
    assert desk.post().status == "open"
    assert "Changed since the votes:* title" in desk.shown()
