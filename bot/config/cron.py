"""A job's crontab line in the schedule: validated, and stored as the scheduler reads it."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator

from bot.config.errors import expected
from bot.rules.schedule import crontab_line

_CRON_FORMAT = "a crontab line 'minute hour day month day_of_week' like '0 9 * * mon-fri', or off"


def _cron(value: Any) -> str | None:
    """The line as :func:`bot.rules.schedule.crontab_line` writes it (weekdays as names, so it
    reads the same anywhere), or None for a switched-off job."""
    if value is None or value is False:
        return None  # `off` unquoted is YAML for false
    if not isinstance(value, str):
        raise expected(_CRON_FORMAT, value)
    if " ".join(value.split()).lower() == "off":
        return None
    try:
        return crontab_line(value)
    except ValueError as exc:
        raise expected(_CRON_FORMAT, value, f" ({exc})") from None


Cron = Annotated[str | None, BeforeValidator(_cron)]


def both_days_restricted(line: str) -> bool:
    """Whether a line limits both day of month and day of week, which APScheduler reads as
    "both match" where classic cron reads "either matches"."""
    parts = line.split()
    return parts[2] != "*" and parts[4] != "*"
