"""The Home tab's view stays within Slack's limits whatever the queue holds: an editor with 200
waiting cards (and long titles, URLs and desk names) sees as many as fit, the soonest to
close first, and is told how many more and where to see them."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import config_from_mapping
from bot.house_rules import vote_rules
from bot.rules import states
from bot.rules.tally import BUTTON_PUBLISH, BUTTON_REJECT, PUBLISH, REJECT, Tally, is_button
from bot.slack.home_view import PUBLISH_ACTION, VETO_ACTION, HomeEntry, home_view
from bot.slack.limits import VIEW_BLOCKS_MAX, view_problems
from storage.fields import FINGERPRINT_KEYS
from storage.home_views import HomeCard
from tests.slack_standin import over_limits
from tests.test_slack_loop import mrkdwn_of

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
    return HomeEntry(card, desk, Tally(VOTERS[:20], VOTERS[20:]), posted + rules.window, "publish")


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


def test_a_chief_who_edits_no_desk_gets_only_the_veto_button(tmp_path: Path):
    config = _config(tmp_path)
    entries = [replace(_entry(config, i, states.OPEN), can_veto=i % 2 == 0) for i in range(4)]
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
