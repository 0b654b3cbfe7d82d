"""The Home tab, over real HTTP on SQLite and PostgreSQL: an editor's queue published when they
open it, Publish / Reject buttons that count exactly like reactions, and views that follow
the queue without hammering Slack.

Slack-signed events and button presses go into the bot's endpoint under the production
server; the cards were posted to the local Slack stand-in by each desk's daily post (the
four desks of ``tests/desk_newsroom.py``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from bot.config import Config
from bot.house_rules import vote_rules
from bot.rules.tally import tally
from bot.slack.editors import editors_from
from bot.slack.home import HomeTabs
from bot.slack.home_view import PUBLISH_ACTION, REJECT_ACTION, VETO_ACTION
from bot.slack.limits import view_problems
from bot.slack.voting import expire_posts, reconcile
from storage.votes import reactions_of
from tests.desk_newsroom import (
    DESKS,
    EDITORS,
    NOW,
    DeskStandIn,
    cards,
    client,
    desk_config,
    home_tabs_stopped,
    post_a_day,
    react,
    running_standin,
    stamp,
    voters,
)
from tests.helpers import Newsroom
from tests.slack_requests import (
    button_action,
    home_opened_event,
    send_action,
    send_event,
    serve_bot,
)
from tests.slack_standin import BOT_USER
from tests.test_slack_loop import eventually, mrkdwn_of

HOME_INTERVAL = 0.3  # the tests' least time between two views of one reader


@pytest.fixture(autouse=True)
def home_tabs_stop(
    monkeypatch: pytest.MonkeyPatch, engine: Engine, standin: DeskStandIn
) -> Iterator[None]:
    """Every Home tab watcher a test starts ends with it, before its database and Slack do."""
    with home_tabs_stopped(monkeypatch):
        yield


@pytest.fixture
def standin() -> Iterator[DeskStandIn]:
    with running_standin({**EDITORS, "UERIN": "Erin"}) as s:
        yield s


@pytest.fixture
def config(request: pytest.FixtureRequest, tmp_path: Path, db_url: str, newsroom: Newsroom):
    """The four desks; a test may give other keys (``indirect`` parametrization)."""
    return desk_config(tmp_path, db_url, newsroom.remote, **getattr(request, "param", {}))


@pytest.fixture
def day(engine, newsroom, content_repo, standin, config) -> None:
    post_a_day(newsroom, content_repo, engine, standin, config)


@pytest.fixture
def endpoint(config: Config, engine: Engine, standin: DeskStandIn, day) -> Iterator[str]:
    with serve_bot(config, engine, standin.url, home_interval=HOME_INTERVAL) as url:
        yield url


def open_home(endpoint: str, user: str) -> None:
    assert send_event(endpoint, home_opened_event(user)) == 200


def press(endpoint: str, user: str, title: str, engine: Engine, *, publish: bool = True,
          action_ts: str | None = None) -> str:  # fmt: skip
    action = PUBLISH_ACTION if publish else REJECT_ACTION
    ts = action_ts or stamp()
    assert send_action(endpoint, button_action(user, action, cards(engine)[title].id, ts)) == 200
    return ts


def views(standin: DeskStandIn, user: str) -> list[dict[str, Any]]:
    return list(standin.views.get(user, []))


def buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


def counted(engine: Engine, config: Config, title: str) -> tuple[tuple[str, ...], ...]:
    """(publish voters, reject voters) of a card, as the tally counts them."""
    post = cards(engine)[title]
    with engine.connect() as conn:
        t = tally(reactions_of(conn, post_id=post.id), vote_rules(config.desk(post.desk)))
    return t.publish, t.reject


def test_opening_the_home_tab_publishes_the_editors_queue(endpoint, standin, engine):
    open_home(endpoint, "UALICE")
    eventually(lambda: views(standin, "UALICE"))
    view = views(standin, "UALICE")[-1]
    assert view["type"] == "home" and view_problems(view) == []
    shown = mrkdwn_of(view["blocks"])
    # Alice edits AI, Science and General (slack.editors): their cards, not Policy's.
    for title in ("AI alpha", "AI beta", "Science alpha", "Sports beta"):
        assert title in shown
    assert "Policy alpha" not in shown
    assert "Waiting for your vote* · 6" in shown
    # Soonest to close first: AI's window is 2 days, the others' 3.
    assert shown.index("AI beta") < shown.index("Science alpha")
    assert "1 needed" in shown and "closes" in shown and "|card>" in shown
    pressed = buttons(view)
    assert len(pressed) == 12  # Publish and Reject on each waiting card
    assert {b["action_id"] for b in pressed} == {PUBLISH_ACTION, REJECT_ACTION}
    # Only those who opened the Home tab get views.
    assert set(standin.views) == {"UALICE"}


def test_the_publish_button_approves_at_quorum_like_a_reaction(endpoint, standin, engine, config):
    open_home(endpoint, "UBOB")
    eventually(lambda: views(standin, "UBOB"))
    # Policy's quorum is 2: Bob's button and Dave's reaction approve it together.
    press(endpoint, "UBOB", "Policy alpha", engine)
    eventually(lambda: counted(engine, config, "Policy alpha") == (("UBOB",), ()))
    assert cards(engine)["Policy alpha"].status == "open"
    react(endpoint, "Policy alpha", "UDAVE", "white_check_mark", engine)
    eventually(lambda: cards(engine)["Policy alpha"].status == "approved")
    card = cards(engine)["Policy alpha"]
    # The card in the channel shows both votes (chat.update at the stand-in).
    eventually(lambda: "<@UBOB>, <@UDAVE>" in mrkdwn_of(standin.messages[(card.channel, card.ts)]))
    assert any(c.params["ts"] == card.ts for c in standin.called("chat.update"))
    # Bob's Home tab follows: the card has left the waiting list for the approved one.
    eventually(
        lambda: "Approved, waiting for the publisher* · 1" in mrkdwn_of(views(standin, "UBOB")[-1])
    )


def test_a_reaction_after_a_button_replaces_it_and_back(endpoint, standin, engine, config):
    press(endpoint, "UBOB", "Policy alpha", engine)
    eventually(lambda: counted(engine, config, "Policy alpha") == (("UBOB",), ()))
    react(endpoint, "Policy alpha", "UBOB", "x", engine)
    eventually(lambda: counted(engine, config, "Policy alpha") == ((), ("UBOB",)))
    press(endpoint, "UBOB", "Policy alpha", engine)
    eventually(lambda: counted(engine, config, "Policy alpha") == (("UBOB",), ()))
    press(endpoint, "UBOB", "Policy alpha", engine, publish=False)
    eventually(lambda: counted(engine, config, "Policy alpha") == ((), ("UBOB",)))
    react(endpoint, "Policy alpha", "UBOB", "white_check_mark", engine)
    eventually(lambda: counted(engine, config, "Policy alpha") == (("UBOB",), ()))
    # One vote per editor however it was cast: Carol's reject ties, and ties do not reject.
    react(endpoint, "Policy alpha", "UCAROL", "x", engine)
    eventually(lambda: counted(engine, config, "Policy alpha") == (("UBOB",), ("UCAROL",)))
    assert cards(engine)["Policy alpha"].status == "open"


def test_the_same_action_twice_counts_once(endpoint, standin, engine, config):
    ts = press(endpoint, "UBOB", "Policy alpha", engine)
    eventually(lambda: counted(engine, config, "Policy alpha") == (("UBOB",), ()))
    react(endpoint, "Policy alpha", "UBOB", "x", engine)
    eventually(lambda: counted(engine, config, "Policy alpha") == ((), ("UBOB",)))
    before = set(voters(engine, cards(engine)["Policy alpha"].id))
    # The button press delivered again (a retry): older than the reaction, it changes nothing.
    press(endpoint, "UBOB", "Policy alpha", engine, action_ts=ts)
    press(endpoint, "UBOB", "Policy alpha", engine, action_ts=ts)
    time.sleep(1)
    assert counted(engine, config, "Policy alpha") == ((), ("UBOB",))
    assert set(voters(engine, cards(engine)["Policy alpha"].id)) == before


def test_a_non_editor_sees_every_queue_without_buttons_and_cannot_vote(endpoint, standin, engine):
    open_home(endpoint, "UERIN")  # Erin edits no desk
    eventually(lambda: views(standin, "UERIN"))
    view = views(standin, "UERIN")[-1]
    shown = mrkdwn_of(view["blocks"])
    assert buttons(view) == [] and view_problems(view) == []
    assert "Policy alpha" in shown and "AI alpha" in shown and "Waiting for votes* · 8" in shown
    # A button press forged by Erin (she was never shown one) is refused, and she is told.
    press(endpoint, "UERIN", "AI alpha", engine)
    eventually(lambda: "editors vote on that card" in mrkdwn_of(views(standin, "UERIN")[-1]))
    assert voters(engine, cards(engine)["AI alpha"].id) == set()
    assert cards(engine)["AI alpha"].status == "open"
    # Alice does not edit Policy: her press there is refused too.
    press(endpoint, "UALICE", "Policy alpha", engine)
    time.sleep(0.5)
    assert voters(engine, cards(engine)["Policy alpha"].id) == set()


# Alice edits AI, Science and General, and is the Policy desk's chief, with its veto.
POLICY_CHIEF = [d if d["name"] != "Policy" else {**d, "chiefs": ["UALICE"], "veto": ["no_entry"]}
                for d in DESKS]  # fmt: skip


@pytest.mark.parametrize("config", [{"desks": POLICY_CHIEF}], indirect=True)
def test_a_chief_of_a_desk_they_do_not_edit_vetoes_its_cards_from_the_home_tab(
    endpoint, standin, engine
):
    open_home(endpoint, "UALICE")
    eventually(lambda: views(standin, "UALICE"))
    view = views(standin, "UALICE")[-1]
    shown = mrkdwn_of(view["blocks"])
    assert "Policy alpha" in shown and "AI alpha" in shown and view_problems(view) == []
    assert "As their chief you may veto the cards of Policy." in shown
    policy = str(cards(engine)["Policy alpha"].id)
    mine = [(b["action_id"], b["value"]) for b in buttons(view)]
    # Her own desks' cards: Publish and Reject; Policy's: only Veto.
    assert (PUBLISH_ACTION, str(cards(engine)["AI alpha"].id)) in mine
    assert [a for a, v in mine if v == policy] == [VETO_ACTION]
    ts = stamp()
    assert send_action(endpoint, button_action("UALICE", VETO_ACTION, int(policy), ts)) == 200
    eventually(lambda: cards(engine)["Policy alpha"].status == "rejected")
    card = cards(engine)["Policy alpha"]
    eventually(
        lambda: (
            "*Vetoed* by <@UALICE>"
            in mrkdwn_of(standin.messages[(card.channel, card.ts)]["blocks"])
        )
    )


def test_a_forged_button_press_is_refused_in_a_line(endpoint, standin, engine, caplog):
    """A button's value and action_ts come from whoever signed the request: only a post id
    and a Slack timestamp are taken (the tally orders votes by that timestamp)."""
    post_id = cards(engine)["AI alpha"].id
    forged = [
        ("²", stamp()), ("9" * 40, stamp()), (str(post_id), "abc"), (str(post_id), "NaN"),
        (str(post_id), "1e9"), (str(post_id), "1800000000.1234567890"), (str(post_id), ""),
    ]  # fmt: skip
    with caplog.at_level(logging.WARNING):
        for value, ts in forged:
            payload = button_action("UALICE", PUBLISH_ACTION, post_id, ts)
            payload["actions"][0]["value"] = value
            assert send_action(endpoint, payload) == 200
        eventually(lambda: refusals(caplog) == len(forged))
    assert not [r for r in caplog.records if r.exc_info]
    assert voters(engine, post_id) == set()
    # The same press as Slack sends it counts, and Alice's Home tab follows.
    press(endpoint, "UALICE", "AI alpha", engine)
    eventually(lambda: voters(engine, post_id) == {("UALICE", "button:publish")})
    eventually(lambda: "Approved, waiting" in mrkdwn_of(views(standin, "UALICE")[-1:]))


def refusals(caplog: pytest.LogCaptureFixture) -> int:
    return sum("not a button of ours" in r.getMessage() for r in caplog.records)


def test_a_button_on_a_card_that_closed_says_so(endpoint, standin, engine, config):
    open_home(endpoint, "UALICE")
    eventually(lambda: views(standin, "UALICE"))
    assert expire_posts(engine, client(standin), config, NOW + timedelta(days=30)) == 8
    press(endpoint, "UALICE", "AI alpha", engine)
    eventually(lambda: "closed (expired)" in mrkdwn_of(views(standin, "UALICE")[-1]))
    assert voters(engine, cards(engine)["AI alpha"].id) == set()
    assert cards(engine)["AI alpha"].status == "expired"


def test_reconcile_leaves_button_votes_alone(endpoint, standin, engine, config):
    press(endpoint, "UALICE", "AI alpha", engine)
    eventually(lambda: cards(engine)["AI alpha"].status == "approved")
    later = datetime.now(UTC) + timedelta(days=800)  # after every stamp the test made
    report = reconcile(
        engine, client(standin), config, later, bot_user=BOT_USER, editors=editors_from(config)
    )
    assert report.failed == 0
    assert counted(engine, config, "AI alpha") == (("UALICE",), ())
    assert cards(engine)["AI alpha"].status == "approved"
    assert ("UALICE", "button:publish") in voters(engine, cards(engine)["AI alpha"].id)


def test_a_burst_of_votes_becomes_few_views(config, engine, standin, day):
    """Twenty votes over about two seconds: each reader whose queue they change gets a view
    at most once a second (the interval here), each showing the queue as it is by then."""
    readers = ("UDAVE", "UCAROL", "UALICE")  # Dave and Carol edit Policy; Alice does not
    with serve_bot(config, engine, standin.url, home_interval=1.0) as endpoint:
        for user in readers:
            open_home(endpoint, user)
        eventually(lambda: all(views(standin, u) for u in readers))
        time.sleep(1.2)
        before = {u: len(views(standin, u)) for u in (*readers, "UBOB")}
        started = time.monotonic()
        # Bob's votes on Policy's cards, each counted before the next; he ends on a reject
        # of both (no quorum: the cards stay open).
        for i in range(10):
            for title in ("Policy alpha", "Policy beta"):
                react(endpoint, title, "UBOB", "x" if i % 2 else "white_check_mark", engine)
                want = ((), ("UBOB",)) if i % 2 else (("UBOB",), ())
                eventually(lambda t=title, w=want: counted(engine, config, t) == w)
                time.sleep(0.05)
        took = time.monotonic() - started
        for user in ("UDAVE", "UCAROL"):
            eventually(
                lambda u=user: mrkdwn_of(views(standin, u)[-1]).count(":x: 1 (<@UBOB>)") == 2
            )
        time.sleep(1.2)
    sent = {u: len(views(standin, u)) - before[u] for u in before}
    # At most one view a second per reader (and one more for the end of the burst).
    most = int(took) + 2
    assert 1 <= sent["UDAVE"] <= most and 1 <= sent["UCAROL"] <= most, (sent, took)
    assert sent["UALICE"] == 0  # her queue did not change
    assert sent["UBOB"] == 0  # he never opened the Home tab


def test_a_home_tab_follows_what_the_jobs_change(config, engine, standin, day):
    """Expiry, publishing and a new day's cards happen in the jobs, maybe on another replica:
    the watcher sees them in the database and sends the views that show those desks."""
    home = HomeTabs(engine, config, client(standin), editors_from(config), interval=0, poll=0.2)
    home.opened("UBOB")  # Policy, Science and General
    home.opened("UERIN")  # no desk: every desk's cards
    eventually(lambda: views(standin, "UBOB") and views(standin, "UERIN"))
    time.sleep(0.5)
    before = {u: len(views(standin, u)) for u in ("UBOB", "UERIN")}
    # AI's cards expire (a 2-day window): Erin sees every desk, Bob does not edit AI.
    assert expire_posts(engine, client(standin), config, NOW + timedelta(days=2, hours=1)) == 2
    eventually(lambda: "expired" in mrkdwn_of(views(standin, "UERIN")[-1]))
    time.sleep(0.6)
    assert len(views(standin, "UBOB")) == before["UBOB"]
    # Policy's, Science's and General's cards expire too: now Bob's view follows.
    expire_posts(engine, client(standin), config, NOW + timedelta(days=5, hours=1))
    eventually(lambda: "Waiting for your vote* · none" in mrkdwn_of(views(standin, "UBOB")[-1]))
    assert "Published, rejected, expired or unpublished lately* · 6" in mrkdwn_of(
        views(standin, "UBOB")[-1]
    )
    home.stop()


def test_the_home_tab_works_over_socket_mode(config, engine, standin, day):
    """Socket Mode hands the same envelopes and payloads to the same app, unsigned."""
    from slack_bolt.request import BoltRequest

    from tests.slack_requests import bot_app

    app, _ = bot_app(config, engine, standin.url, home_interval=HOME_INTERVAL)
    opened = BoltRequest(body=home_opened_event("UALICE"), mode="socket_mode")
    assert app.dispatch(opened).status == 200
    eventually(lambda: views(standin, "UALICE") and buttons(views(standin, "UALICE")[-1]))
    post_id = cards(engine)["AI alpha"].id
    pressed = BoltRequest(
        body=button_action("UALICE", PUBLISH_ACTION, post_id, stamp()), mode="socket_mode"
    )
    assert app.dispatch(pressed).status == 200
    eventually(lambda: cards(engine)["AI alpha"].status == "approved")
    eventually(lambda: "Approved, waiting" in mrkdwn_of(views(standin, "UALICE")[-1:]))
