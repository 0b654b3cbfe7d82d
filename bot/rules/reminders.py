"""Reminders before a card closes: which cards are due for which editor, and quiet hours.

Plain functions over plain data. A card is due for an editor when it is still open, it
closes within the desk's ``remind_before`` (closes = posted + voting window), the editor may
vote on it, has no vote on it now, and has not been reminded of it in this voting round (an
article changed after the votes starts another: storage.reminders keeps the round). Quiet hours are
wall-clock times in the newsroom's time zone, so "20:00-08:00" means the same evening and
morning on both sides of a daylight-saving change; a span may wrap midnight.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

DURATION_FORMAT = "a duration like '24h', '90m', '2d' or '1d12h', or off"
QUIET_FORMAT = "a span of local time like '20:00-08:00', or null"

_DURATION = re.compile(r"^(?:(\d{1,4})d)?(?:(\d{1,5})h)?(?:(\d{1,6})m)?$")
_QUIET = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
# Longer than any voting window anyone would set; a typo like "2400d" says so.
MAX_REMIND = timedelta(days=365)


def parse_duration(text: str) -> timedelta:
    """``24h``, ``90m``, ``2d``, ``1d12h`` as a timedelta; ValueError when it is not one, is
    zero, or is over a year."""
    match = _DURATION.match("".join(text.split()).lower())
    if not match or not any(match.groups()):
        raise ValueError(f"expected {DURATION_FORMAT}")
    days, hours, minutes = (int(g or 0) for g in match.groups())
    value = timedelta(days=days, hours=hours, minutes=minutes)
    if not value:
        raise ValueError("a duration of zero reminds nobody; write off to switch reminders off")
    if value > MAX_REMIND:
        raise ValueError("at most 365d")
    return value


def format_duration(value: timedelta) -> str:
    """The duration as ``parse_duration`` reads it: ``1d12h``, ``90m`` -> ``1h30m``."""
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n]
    return "".join(parts) or "0m"


@dataclass(frozen=True)
class QuietHours:
    """From ``start`` (included) to ``end`` (excluded), local time; wraps midnight when
    ``end`` is not after ``start``."""

    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def parse_quiet_hours(text: str) -> QuietHours:
    """``"20:00-08:00"`` as QuietHours; ValueError when it is not a span of two times."""
    match = _QUIET.match(text.strip())
    if not match:
        raise ValueError(f"expected {QUIET_FORMAT}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError("hours are 00 to 23 and minutes 00 to 59")
    quiet = QuietHours(time(h1, m1), time(h2, m2))
    if quiet.start == quiet.end:
        raise ValueError("start and end are the same: quiet all day would never remind")
    return quiet


def is_quiet(now: datetime, quiet: QuietHours | None, tz: tzinfo) -> bool:
    """Whether ``now`` (an aware instant) falls in quiet hours on the wall clock of ``tz``."""
    if quiet is None:
        return False
    local = now.astimezone(tz).time().replace(tzinfo=None)
    if quiet.start < quiet.end:
        return quiet.start <= local < quiet.end
    return local >= quiet.start or local < quiet.end  # wraps midnight


@dataclass(frozen=True)
class OpenCard:
    """A card still taking votes: when it closes, who may vote on it and who has."""

    post_id: int
    closes: datetime
    editors: frozenset[str]
    voted: frozenset[str]


def is_due(closes: datetime, *, now: datetime, remind_before: timedelta | None) -> bool:
    """Whether a card closing at ``closes`` is in its reminder time: still open, and closing
    within ``remind_before`` (None: reminders off)."""
    return remind_before is not None and now < closes <= now + remind_before


def due_reminders(
    cards: Iterable[OpenCard],
    *,
    now: datetime,
    remind_before: timedelta | None,
    reminded: Collection[tuple[int, str]] = (),
) -> dict[str, list[OpenCard]]:
    """Editor -> the cards to remind them of now, soonest to close first (then oldest post).

    ``reminded``: (post_id, editor) pairs already reminded in the card's current round (or
    claimed by a run that is sending them), never reminded again. An editor with a vote on
    the card now is not reminded; one who took their vote back is, if not reminded before.
    """
    done = set(reminded)
    due: dict[str, list[OpenCard]] = {}
    for card in cards:
        if not is_due(card.closes, now=now, remind_before=remind_before):
            continue
        for editor in sorted(card.editors - card.voted):
            if (card.post_id, editor) not in done:
                due.setdefault(editor, []).append(card)
    for listed in due.values():
        listed.sort(key=lambda c: (c.closes, c.post_id))
    return due


def window_started_between(
    now: datetime, *, window: timedelta, remind_before: timedelta
) -> tuple[datetime, datetime]:
    """(after, up to): cards whose voting window started in this span close within
    ``remind_before`` of ``now`` and are not closed yet — what to fetch before
    ``due_reminders`` picks."""
    return now - window, now + remind_before - window
