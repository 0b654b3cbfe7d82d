"""Crontab lines in the schedule: validated and stored as the scheduler reads them."""

from __future__ import annotations

from typing import Any

from bot.config.checker import _Checker
from bot.rules.schedule import crontab_line

_CRON_FORMAT = "a crontab line 'minute hour day month day_of_week' like '0 9 * * mon-fri', or off"


def _cron(check: _Checker, key: str, value: Any, timezone: str) -> str | None:
    """A validated crontab line (:func:`bot.rules.schedule.crontab_line`), or None for a
    switched-off job. Stored lines have named weekdays, so they read the same anywhere."""
    if value is None or value is False:
        return None  # `off` unquoted is YAML for false
    if not isinstance(value, str):
        check.expected(key, _CRON_FORMAT, value)
        return None
    if " ".join(value.split()).lower() == "off":
        return None
    try:
        line = crontab_line(value)
    except ValueError as exc:
        check.expected(key, _CRON_FORMAT, value, f" ({exc})")
        return None
    parts = line.split()
    if parts[2] != "*" and parts[4] != "*":
        check.warn(
            key,
            f"{value!r} restricts both day of month and day of week: the scheduler runs it only "
            "when both match (classic cron runs it when either does)",
        )
    return line
