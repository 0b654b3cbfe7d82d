"""After a change sends a card back to a vote (storage.revotes.reopen): a whole voting window
from the change, and "changed since the votes" until the first new vote, on every surface.

Real git repos, SQLite and PostgreSQL, votes as Slack-signed events into the HTTP endpoint,
cards, reminders and the Home tab on the local Slack stand-in (tests/test_revote.py's desk).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli.status import status_lines
from bot.rules.digest_query import parse_digest_query
from bot.slack.card_facts import CHANGED
from bot.slack.digest import answer_digest
from bot.slack.editors import editors_from
from bot.slack.home import build_home
from bot.slack.reminders import send_reminders
from bot.slack.summary import build_summary
from bot.slack.summary_message import summary_message
from bot.slack.time_words import format_when
from bot.slack.voting import expire_posts
from storage.db import reading
from storage.models import Post, as_utc
from storage.revotes import changed_post_ids
from tests.helpers import Newsroom
from tests.slack_requests import serve_bot
from tests.slack_standin import SlackStandIn
from tests.test_revote import AGAIN, CHANGE, NOW, Desk, make_config
from tests.test_slack_loop import client, eventually, mrkdwn_of

REOPENED = datetime.fromtimestamp(CHANGE, UTC)  # when the scan found the change


@pytest.fixture
def desk(engine, newsroom: Newsroom, content_repo, tmp_path: Path, db_url: str) -> Iterator[Desk]:
    standin = SlackStandIn(users={"UALICE": "Alice", "UBOB": "Bob"}).start()
    config = make_config(tmp_path, db_url, newsroom)
    try:
        with serve_bot(config, engine, standin.url) as url:
            yield Desk(engine, newsroom, content_repo, config, standin, url)
    finally:
        standin.stop()


def reopened(desk: Desk) -> None:
    desk.approve()
    desk.change('title: "Alpha"', 'title: "Alpha, corrected"')
    assert desk.scan(at=CHANGE) == [desk.post().id]
    assert desk.post().status == "open"


def home_text(desk: Desk, now: datetime) -> str:
    view = build_home(desk.engine, desk.config, user="UALICE", desks=[desk.config.default_desk],
                      now=now)  # fmt: skip
    return mrkdwn_of(view["blocks"])


def test_a_reopened_card_votes_for_a_whole_window_from_the_change(desk: Desk):
    reopened(desk)
    closes = REOPENED + timedelta(days=3)
    post = desk.post()
    assert as_utc(post.created_at) == NOW  # still when it was posted
    assert as_utc(post.window_from) == REOPENED
    # The card, and the Home tab, say it closes three days after the change.
    assert f"voting closes {closes:%a %d %b %H:%M}" in desk.shown()
    a_day_on = REOPENED + timedelta(days=1)
    zone = desk.config.zone
    assert f"closes {format_when(closes, zone, a_day_on)}" in home_text(desk, a_day_on)
    # A day on, the expire run leaves it open (posted weeks ago, reopened a day ago).
    assert expire_posts(desk.engine, client(desk.standin), desk.config, a_day_on) == 0
    assert desk.post().status == "open"
    # Within a day of its close, the editors are reminded of it.
    report = send_reminders(desk.engine, client(desk.standin), desk.config,
                            editors_from(desk.config), closes - timedelta(hours=3))  # fmt: skip
    assert report.cards == 2 and len(desk.standin.dms("UALICE")) == 1
    # Past the window from the change, it expires.
    after = closes + timedelta(minutes=1)
    assert expire_posts(desk.engine, client(desk.standin), desk.config, after) == 1
    assert desk.post().status == "expired"


def marked(desk: Desk, now: datetime) -> dict[str, bool]:
    """Where the card reads "changed since the votes" now."""
    engine, config, post_id = desk.engine, desk.config, desk.post().id
    with reading(engine) as tx:
        ids = changed_post_ids(tx, post_ids=[post_id])
        summary = build_summary(tx, config, since=now - timedelta(days=30), now=now,
                                desk=config.default_desk)  # fmt: skip
    query = parse_digest_query("", now, config.zone)
    digest = mrkdwn_of([b.to_dict() for b in answer_digest(engine, config, query, now=now)[1]])
    said = mrkdwn_of([b.to_dict() for b in summary_message(summary, config)[1]])
    listed = "\n".join(status_lines(engine, config, now))
    return {
        "storage": ids == {post_id},
        "card": "Changed since the votes" in desk.shown(),
        "digest": CHANGED in digest,
        "summary": CHANGED in said,
        "status": "(changed since the votes)" in listed,
        "status count": "; 1 changed since the votes" in listed,
    }


def test_changed_since_the_votes_clears_at_the_first_new_vote(desk: Desk):
    reopened(desk)
    now = REOPENED + timedelta(hours=1)
    assert marked(desk, now) == dict.fromkeys(marked(desk, now), True)
    desk.vote("UALICE", AGAIN, "reaction_removed")
    desk.vote("UALICE", AGAIN + 1)
    eventually(lambda: "Changed since the votes" not in desk.shown())
    assert marked(desk, now) == dict.fromkeys(marked(desk, now), False)
    # The card still shows Bob's vote from before the change, as an earlier vote.
    assert "Earlier votes: :white_check_mark: 1 · :x: 0, no longer counted" in desk.shown()
    with desk.engine.connect() as conn:  # Bob's earlier vote still does not count
        assert conn.scalar(select(Post.__table__.c.status)) == "open"
