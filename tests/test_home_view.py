"""The Home tab's view stays within Slack's limits whatever the queue holds: an editor with 200
waiting cards (and long titles, URLs and desk names) sees as many as fit, the soonest to
close first, and is told how many more and where to see them. Built by hand, and once from
cards in the database, sent to the local Slack stand-in when a chief opens the tab."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from bot.config import config_from_mapping
from bot.house_rules import vote_rules
from bot.rules import states
from bot.rules.tally import BUTTON_PUBLISH, BUTTON_REJECT, PUBLISH, REJECT, Tally, is_button
from bot.slack.home_view import PUBLISH_ACTION, VETO_ACTION, HomeEntry, home_view
from bot.slack.limits import VIEW_BLOCKS_MAX, view_problems
from storage.fields import FINGERPRINT_KEYS
from storage.home_views import HomeCard
from storage.models import Article, Post, Vote
from tests.desk_newsroom import home_tabs_stopped
from tests.slack_requests import home_opened_event, send_event, serve_bot
from tests.slack_standin import SlackStandIn, over_limits
from tests.test_slack_loop import eventually, mrkdwn_of

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
VOTERS = tuple(f"U{i:08d}" for i in range(40))


def _config(tmp_path: Path):
    desks = [
        {"name": "Investigations & Data", "channel": "#inv", "topics": ["x"],
         "editors": ["UEDITOR"]},
        {"name": "General", "channel": "#curation"},
    ]  # fmt: skip
    return config_from_mapping(
        {"content": {"remote": "/nowhere"}, "slack": {"editors": ["UEDITOR"]},
         "schedule": {"publish": "0 10 * * *"}, "desks": desks},
        path=tmp_path / "curator.yml", env={"DATABASE_URL": "sqlite://"},
    )  # fmt: skip


def _entry(config, i: int, status: str) -> HomeEntry:
    desk = config.desks[i % 2]
    posted = NOW - timedelta(hours=i)
    title = "Ünïcode “title” <b>&</b> *bold* " * 20 + str(i)
    url = "https://example.org/" + "a" * 2500 + f"/{i}"
    card = HomeCard(
        post_id=i, status=status, desk=desk.name, channel="CINV", title=title, url=url,
        permalink=f"https://newsroom.slack.com/archives/CINV/p18000000{i:08d}",
        posted_at=posted, changed_at=posted, commit_sha="a" * 40,
    )  # fmt: skip
    rules = vote_rules(desk)
    tally_ = Tally(VOTERS[:20], VOTERS[20:])
    return HomeEntry(card, desk, tally_, posted + rules.window, "publish", can_vote=True)


def test_an_editor_with_200_waiting_cards_gets_a_view_within_slacks_limits(tmp_path: Path):
    config = _config(tmp_path)
    entries = [_entry(config, i, states.OPEN) for i in range(200)]
    entries += [_entry(config, 200 + i, states.APPROVED) for i in range(60)]
    entries += [_entry(config, 300 + i, states.PUBLISHED) for i in range(60)]
    view = home_view(entries, config, editing=config.desks, now=NOW, notice="x" * 5000)
    assert view_problems(view) == []
    # Checked apart from the bot's own checker, as the stand-in refuses a view.
    assert over_limits(view, blocks_max=100) == []
    assert len(json.dumps(view).encode()) < 250_000
    assert len(view["blocks"]) <= VIEW_BLOCKS_MAX
    shown = mrkdwn_of(view["blocks"])
    pressed = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    ids = [int(e["value"]) for e in pressed if e["action_id"] == PUBLISH_ACTION]
    assert len(ids) > 20
    # The soonest to close first: the oldest cards (higher i were posted earlier).
    closes = {e.card.post_id: e.closes_at for e in entries}
    assert [closes[i] for i in ids] == sorted(closes[i] for i in ids)
    assert max(closes[i] for i in ids) <= min(
        closes[e.card.post_id] for e in entries[:200] if e.card.post_id not in ids
    )
    assert f"{200 - len(ids)} more did not fit here" in shown
    assert "/digest status:pending" in shown
    assert "Waiting for your vote* · 200" in shown


def test_200_waiting_cards_with_every_mark_and_a_chiefs_veto_fit_slacks_limits(tmp_path: Path):
    """Every waiting card changed in every key that counts, with a Veto button (and its
    confirm dialog) beside Publish and Reject; decided cards of every kind, vetoed ones too."""
    config = _config(tmp_path)
    keys = tuple(FINGERPRINT_KEYS)
    entries = [
        replace(_entry(config, i, states.OPEN), can_veto=True, changed=keys) for i in range(200)
    ]
    kinds = (states.REJECTED, states.UNPUBLISHING, states.UNPUBLISHED, states.PUBLISHED)
    for i in range(80):
        e = _entry(config, 300 + i, kinds[i % len(kinds)])
        entries.append(replace(e, tally=Tally(VOTERS[:5], VOTERS[5:], veto=VOTERS[:12])))
    view = home_view(entries, config, editing=config.desks, now=NOW, notice="x" * 5000)
    assert view_problems(view) == [] and over_limits(view, blocks_max=100) == []
    shown = mrkdwn_of(view["blocks"])
    assert f"changed since the votes: {', '.join(keys)}" in shown
    assert "vetoed" in shown and "being unpublished" in shown and "· unpublished " in shown
    pressed = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    vetoes = [e for e in pressed if e["action_id"] == VETO_ACTION]
    assert len(vetoes) > 20 and all(e["confirm"] and e["style"] == "danger" for e in vetoes)


def test_a_chief_editor_with_200_waiting_cards_opens_a_home_tab_within_slacks_limits(
    tmp_path: Path, db_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
):
    """200 open cards in the database, with long titles and URLs, ten votes each, every
    fourth changed after its votes; the desk's chief, who edits it, opens the Home tab."""
    config = config_from_mapping(
        {"content": {"remote": str(tmp_path / "remote.git")},
         "slack": {"channel": "#curation", "editors": ["UCHIEF"], "chiefs": ["UCHIEF"]},
         "votes": {"quorum": 11, "window_days": 3, "veto": ["no_entry"]}},
        path=tmp_path / "curator.yml", env={"DATABASE_URL": db_url},
    )  # fmt: skip
    _waiting_cards(engine, config.desks[0].name, 200)
    with (
        SlackStandIn(users={"UCHIEF": "Chief"}) as standin,
        home_tabs_stopped(monkeypatch),
        serve_bot(config, engine, standin.url) as endpoint,
    ):
        assert send_event(endpoint, home_opened_event("UCHIEF")) == 200
        eventually(lambda: standin.views.get("UCHIEF"))
    # The stand-in takes only a view within Slack's limits; checked here too.
    [view] = standin.views["UCHIEF"]
    assert over_limits(view, blocks_max=100) == [] and view_problems(view) == []
    shown = mrkdwn_of(view["blocks"])
    assert "Waiting for your vote* · 200" in shown
    assert "changed since the votes: title, body" in shown
    pressed = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    vetoes = [e for e in pressed if e["action_id"] == VETO_ACTION]
    assert 20 < len(vetoes) < 200
    assert len(vetoes) == sum(e["action_id"] == PUBLISH_ACTION for e in pressed)
    assert f"{200 - len(vetoes)} more did not fit here" in shown


