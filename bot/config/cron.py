"""Crontab lines in the schedule: validated and written in a form APScheduler reads as cron."""

from __future__ import annotations

import re
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from bot.config.checker import _Checker

# --------------------------------------------------------------------------------------- cron

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
_CRON_FORMAT = "a crontab line 'minute hour day month day_of_week' like '0 9 * * mon-fri', or off"


def _cron(check: _Checker, key: str, value: Any, timezone: str) -> str | None:
    """A validated crontab line in APScheduler-safe form, or None for a switched-off job."""
    if value is None or value is False:
        return None  # `off` unquoted is YAML for false
    if not isinstance(value, str):
        check.expected(key, _CRON_FORMAT, value)
        return None
    line = " ".join(value.split())
    if line.lower() == "off":
        return None
    line = _CRON_MACROS.get(line.lower(), line)
    parts = line.split()
    if len(parts) != 5:
        check.expected(key, _CRON_FORMAT, value, f" ({len(parts)} fields instead of 5)")
        return None
    try:
        parts[4] = _crontab_weekdays(parts[4])
        line = " ".join(parts)
        CronTrigger.from_crontab(line, timezone=timezone)
    except (ValueError, TypeError) as exc:
        check.expected(key, _CRON_FORMAT, value, f" ({exc})")
        return None
    if parts[2] != "*" and parts[4] != "*":
        check.warn(
            key,
            f"{value!r} restricts both day of month and day of week: the scheduler runs it only "
            "when both match (classic cron runs it when either does)",
        )
    return line


def _crontab_weekdays(field_text: str) -> str:
    """Rewrite a crontab day-of-week field so APScheduler 3 reads it as cron does.

    APScheduler 3 numbers weekdays from Monday = 0 where crontab has Sunday = 0 (APScheduler
    issue 286), so ``1-5`` would silently run Tuesday to Saturday. Names mean the same to both,
    so numeric fields (and ranges starting on Sunday) are expanded and written as names.
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
