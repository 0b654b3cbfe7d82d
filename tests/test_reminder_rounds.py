"""Who has voted, as reminders see it, over the Slack stand-in on SQLite and PostgreSQL.

- A vote by the Home tab's Publish or Reject button is a vote: no reminder of that card.
- A vote taken back (reaction_removed) is no vote: the editor is reminded, unless they were
  reminded of that card already (never twice).
- An article changed after the votes starts a new round: the votes before it no longer count,
  so each editor who has no vote since is reminded once more, once (a reminder per card,
  editor and round).

The four-desk newsroom of ``tests.desk_newsroom``: Policy (Bob, Carol, Dave; quorum 2) posts
two cards at NOW that close after 5 days.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine

from bot.slack.editors import editors_from
from bot.slack.revote import revote_changed
from bot.slack.voting import reconcile
from storage import reminders
from storage.fields import FieldMap
from storage.models import Post
from storage.pathfilter import PathFilter
from storage.scan import scan
from tests.desk_newsroom import (
    DESKS,
    NOW,
    DeskStandIn,
    cards,
    client,
    desk_config,
    home_tabs_stopped,
    post_a_day,
    running_standin,
    voters,
)
from tests.slack_requests import button_action, reaction_event, send_action, send_event, serve_bot
from tests.slack_standin import BOT_USER
from tests.test_home_tab import PUBLISH_ACTION, REJECT_ACTION
from tests.test_reminders import POLICY_CLOSES, listed, make_config, remind
from tests.test_slack_loop import eventually


@pytest.fixture(autouse=True)
def home_tabs_stop(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A Home tab watcher a button press starts ends with the test, before its database."""
    with home_tabs_stopped(monkeypatch):
        yield


@pytest.fixture
def standin() -> Iterator[DeskStandIn]:
    with running_standin() as s:
        yield s


@pytest.fixture
def day(engine, newsroom, content_repo, standin, tmp_path, db_url) -> None:
    post_a_day(
        newsroom, content_repo, engine, standin, desk_config(tmp_path, db_url, newsroom.remote)
    )


_stamps = iter(range(1, 1_000_000))


def stamp() -> str:
    return f"{1_800_000_100 + next(_stamps)}.000001"


def policy(standin: DeskStandIn, user: str) -> list[list[str]]:
    """The Policy cards each DM to ``user`` lists, message by message (none: left out)."""
    found = [[t for t in titles if t.startswith("Policy")] for titles in listed(standin, user)]
    return [titles for titles in found if titles]


def react(endpoint: str, engine: Engine, title: str, user: str, *, removed: bool = False) -> None:
    card = cards(engine)[title]
    kind = "reaction_removed" if removed else "reaction_added"
    event = reaction_event(
        kind, user=user, reaction="white_check_mark", channel=card.channel, ts=card.ts,
        event_ts=stamp(),
    )  # fmt: skip
    assert send_event(endpoint, event) == 200


def press(endpoint: str, engine: Engine, title: str, user: str, action: str) -> None:
    card = cards(engine)[title]
    assert send_action(endpoint, button_action(user, action, card.id, stamp())) == 200


def test_a_button_vote_is_a_vote_reminders_know(day, engine, standin, tmp_path, db_url, newsroom):
    config = make_config(tmp_path, db_url, newsroom)
    alpha = cards(engine)["Policy alpha"].id
    with serve_bot(config, engine, standin.url) as endpoint:
        press(endpoint, engine, "Policy alpha", "UBOB", PUBLISH_ACTION)
        press(endpoint, engine, "Policy alpha", "UCAROL", REJECT_ACTION)
        eventually(
            lambda: (
                voters(engine, alpha) == {("UBOB", "button:publish"), ("UCAROL", "button:reject")}
            )
        )
    assert cards(engine)["Policy alpha"].status == "open"  # one each way: no quorum
    remind(engine, standin, config, POLICY_CLOSES - timedelta(hours=2))
    assert policy(standin, "UBOB") == policy(standin, "UCAROL") == [["Policy beta"]]
    assert policy(standin, "UDAVE") == [["Policy alpha", "Policy beta"]]