def _waiting_cards(engine: Engine, desk: str, count: int) -> None:
    """``count`` open cards in Slack, posted over the last hours, as the daily post leaves
    them; every fourth changed in its title and body after its votes."""
    now = datetime.now(UTC)
    title = "Ünïcode “title” <b>&</b> *bold* " * 20
    articles = [
        {"path": f"a{i}.md", "blob_sha": "0" * 40, "title": f"{title}{i}", "published": False,
         "url": "https://example.org/" + "a" * 2500 + f"/{i}"}
        for i in range(count)
    ]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(Article.__table__), articles)
        ids = list(conn.scalars(select(Article.__table__.c.id).order_by("id")))
        posts = [
            {"article_id": a, "channel": "CCURATION", "desk": desk, "day": "2026-12-01",
             "ts": f"1800000000.{i:06d}", "status": "open",
             "permalink": f"https://newsroom.slack.com/archives/CCURATION/p18000000{i:08d}",
             "created_at": now - timedelta(minutes=i), "status_changed_at": now,
             "votes_since": "1700000000.000000" if i % 4 == 0 else None,
             "changed_keys": "title,body" if i % 4 == 0 else None}
            for i, a in enumerate(ids)
        ]  # fmt: skip
        conn.execute(insert(Post.__table__), posts)
        post_ids = list(conn.scalars(select(Post.__table__.c.id)))
        votes = [
            {"post_id": p, "user_id": voter, "reaction": "x" if j % 2 else "white_check_mark",
             "choice": "reject" if j % 2 else "publish", "present": True,
             "event_ts": f"1600000000.{j:06d}", "updated_at": now}
            for p in post_ids
            for j, voter in enumerate(VOTERS[:10])
        ]  # fmt: skip
        conn.execute(insert(Vote.__table__), votes)


def test_a_chief_who_edits_no_desk_gets_only_the_veto_button(tmp_path: Path):
    config = _config(tmp_path)
    entries = [
        replace(_entry(config, i, states.OPEN), can_veto=i % 2 == 0, can_vote=False)
        for i in range(4)
    ]
    view = home_view(entries, config, editing=[], now=NOW)
    pressed = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [e["action_id"] for e in pressed] == [VETO_ACTION, VETO_ACTION]


def test_the_views_limits_are_checked():
    too_many = {"type": "home", "blocks": [{"type": "divider"}] * 101}
    assert view_problems(too_many) == ["blocks: 101, over 100"]
    assert view_problems({"type": "modal", "blocks": [{"type": "divider"}]}) != []
    big = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn",
           "text": "é" * 2900}}] * 100}  # fmt: skip
    assert any("bytes, over 250000" in p for p in view_problems(big))
    long_id = {"type": "home", "callback_id": "c" * 256, "blocks": [{"type": "divider"}]}
    assert view_problems(long_id) == ["callback_id: 256 characters, over 255"]


def test_button_votes_are_votes_no_emoji_can_be(tmp_path: Path):
    rules = vote_rules(_config(tmp_path).desks[0])
    assert rules.choice(BUTTON_PUBLISH) == PUBLISH and rules.choice(BUTTON_REJECT) == REJECT
    assert is_button(BUTTON_PUBLISH) and not is_button("white_check_mark")
    assert rules.choice("button") is None and rules.choice("button:other") is None
