"""The reminder rules on their own (which cards are due for whom, quiet hours on the wall
clock across midnight and daylight saving), their config keys, and the DM's Slack limits."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError, config_from_mapping
from bot.rules.reminders import (
    OpenCard,
    QuietHours,
    due_reminders,
    format_duration,
    is_due,
    is_quiet,
    parse_duration,
    parse_quiet_hours,
    window_started_between,
)
from bot.slack.limits import POSTED_TEXT_MAX, message_problems, text_length
from bot.slack.reminder_message import RemindedCard, reminder_message
from tests.slack_standin import over_limits, too_much_text

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


# ------------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("24h", timedelta(hours=24)),
        ("90m", timedelta(minutes=90)),
        ("2d", timedelta(days=2)),
        ("1d12h", timedelta(hours=36)),
        (" 6H ", timedelta(hours=6)),
        ("1h 30m", timedelta(minutes=90)),
    ],
)
def test_durations_read_as_written(text: str, value: timedelta) -> None:
    assert parse_duration(text) == value
    assert parse_duration(format_duration(value)) == value


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("24", "expected a duration"),
        ("h", "expected a duration"),
        ("1w", "expected a duration"),
        ("-2h", "expected a duration"),
        ("0h", "write off"),
        ("400d", "at most 365d"),
        ("", "expected"),
    ],
)
def test_durations_that_are_not(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_duration(text)


# ----------------------------------------------------------------------------- quiet hours


def test_quiet_hours_wrap_midnight() -> None:
    night = parse_quiet_hours("20:00-08:00")
    assert str(night) == "20:00-08:00"
    at = lambda hh, mm: datetime(2026, 11, 26, hh, mm, tzinfo=UTC)  # noqa: E731
    assert [
        is_quiet(at(h, m), night, UTC)
        for h, m in [(19, 59), (20, 0), (23, 59), (0, 0), (7, 59), (8, 0), (12, 0)]
    ] == [False, True, True, True, True, False, False]
    lunch = parse_quiet_hours("12:00-13:30")
    assert [is_quiet(at(h, m), lunch, UTC) for h, m in [(11, 59), (12, 0), (13, 29), (13, 30)]] == [
        False,
        True,
        True,
        False,
    ]
    assert not is_quiet(at(3, 0), None, UTC)


def test_quiet_hours_follow_the_wall_clock_across_daylight_saving() -> None:
    night = QuietHours(time(20, 0), time(8, 0))
    # 06:30 UTC is 07:30 in a Berlin winter (quiet) and 08:30 in its summer (not).
    assert is_quiet(datetime(2026, 1, 15, 6, 30, tzinfo=UTC), night, BERLIN)
    assert not is_quiet(datetime(2026, 7, 15, 6, 30, tzinfo=UTC), night, BERLIN)
    # The night the clocks go forward (29 March 2026, 02:00 -> 03:00): quiet ends at 08:00
    # local, 06:00 UTC, an hour earlier in UTC than the night before.
    assert is_quiet(datetime(2026, 3, 28, 6, 59, tzinfo=UTC), night, BERLIN)
    assert not is_quiet(datetime(2026, 3, 29, 6, 0, tzinfo=UTC), night, BERLIN)
    # The night they go back (25 October 2026): both 02:30s are quiet, 08:00 local is 07:00 UTC.
    early = QuietHours(time(2, 0), time(3, 0))
    assert is_quiet(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), early, BERLIN)  # 02:30 CEST
    assert is_quiet(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), early, BERLIN)  # 02:30 CET
    assert not is_quiet(datetime(2026, 10, 25, 2, 0, tzinfo=UTC), early, BERLIN)  # 03:00 CET
    assert not is_quiet(datetime(2026, 10, 25, 7, 0, tzinfo=UTC), night, BERLIN)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("20-08", "expected a span"),
        ("24:00-08:00", "hours are 00 to 23"),
        ("08:60-09:00", "minutes"),
        ("08:00-08:00", "the same"),
        ("8pm-8am", "expected a span"),
    ],
)
def test_quiet_hours_that_are_not(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_quiet_hours(text)


# -------------------------------------------------------------------------------- who, what


def card(post_id: int, closes_in: timedelta, editors=("UA", "UB"), voted=()) -> OpenCard:
    return OpenCard(post_id, NOW + closes_in, frozenset(editors), frozenset(voted))


def test_due_lists_each_editors_unvoted_cards_soonest_first() -> None:
    cards = [
        card(1, timedelta(hours=20)),
        card(2, timedelta(hours=2), voted=("UA",)),
        card(3, timedelta(hours=30)),  # not yet
        card(4, timedelta(hours=5), editors=("UB", "UC")),
        card(5, timedelta(seconds=0)),  # closing now: closed
        card(6, timedelta(hours=-1)),
    ]
    due = due_reminders(cards, now=NOW, remind_before=timedelta(hours=24))
    assert {u: [c.post_id for c in cs] for u, cs in due.items()} == {
        "UA": [1],
        "UB": [2, 4, 1],
        "UC": [4],
    }
    again = due_reminders(
        cards, now=NOW, remind_before=timedelta(hours=24), reminded={(1, "UA"), (2, "UB")}
    )
    assert {u: [c.post_id for c in cs] for u, cs in again.items()} == {"UB": [4, 1], "UC": [4]}
    assert due_reminders(cards, now=NOW, remind_before=None) == {}


def test_due_is_the_reminder_span_and_what_to_fetch_matches_it() -> None:
    window, before = timedelta(days=3), timedelta(hours=24)
    after, until = window_started_between(NOW, window=window, remind_before=before)
    for posted in (after, after + timedelta(seconds=1), until, until + timedelta(seconds=1)):
        closes = posted + window
        assert is_due(closes, now=NOW, remind_before=before) == (after < posted <= until)


# ------------------------------------------------------------------------------------ config


def build(tmp_path: Path, votes=None, desks=None):
    data = {"content": {"remote": str(tmp_path)}, "slack": {"channel": "#c", "editors": ["UA1"]}}
    if votes is not None:
        data["votes"] = votes
    if desks is not None:
        data["desks"] = desks
    return config_from_mapping(data, path=None, env={"DATABASE_URL": "sqlite:///x.db"})


def test_remind_keys_default_and_per_desk(tmp_path: Path) -> None:
    config = build(tmp_path)
    assert config.votes.remind_before == timedelta(hours=24)
    assert config.votes.quiet_hours is None
    assert "remind" in [job.name for job in config.scheduled_jobs()]
    assert config.schedule.remind == "*/15 * * * *" and config.schedule.grace_minutes("remind")
    desks = [
        {
            "name": "AI",
            "channel": "#ai",
            "topics": ["AI"],
            "remind_before": "off",
            "quiet_hours": "22:00-06:00",
        },
        {"name": "Rest", "channel": "#rest"},
    ]
    config = build(tmp_path, {"remind_before": "2d", "quiet_hours": "20:00-08:00"}, desks)
    ai, rest = config.desks
    assert ai.votes.remind_before is None and str(ai.votes.quiet_hours) == "22:00-06:00"
    assert rest.votes.remind_before == timedelta(days=2)
    assert str(rest.votes.quiet_hours) == "20:00-08:00"
    off = build(tmp_path, {"remind_before": False, "quiet_hours": None})
    assert off.votes.remind_before is None


def test_remind_key_mistakes_are_told_together(tmp_path: Path) -> None:
    desks = [{"name": "AI", "channel": "#ai", "remind_before": None}]
    with pytest.raises(ConfigError) as told:
        build(tmp_path, {"remind_before": "tomorrow", "quiet_hours": "late"}, desks)
    errors = told.value.errors
    assert any("votes.remind_before: expected a duration like '24h'" in e for e in errors)
    assert any(
        "votes.quiet_hours: expected a span of local time like '20:00-08:00'" in e for e in errors
    )
    assert any("desks[0].remind_before: expected a duration" in e and "null" in e for e in errors)


# ----------------------------------------------------------------------------------- the DM


def test_the_dm_fits_slacks_limits_whatever_the_titles() -> None:
    hostile = [
        "<!channel> & <https://evil|x> *bold* :x: " * 40,
        "\u202e" + "é" * 3000,
        "`" * 500,
        "",
        "😀" * 1500,
        "a" * 10_000,
    ]
    for count in (1, 5, 60, 200):
        cards = [
            RemindedCard(
                i,
                hostile[i % len(hostile)] or None,
                f"path/{i}.md",
                f"https://newsroom.slack.com/archives/C1/p{i}" if i % 3 else None,
                "AI & <Science>",
                NOW + timedelta(minutes=10 + i),
            )
            for i in range(count)
        ]
        text, blocks = reminder_message(cards, now=NOW, tz=BERLIN, command="/digest")
        as_json = {"text": text, "blocks": [b.to_dict() for b in blocks]}
        assert message_problems(text, blocks, posted=True) == []
        assert not over_limits(as_json) and not too_much_text(as_json)
        assert text_length(as_json["blocks"]) <= POSTED_TEXT_MAX
        body = "\n".join(b["text"]["text"] for b in as_json["blocks"] if b["type"] == "section")
        shown = sum(1 for line in body.splitlines() if line.startswith("• "))
        more = re.search(r"and (\d+) more closing soon", body)
        assert shown + (int(more.group(1)) if more else 0) == count
        assert "<!channel>" not in body and "<https://evil" not in body
        if count == 200:
            assert more is not None and shown >= 10
        assert text.startswith(f"{count} card")
