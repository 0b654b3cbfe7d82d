"""One cron path: every next run the bot uses or shows comes from ``bot.rules.schedule``.

The scheduler's trigger, ``curator status``, the summary and the card footer must agree with
each other and with cron, across both daylight-saving changes and with crontab weekdays
(``1-5`` is Monday to Friday, 0 and 7 are Sunday), whether the line comes through the config
loader or is set directly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from bot.cli.status import status_lines
from bot.clock.scheduler import WallClockCronTrigger
from bot.config import Config, ContentConfig, ScheduleConfig, SlackConfig, config_from_mapping
from bot.rules.schedule import crontab_line, next_run, summary_since
from bot.rules.tally import Tally
from bot.slack.card_blocks import CardState, Emoji, candidate_card
from bot.slack.card_message import next_publish_run
from bot.slack.summary_message import _next_post
from storage.articles import ArticleView
from storage.models import PostStatus

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(text: str) -> datetime:
    """A Berlin wall-clock time as its instant (a repeated time: its first occurrence), in UTC
    since Python never finds a repeated local time equal to an instant in another zone."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN).astimezone(UTC)


# (crontab line, now, the next run cron means) — Berlin changes clocks on the last Sunday of
# March (02:00 -> 03:00) and of October (03:00 -> 02:00).
CASES = [
    # Spring: 02:30 does not exist on 29 March; it runs as the clocks jump, once.
    ("30 2 * * *", berlin("2026-03-28T12:00"), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
    ("30 2 * * *", berlin("2026-03-29T03:45"), berlin("2026-03-30T02:30")),
    ("30 1 * * *", berlin("2026-03-28T12:00"), berlin("2026-03-29T01:30")),
    # Autumn: 02:00-03:00 happens twice on 25 October; a job runs at the first occurrence
    # only, so after it the next run is the following day.
    ("30 2 * * *", berlin("2026-10-25T02:45"), berlin("2026-10-26T02:30")),
    ("30 1 * * *", berlin("2026-10-25T01:45"), berlin("2026-10-26T01:30")),
    ("30 2 * * *", berlin("2026-10-24T12:00"), berlin("2026-10-25T02:30")),
    # Crontab weekdays, from Friday 27 November 2026 10:00.
    ("0 9 * * 1-5", berlin("2026-11-27T10:00"), berlin("2026-11-30T09:00")),
    ("0 9 * * 1-5", berlin("2026-11-28T10:00"), berlin("2026-11-30T09:00")),
    ("0 9 * * MON-FRI", berlin("2026-11-27T10:00"), berlin("2026-11-30T09:00")),
    ("0 9 * * 0", berlin("2026-11-27T10:00"), berlin("2026-11-29T09:00")),
    ("0 9 * * 7", berlin("2026-11-27T10:00"), berlin("2026-11-29T09:00")),
    ("0 9 * * 6", berlin("2026-11-27T10:00"), berlin("2026-11-28T09:00")),
    ("0 9 * * 5", berlin("2026-11-26T10:00"), berlin("2026-11-27T09:00")),
]
IDS = [f"{cron}@{now.astimezone(BERLIN):%m-%d %H:%M}" for cron, now, _ in CASES]


def config_with(cron: str, tmp_path: Path, *, loaded: bool) -> Config:
    """A config whose post and publish jobs run at ``cron``: through the loader, or as written."""
    if loaded:
        data = {
            "timezone": "Europe/Berlin",
            "content": {"remote": str(tmp_path / "remote.git")},
            "slack": {"channel": "#curation", "editors": ["U0EDITOR1", "U0EDITOR2"]},
            "schedule": {"post": cron, "publish": cron},
        }
        return config_from_mapping(data, path=tmp_path / "curator.yml", env={})
    return Config(
        timezone="Europe/Berlin",
        content=ContentConfig(remote=str(tmp_path / "remote.git"), checkout=tmp_path / "clone"),
        slack=SlackConfig(channel="#curation", editors=("U0EDITOR1",)),
        schedule=ScheduleConfig(post=cron, publish=cron),
        database_url="sqlite://",
    )


def shown(at: datetime) -> str:
    """How status and the card footer write a time."""
    return f"{at.astimezone(BERLIN):%a %d %b %H:%M}"


def scheduler(config: Config, now: datetime) -> datetime | None:
    assert config.schedule.post is not None
    return WallClockCronTrigger(config.schedule.post, config.zone).get_next_fire_time(None, now)


def footer_text(config: Config, now: datetime) -> str:
    article = ArticleView(
        id=1, path="a.md", title="A", excerpt=None, url=None, quality=None, heat=None,
        dated=None, first_seen_at=now, provider_name=None, provider_domain=None,
        image_url=None, topics=(), related=(),
    )  # fmt: skip
    state = CardState(
        status=PostStatus.APPROVED, tally=Tally(), quorum=1,
        publish_at=next_publish_run(config, now),
    )  # fmt: skip
    _, blocks = candidate_card(article, state, Emoji("white_check_mark", "x"), config.zone)
    return str([block.to_dict() for block in blocks])


CALLERS: dict[str, Callable[[Config, datetime], datetime | None]] = {
    "scheduler": scheduler,
    "summary": _next_post,
    "footer": next_publish_run,
}


@pytest.mark.parametrize(("cron", "now", "expected"), CASES, ids=IDS)
def test_next_run_means_what_cron_means(cron: str, now: datetime, expected: datetime):
    assert next_run(cron, now, BERLIN) == expected
    assert next_run(crontab_line(cron), now, BERLIN) == expected


@pytest.mark.parametrize("loaded", [True, False], ids=["loaded", "as-written"])
@pytest.mark.parametrize(("cron", "now", "expected"), CASES, ids=IDS)
@pytest.mark.parametrize("caller", list(CALLERS))
def test_every_caller_agrees(
    tmp_path: Path, caller: str, cron: str, now: datetime, expected: datetime, loaded: bool
):
    config = config_with(cron, tmp_path, loaded=loaded)
    at = CALLERS[caller](config, now)
    assert at is not None and at.astimezone(UTC) == expected


@pytest.mark.parametrize("loaded", [True, False], ids=["loaded", "as-written"])
@pytest.mark.parametrize(("cron", "now", "expected"), CASES, ids=IDS)
def test_card_footer_shows_the_next_publish_run(
    tmp_path: Path, cron: str, now: datetime, expected: datetime, loaded: bool
):
    config = config_with(cron, tmp_path, loaded=loaded)
    assert f"to be published {shown(expected)}" in footer_text(config, now)


@pytest.mark.parametrize("loaded", [True, False], ids=["loaded", "as-written"])
def test_status_shows_the_next_runs(engine: Engine, tmp_path: Path, loaded: bool):
    # One database for all cases: status reads only the job log and lease, empty here.
    for cron, now, expected in CASES:
        config = config_with(cron, tmp_path, loaded=loaded)
        lines = status_lines(engine, config, now)
        jobs = {m[1]: m[2] for line in lines if (m := re.match(r"  (\w+) .*; next (.+)$", line))}
        assert jobs["post"] == jobs["publish"] == shown(expected), (cron, now, lines)


@pytest.mark.parametrize(
    ("line", "stored"),
    [("0 9 * * 1-5", "0 9 * * mon-fri"), ("0 9 * * 0,7", "0 9 * * sun"), ("@daily", "0 0 * * *")],
)
def test_crontab_line_is_stable(line: str, stored: str):
    assert crontab_line(line) == stored
    assert crontab_line(stored) == stored


def test_a_summary_covers_from_the_last_one_sent_or_the_day_before() -> None:
    """One rule for the scheduled summary (from its slot) and `curator summary` (from now)."""
    at = datetime(2026, 3, 29, 8, 30, tzinfo=UTC)
    last = datetime(2026, 3, 27, 7, 30, tzinfo=UTC)
    assert summary_since(last, at) == last
    assert summary_since(None, at) == at - timedelta(hours=24)


def test_the_card_footer_walks_the_crontab_once_until_that_run_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Every card refresh shows the next publish run: it is found once, and again only once
    the run it found has come (bench/events.py refreshes many cards a second)."""
    from bot.slack import card_message

    walks: list[datetime] = []

    def counted(cron: str, after: datetime, tz: ZoneInfo) -> datetime | None:
        walks.append(after)
        return next_run(cron, after, tz)

    monkeypatch.setattr(card_message, "next_run", counted)
    monkeypatch.setattr(card_message, "_NEXT_RUN", {})
    config = config_with("30 9 * * 1-5", tmp_path, loaded=False)
    monday = berlin("2026-03-02T08:00:00")
    for minutes in (0, 1, 89):
        assert next_publish_run(config, monday + timedelta(minutes=minutes)) == berlin(
            "2026-03-02T09:30:00"
        )
    assert len(walks) == 1
    assert next_publish_run(config, berlin("2026-03-02T09:30:00")) == berlin("2026-03-03T09:30:00")
    assert next_publish_run(config, monday) == berlin("2026-03-02T09:30:00")  # asked earlier
    assert len(walks) == 3
