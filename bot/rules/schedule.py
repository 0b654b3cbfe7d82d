"""When jobs are due: crontab slots in the newsroom's time zone, each wall-clock time once.

APScheduler 3's CronTrigger misbehaves across daylight-saving changes (it fires a 01:30 job
twice when clocks fall back, and can loop on the repeated hour). So the cron arithmetic is
done on wall-clock time, and each wall-clock slot is mapped to one instant: an ambiguous
time (the repeated hour) is its first occurrence, a time that does not exist (the skipped
hour) is the instant the clocks jump past it. A slot is never doubled, never dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

# DST shifts are at most two hours; look that far around a window for shifted slots.
_SHIFT = timedelta(hours=3)


@lru_cache(maxsize=64)
def _wall_trigger(expr: str) -> CronTrigger:
    # UTC has no DST: arithmetic on naive wall-clock times labelled UTC is plain calendar math.
    return CronTrigger.from_crontab(expr, timezone=UTC)


def to_instant(wall: datetime, tz: ZoneInfo) -> datetime:
    """The real instant of a wall-clock time (fold=0: first occurrence / before the jump)."""
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


def _walls(expr: str, tz: ZoneInfo, after: datetime) -> Iterator[datetime]:
    """Wall-clock fire times (naive) from a little before ``after``, in order."""
    trigger = _wall_trigger(expr)
    cursor = (after.astimezone(tz).replace(tzinfo=None) - _SHIFT).replace(tzinfo=UTC)
    previous = None
    while True:
        fire = trigger.get_next_fire_time(previous, cursor)
        if fire is None:
            return
        yield fire.replace(tzinfo=None)
        previous, cursor = fire, fire + timedelta(seconds=1)


def slots_between(expr: str, tz: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """Every slot instant in ``(start, end]``, sorted, each once."""
    found: set[datetime] = set()
    limit = end.astimezone(tz).replace(tzinfo=None) + _SHIFT
    for wall in _walls(expr, tz, start):
        if wall > limit:
            break
        instant = to_instant(wall, tz)
        if start < instant <= end:
            found.add(instant)
    return sorted(found)


def latest_slot(expr: str, tz: ZoneInfo, now: datetime, lookback: timedelta) -> datetime | None:
    """The newest slot at or before ``now`` within ``lookback``, if any."""
    found = slots_between(expr, tz, now - lookback, now)
    return found[-1] if found else None


def next_slot(expr: str, tz: ZoneInfo, after: datetime) -> datetime | None:
    """The first slot strictly after ``after``."""
    for wall in _walls(expr, tz, after):
        instant = to_instant(wall, tz)
        if instant > after:
            # A later wall time can map to an earlier instant only inside a DST jump;
            # take the smallest instant among the next few hours to be exact.
            window = slots_between(expr, tz, after, instant)
            return window[0] if window else instant
    return None


class WallClockCronTrigger(BaseTrigger):
    """An APScheduler trigger over :func:`next_slot`, so the scheduler fires what we key."""

    def __init__(self, expr: str, tz: ZoneInfo) -> None:
        self.expr, self.tz = expr, tz

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        after = now - timedelta(microseconds=1)
        if previous_fire_time is not None:
            after = max(after, previous_fire_time)
        return next_slot(self.expr, self.tz, after)

    def __str__(self) -> str:
        return f"cron[{self.expr} {self.tz.key}]"