def test_a_vote_taken_back_is_no_vote_but_never_a_second_reminder(
    day, engine, standin, tmp_path, db_url, newsroom
):
    config = make_config(tmp_path, db_url, newsroom)
    alpha = cards(engine)["Policy alpha"].id
    first = POLICY_CLOSES - timedelta(hours=20)
    with serve_bot(config, engine, standin.url) as endpoint:
        react(endpoint, engine, "Policy alpha", "UBOB")
        react(endpoint, engine, "Policy alpha", "UBOB", removed=True)
        eventually(lambda: voters(engine, alpha) == set())
        remind(engine, standin, config, first)
        assert policy(standin, "UBOB") == [["Policy alpha", "Policy beta"]]  # no vote now
        # Carol, reminded already, votes and takes it back: not reminded of it again.
        react(endpoint, engine, "Policy alpha", "UCAROL")
        react(endpoint, engine, "Policy alpha", "UCAROL", removed=True)
        eventually(lambda: voters(engine, alpha) == set())
    remind(engine, standin, config, first + timedelta(hours=1))
    assert policy(standin, "UCAROL") == [["Policy alpha", "Policy beta"]]


def test_an_article_changed_after_the_votes_reminds_each_editor_once_more(
    day, engine, standin, tmp_path, db_url, newsroom, content_repo
):
    desks = [dict(d) for d in DESKS]
    desks[1] |= {"remind_before": "4d"}  # Policy: from a day after posting
    config = make_config(tmp_path, db_url, newsroom, desks=desks)
    editors = editors_from(config)
    alpha = cards(engine)["Policy alpha"]
    # Bob approves alpha (the bot down: reconcile finds it); quorum 2, so it stays open.
    standin.react(alpha.channel, alpha.ts, "white_check_mark", "UBOB")
    reconcile(engine, client(standin), config, NOW + timedelta(hours=1), bot_user=BOT_USER,
              editors=editors)  # fmt: skip
    first = NOW + timedelta(days=1, hours=1)
    remind(engine, standin, config, first)
    assert policy(standin, "UBOB") == [["Policy beta"]]
    assert (
        policy(standin, "UCAROL") == policy(standin, "UDAVE") == [["Policy alpha", "Policy beta"]]
    )

    # The collector rewrites alpha's excerpt: Bob's vote no longer counts.
    changed_at = first + timedelta(hours=1)
    path = newsroom.work / "policy-alpha.md"
    path.write_text(path.read_text().replace("About Policy alpha.", "About Policy alpha, again."))
    newsroom.commit("the collector rewrote it")
    content_repo.fetch()
    result = scan(engine, content_repo, FieldMap(), PathFilter())
    assert revote_changed(
        engine, config, commit=result.commit, now=changed_at, client=client(standin)
    ) == [alpha.id]  # fmt: skip

    # A day later (the card closes within 4 days however its window now runs): each
    # editor is reminded of alpha once more, Bob too; beta, unchanged, not again.
    second = first + timedelta(days=1, hours=2)
    remind(engine, standin, config, second)
    assert policy(standin, "UBOB") == [["Policy beta"], ["Policy alpha"]]
    for user in ("UCAROL", "UDAVE"):
        assert policy(standin, user) == [["Policy alpha", "Policy beta"], ["Policy alpha"]]
    # Never twice in the same round.
    remind(engine, standin, config, second + timedelta(hours=1))
    assert policy(standin, "UBOB") == [["Policy beta"], ["Policy alpha"]]
    assert len(policy(standin, "UCAROL")) == 2


def test_one_claim_per_card_editor_and_round_and_never_back_to_an_earlier_round(day, engine):
    alpha = cards(engine)["Policy alpha"].id
    post = Post.__table__

    def new_round(since: str | None) -> None:
        with engine.begin() as conn:
            conn.execute(update(post).where(post.c.id == alpha).values(votes_since=since))

    def done() -> set[tuple[int, str]]:
        with engine.connect() as conn:
            return reminders.reminded(conn, post_ids=[alpha])

    assert reminders.claim(engine, user="UBOB", post_ids=[alpha], now=NOW) == [alpha]
    reminders.mark_sent(engine, user="UBOB", post_ids=[alpha], now=NOW)
    assert reminders.claim(engine, user="UBOB", post_ids=[alpha], now=NOW) == []
    new_round("1800000000.000000")
    assert done() == set()  # the first round's reminder is not this round's
    assert reminders.claim(engine, user="UBOB", post_ids=[alpha], now=NOW) == [alpha]
    assert reminders.claim(engine, user="UBOB", post_ids=[alpha], now=NOW) == []
    assert done() == {(alpha, "UBOB")}
    # A run that still sees the earlier round never takes the later one's claim back.
    new_round(None)
    assert reminders.claim(engine, user="UBOB", post_ids=[alpha], now=NOW) == []
