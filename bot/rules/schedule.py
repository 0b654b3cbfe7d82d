"""When jobs are due: crontab lines read as cron reads them, on the newsroom's wall clock.

Every next run the bot uses or shows (the scheduler, ``curator status``, the summary, the card
footer) comes from :func:`next_run`, so they never disagree. Two things make that more than a
call to APScheduler's ``CronTrigger.from_crontab``:

- Weekdays. APScheduler 3 numbers them from Monday = 0 where crontab has Sunday = 0 (APScheduler
  issue 286), so ``1-5`` would silently run Tuesday to Saturday. :func:`crontab_line` writes
  numeric weekdays as names, which mean the same to both (``1-5`` -> ``mon-fri``).
- Daylight saving. APScheduler 3 fires a 01:30 job twice when clocks fall back and can loop on
  the repeated hour. So the arithmetic is done on wall-clock time, and each wall-clock slot is
  mapped to one instant: an ambiguous time (the repeated hour) is its first occurrence, a time
  that does not exist (the skipped hour) is the instant the clocks jump past it. A slot is never
  doubled, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

# DST shifts are at most two hours; look that far around a window for shifted slots.
_SHIFT = timedelta(hours=3)

_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_MONDAY_FIRST = (1, 2, 3, 4, 5, 6, 0)  # crontab day numbers in APScheduler's order
_CRON_MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * sun",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}


def crontab_line(text: str) -> str:
    """``text`` as a five-field line that APScheduler reads as cron does; ValueError if it is
    not one (the message says why, e.g. ``4 fields instead of 5``).

    Spaces are collapsed, ``@daily`` and friends expanded, weekdays written as names. The
    result reads the same again: ``crontab_line(crontab_line(x)) == crontab_line(x)``.
    """
    line = " ".join(text.split())
    line = _CRON_MACROS.get(line.lower(), line)
    parts = line.split()
    if len(parts) != 5:
        raise ValueError(f"{len(parts)} fields instead of 5")
    parts[4] = _crontab_weekdays(parts[4])
    line = " ".join(parts)
    try:
        CronTrigger.from_crontab(line, timezone=UTC)
    except TypeError as exc:
        raise ValueError(str(exc)) from None
    return line


def next_run(cron: str, after: datetime, tz: ZoneInfo) -> datetime | None:
    """The first run of crontab line ``cron`` strictly after ``after``, in UTC, read in ``tz``.

    The one source of every next run: the scheduler fires it, status and Slack show it.
    """
    for wall in _walls(cron, tz, after):
        instant = to_instant(wall, tz)
        if instant > after:
            # A later wall time can map to an earlier instant only inside a DST jump;
            # take the smallest instant among the next few hours to be exact.
            window = slots_between(cron, tz, after, instant)
            return window[0] if window else instant
    return None


def slots_between(cron: str, tz: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """Every run instant in ``(start, end]``, sorted, each once."""
    found: set[datetime] = set()
    limit = end.astimezone(tz).replace(tzinfo=None) + _SHIFT
    for wall in _walls(cron, tz, start):
        if wall > limit:
            break
        instant = to_instant(wall, tz)
        if start < instant <= end:
            found.add(instant)
    return sorted(found)


def latest_slot(cron: str, tz: ZoneInfo, now: datetime, lookback: timedelta) -> datetime | None:
    """The newest run at or before ``now`` within ``lookback``, if any."""
    found = slots_between(cron, tz, now - lookback, now)
    return found[-1] if found else None


def summary_since(last_sent: datetime | None, at: datetime) -> datetime:
    """What a morning summary at ``at`` covers from: the slot of the last one sent, or the
    24 hours before ``at`` when none was."""
    return last_sent if last_sent is not None else at - timedelta(hours=24)


def posting_day(now: datetime, tz: ZoneInfo) -> str:
    """The newsroom's day of ``now``, YYYY-MM-DD in its time zone: the day a card is posted
    for, and the day the summary and ``status`` speak of."""
    return now.astimezone(tz).date().isoformat()


def to_instant(wall: datetime, tz: ZoneInfo) -> datetime:
    """The real instant of a wall-clock time (fold=0: first occurrence / before the jump)."""
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


@lru_cache(maxsize=64)
def _wall_trigger(cron: str) -> CronTrigger:
    # UTC has no DST: arithmetic on naive wall-clock times labelled UTC is plain calendar math.
    return CronTrigger.from_crontab(crontab_line(cron), timezone=UTC)


def _walls(cron: str, tz: ZoneInfo, after: datetime) -> Iterator[datetime]:
    """Wall-clock fire times (naive) from a little before ``after``, in order."""
    trigger = _wall_trigger(cron)
    cursor = (after.astimezone(tz).replace(tzinfo=None) - _SHIFT).replace(tzinfo=UTC)
    previous = None
    while True:
        fire = trigger.get_next_fire_time(previous, cursor)
        if fire is None:
            return
        yield fire.replace(tzinfo=None)
        previous, cursor = fire, fire + timedelta(seconds=1)


# --------------------------------------------------------------------------- crontab weekdays


def _crontab_weekdays(field_text: str) -> str:
    """A crontab day-of-week field written so APScheduler 3 reads it as cron does.

    Names mean the same to both, so numeric fields (and ranges starting on Sunday) are
    expanded and written as names; a field of names only is kept as it is.
    """
    low = field_text.lower()
    if not re.search(r"\d|sun-", low):
        return field_text
    days: set[int] = set()
    for part in low.split(","):
        match = re.fullmatch(r"(\*|[a-z]{3}|\d+)(?:-([a-z]{3}|\d+))?(?:/(\d+))?", part)
        if not match:
            raise ValueError(f"cannot read day of week {part!r}")
        first, last, step = match.groups()
        if first == "*":
            if last:
                raise ValueError(f"cannot read day of week {part!r}")
            low_day, high_day = 0, 6
        else:
            low_day = _cron_day(first, end=False)
            high_day = _cron_day(last, end=True) if last else (6 if step else low_day)
        if high_day < low_day:
            raise ValueError(f"day-of-week range {part!r} runs backwards")
        stride = int(step) if step else 1
        if stride < 1:
            raise ValueError(f"step in {part!r} must be at least 1")
        days.update(day % 7 for day in range(low_day, high_day + 1, stride))
    return _weekday_names(days)


def _cron_day(token: str, *, end: bool) -> int:
    """A crontab weekday number (0-7, 0 and 7 Sunday); 'sun' closing a range is 7."""
    if token.isdigit():
        number = int(token)
        if number > 7:
            raise ValueError(f"day of week {number} is not 0-7 (0 and 7 are Sunday) or mon-sun")
        return number
    if token not in _CRON_DAYS:
        raise ValueError(f"unknown day of week {token!r}")
    return 7 if end and token == "sun" else _CRON_DAYS.index(token)


def _weekday_names(days: set[int]) -> str:
    """Crontab day numbers as Monday-first name ranges, e.g. {1,2,3,4,5} -> 'mon-fri'."""
    if len(days) == 7:
        return "*"
    runs: list[list[int]] = []
    for day in _MONDAY_FIRST:
        if day not in days:
            continue
        if runs and _MONDAY_FIRST.index(runs[-1][-1]) + 1 == _MONDAY_FIRST.index(day):
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(
        _CRON_DAYS[run[0]] if len(run) == 1 else f"{_CRON_DAYS[run[0]]}-{_CRON_DAYS[run[-1]]}"
        for run in runs
    )
