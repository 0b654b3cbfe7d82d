"""The Home tab beside the rest of the editors' workflow, over real HTTP on SQLite and
PostgreSQL: a chief's Veto button, a card gone back to a vote after its article changed, and
cards being unpublished or unpublished. One card on one desk (``tests/test_revote.py``'s
``Desk``): Alice and Bob edit it, Bob is the chief, ``no_entry`` vetoes, quorum 2.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from bot.config import Config, config_from_mapping
from bot.publishing.job import publish_approved
from bot.slack import home as home_module
from bot.slack.card_refresher import CardRefresher
from bot.slack.editors import editors_from
from bot.slack.home import HomeTabs
from bot.slack.home_view import PUBLISH_ACTION, REJECT_ACTION, VETO_ACTION
from bot.slack.limits import view_problems
from storage.home_readers import Reader, readers
from storage.home_views import queue_marks
from tests.desk_newsroom import home_tabs_stopped, voters
from tests.helpers import Newsroom, git
from tests.slack_requests import (
    button_action,
    home_opened_event,
    send_action,
    send_event,
    serve_bot,
)
from tests.slack_standin import SlackStandIn
from tests.test_revote import AGAIN, CHANGE, COMMIT_URL, FIRST, Desk
from tests.test_slack_loop import client, eventually, mrkdwn_of
from tests.test_unpublish_revote import react


@pytest.fixture(autouse=True)
def home_tabs_stop(
    monkeypatch: pytest.MonkeyPatch, engine: Engine, standin: SlackStandIn
) -> Iterator[None]:
    """Every Home tab watcher a test starts (the endpoint's too) ends with the test, before
    the stand-in it sends to stops: a send to a stopped one waits out the client's retries."""
    with home_tabs_stopped(monkeypatch):
        yield


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    s = SlackStandIn(users={"UALICE": "Alice", "UBOB": "Bob", "UERIN": "Erin"}).start()
    yield s
    s.stop()


@pytest.fixture
def config(tmp_path: Path, db_url: str, newsroom: Newsroom) -> Config:
    return config_from_mapping(
        {
            "content": {"remote": str(newsroom.remote), "commit_url": COMMIT_URL},
            "slack": {
                "channel": "#curation",
                "editors": ["UALICE", "UBOB"],
                "chiefs": ["UBOB", "UERIN"],
            },
            "votes": {"quorum": 2, "window_days": 3, "veto": ["no_entry"]},
            "candidates": {"per_day": 1, "max_age_days": 100000},
        },
        path=tmp_path / "curator.yml",
        env={"DATABASE_URL": db_url},
    )


@pytest.fixture
def desk(engine: Engine, newsroom, content_repo, config, standin) -> Iterator[Desk]:
    with serve_bot(config, engine, standin.url, home_interval=0.3) as url:
        yield Desk(engine, newsroom, content_repo, config, standin, url)


def replica(desk: Desk, **options: Any) -> HomeTabs:
    """Home tabs that look at the database often: the jobs (scan, publish) change the queue
    without a word to the bot, as another replica would."""
    options = {"interval": 0, "poll": 0.2, **options}
    return HomeTabs(
        desk.engine, desk.config, client(desk.standin), editors_from(desk.config), **options
    )


@pytest.fixture
def home(desk: Desk) -> HomeTabs:
    return replica(desk)


def views(standin: SlackStandIn, user: str) -> list[dict[str, Any]]:
    return list(standin.views.get(user, []))


def last(standin: SlackStandIn, user: str) -> str:
    sent = views(standin, user)
    return mrkdwn_of(sent[-1]["blocks"]) if sent else ""


def buttons(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    pressed = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    return {e["action_id"]: e for e in pressed}


def press(desk: Desk, user: str, action: str, at: float) -> None:
    payload = button_action(user, action, desk.post().id, f"{at:.6f}")
    assert send_action(desk.endpoint, payload) == 200


def open_home(desk: Desk, user: str) -> dict[str, Any]:
    assert send_event(desk.endpoint, home_opened_event(user)) == 200
    eventually(lambda: views(desk.standin, user))
    return views(desk.standin, user)[-1]


def test_a_chief_vetoes_from_the_home_tab_and_nobody_else_can(desk: Desk):
    # Bob is the desk's chief: his waiting card has a Veto button, which asks first.
    bob = open_home(desk, "UBOB")
    veto = buttons(bob)[VETO_ACTION]
    assert veto["style"] == "danger" and veto["confirm"]["confirm"]["text"] == "Veto"
    assert set(buttons(bob)) == {PUBLISH_ACTION, REJECT_ACTION, VETO_ACTION}
    # Alice edits the desk but is no chief: no Veto for her, and a forged one does not count.
    alice = open_home(desk, "UALICE")
    assert set(buttons(alice)) == {PUBLISH_ACTION, REJECT_ACTION}
    # Erin is a chief who edits no desk: only the Veto button, and the view says so.
    erin = open_home(desk, "UERIN")
    assert set(buttons(erin)) == {VETO_ACTION}
    about = mrkdwn_of(erin["blocks"])
    assert "without voting buttons" not in about and "you may veto the cards" in about
    press(desk, "UALICE", PUBLISH_ACTION, FIRST)
    eventually(lambda: ("UALICE", "button:publish") in voters(desk.engine, desk.post().id))
    press(desk, "UALICE", VETO_ACTION, FIRST + 1)
    eventually(lambda: "chiefs veto its cards; nothing was counted" in last(desk.standin, "UALICE"))
    assert desk.post().status == "open"
    assert ("UALICE", "button:veto") not in voters(desk.engine, desk.post().id)
    # Bob's veto rejects the card at once, whatever Alice voted; the card says who.
    press(desk, "UBOB", VETO_ACTION, FIRST + 2)
    eventually(lambda: desk.post().status == "rejected")
    eventually(lambda: "*Vetoed* by <@UBOB>" in desk.shown())
    eventually(lambda: "vetoed" in last(desk.standin, "UBOB"))
    shown = last(desk.standin, "UBOB")
    assert "Waiting for your vote* · none" in shown and "by <@UBOB>" in shown
    assert view_problems(views(desk.standin, "UBOB")[-1]) == []
    # The same press delivered again counts once: one veto row, still Bob's.
    press(desk, "UBOB", VETO_ACTION, FIRST + 2)
    time.sleep(0.5)
    assert {v for v in voters(desk.engine, desk.post().id) if v[1] == "button:veto"} == {
        ("UBOB", "button:veto")
    }
    assert desk.causes()[-1] == "veto by UBOB (Home tab)"


def test_without_a_veto_in_the_desk_a_chief_has_no_veto_button(
    engine, newsroom, content_repo, standin, tmp_path: Path, db_url: str
):
    config = config_from_mapping(
        {
            "content": {"remote": str(newsroom.remote)},
            "slack": {"channel": "#curation", "editors": ["UALICE", "UBOB"], "chiefs": ["UBOB"]},
            "votes": {"quorum": 2, "window_days": 3},
            "candidates": {"per_day": 1, "max_age_days": 100000},
        },
        path=tmp_path / "curator.yml",
        env={"DATABASE_URL": db_url},
    )
    with serve_bot(config, engine, standin.url, home_interval=0.3) as url:
        desk = Desk(engine, newsroom, content_repo, config, standin, url)
        assert set(buttons(open_home(desk, "UBOB"))) == {PUBLISH_ACTION, REJECT_ACTION}
        # A forged press: Bob is a chief, but the desk has no veto, and he is told so.
        press(desk, "UBOB", VETO_ACTION, FIRST)
        eventually(lambda: "nothing was counted" in last(standin, "UBOB"))
        assert "curation desk has no veto (votes.veto); nothing" in last(standin, "UBOB")
        assert voters(engine, desk.post().id) == set()
        assert desk.post().status == "open"


def test_an_open_home_tab_follows_a_change_that_reopens_an_open_card(desk: Desk, home):
    desk.vote("UALICE", FIRST)  # one vote of two: the card stays open
    eventually(lambda: ("UALICE", "white_check_mark") in voters(desk.engine, desk.post().id))
    home.opened("UBOB")
    eventually(lambda: views(desk.standin, "UBOB"))
    time.sleep(0.6)  # the watcher has looked at least once since
    before = len(views(desk.standin, "UBOB"))
    assert "changed since the votes" not in last(desk.standin, "UBOB")
    desk.change('title: "Alpha"', 'title: "Alpha, reworked"')
    assert desk.scan() == [desk.post().id]
    assert desk.post().status == "open"  # its state did not move: only votes_since did
    eventually(lambda: len(views(desk.standin, "UBOB")) > before)
    assert "changed since the votes: title" in last(desk.standin, "UBOB")
    assert view_problems(views(desk.standin, "UBOB")[-1]) == []


def test_cards_being_unpublished_and_unpublished_are_in_the_home_tab(desk: Desk, home):
    desk.approve()
    now = datetime.fromtimestamp(CHANGE, UTC)
    assert publish_approved(desk.engine, desk.repo, desk.config, now=now).commit_sha
    home.opened("UALICE")
    eventually(lambda: " · published " in last(desk.standin, "UALICE"))
    react(desk, "UALICE", "rewind", AGAIN)
    react(desk, "UBOB", "rewind", AGAIN + 1)
    eventually(lambda: desk.post().status == "unpublishing")
    eventually(lambda: "being unpublished" in last(desk.standin, "UALICE"))
    git("pull", "--quiet", "origin", "main", cwd=desk.newsroom.work)
    assert publish_approved(desk.engine, desk.repo, desk.config, now=now).count("unpublished") == 1
    eventually(lambda: " · unpublished " in last(desk.standin, "UALICE"))
    shown = last(desk.standin, "UALICE")
    assert "being unpublished" not in shown
    assert "Published, rejected, expired or unpublished lately* · 1" in shown


def test_two_replicas_send_one_refresh_per_reader(desk: Desk):
    a, b = replica(desk, poll=0.05), replica(desk, poll=0.05)
    # Alice's visit reached replica a, Bob's presses reached both: both replicas watch.
    a.opened("UALICE")
    a.opened("UBOB")
    b.opened("UBOB")
    eventually(lambda: views(desk.standin, "UALICE") and len(views(desk.standin, "UBOB")) >= 2)
    time.sleep(0.6)  # many looks by both watchers: nothing changed, nothing sent
    before = {u: len(views(desk.standin, u)) for u in ("UALICE", "UBOB")}
    assert before == {"UALICE": 1, "UBOB": 2}
    desk.vote("UALICE", FIRST)  # one change, which neither replica made
    eventually(lambda: "<@UALICE>" in last(desk.standin, "UBOB"))
    eventually(lambda: "<@UALICE>" in last(desk.standin, "UALICE"))
    time.sleep(0.6)
    after = {u: len(views(desk.standin, u)) - before[u] for u in before}
    assert after == {"UALICE": 1, "UBOB": 1}


def test_a_view_slack_did_not_take_is_sent_again_at_the_next_look(desk: Desk, home):
    # Slack answers views.publish with an error (as after the client's own retries of a 429
    # or a 5xx): the watcher's next look sends it, though nothing changed in between.
    desk.standin.fail("views.publish", status=200, retry_after=None, error="internal_error")
    home.opened("UBOB")
    eventually(lambda: views(desk.standin, "UBOB"))
    assert len(desk.standin.called("views.publish")) == 2
    # A refresh after a change, written down as taken before it was sent: the same.
    desk.standin.fail("views.publish", status=200, retry_after=None, error="internal_error")
    desk.vote("UALICE", FIRST)
    eventually(lambda: "<@UALICE>" in last(desk.standin, "UBOB"))
    assert len(desk.standin.called("views.publish")) == 4
    assert all(r.mark for r in readers_of(desk.engine))  # the last send's mark, written


def test_a_view_slack_could_not_be_reached_for_is_sent_once_it_can(desk: Desk, home):
    # Nothing listens where the client sends: the send fails without a traceback, the reader
    # is written down as not sent, and the first look after Slack is back sends the view.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/api/"
    reachable, home._client.base_url = home._client.base_url, dead
    home.opened("UBOB")
    eventually(lambda: [r.mark for r in readers_of(desk.engine)] == [""])
    assert views(desk.standin, "UBOB") == []
    home._client.base_url = reachable
    eventually(lambda: views(desk.standin, "UBOB"))
    eventually(lambda: all(r.mark for r in readers_of(desk.engine)))


def test_the_watcher_reads_no_queue_while_nobody_reads_the_home_tab(
    desk: Desk, home, monkeypatch: pytest.MonkeyPatch
):
    looks, marks = [], []

    def counted_readers(conn: Any) -> Any:
        looks.append(1)
        return readers(conn)

    def counted_marks(conn: Any) -> Any:
        marks.append(1)
        return queue_marks(conn)

    monkeypatch.setattr(home_module, "readers", counted_readers)
    monkeypatch.setattr(home_module, "queue_marks", counted_marks)
    home.watch()
    eventually(lambda: len(looks) >= 3)
    assert marks == []  # three looks, no reader: the queue's grouped reads were not run
    home.opened("UBOB")
    eventually(lambda: views(desk.standin, "UBOB"))
    seen = len(marks)  # the view's own mark
    eventually(lambda: len(marks) > seen)  # a reader now: the watcher's looks read the queue


def test_a_reader_gone_for_a_week_is_forgotten(desk: Desk):
    clock = [datetime.now(UTC)]
    home = replica(desk, now=lambda: clock[0])
    home.opened("UBOB")
    eventually(lambda: views(desk.standin, "UBOB"))
    eventually(lambda: reader_users(desk.engine) == {"UBOB"})
    clock[0] += timedelta(days=8)
    desk.vote("UALICE", FIRST)
    eventually(lambda: reader_users(desk.engine) == set())
    time.sleep(0.5)
    assert len(views(desk.standin, "UBOB")) == 1
    # Back on the tab: a reader again, kept current.
    home.opened("UBOB")
    eventually(lambda: len(views(desk.standin, "UBOB")) == 2)
    eventually(lambda: reader_users(desk.engine) == {"UBOB"})  # written once it was sent


def readers_of(engine: Engine) -> list[Reader]:
    with engine.connect() as conn:
        return readers(conn)


def reader_users(engine: Engine) -> set[str]:
    return {r.user for r in readers_of(engine)}


def test_the_refresher_lets_go_of_sends_that_throttle_nothing():
    """Each reader's last send is kept only while it holds their next one back."""
    sent: list[str] = []
    views = CardRefresher(sent.append, interval=0)
    for i in range(1_500):
        views.mark(f"U{i:05d}")
    assert views.flush()
    assert len(sent) == 1_500 and len(views._last) <= 1_001
