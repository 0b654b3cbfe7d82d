"""How long before a card closes its editors are reminded, and when never: the two
``votes:`` keys of reminders, validated and stored as the rules read them."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator

from bot.config.errors import expected
from bot.rules.reminders import (
    DURATION_FORMAT,
    QUIET_FORMAT,
    QuietHours,
    parse_duration,
    parse_quiet_hours,
)


def _remind_before(value: Any) -> timedelta | None:
    """A duration, or None for ``off`` (unquoted, YAML reads it as false)."""
    if isinstance(value, timedelta):
        return value  # a default, or a value already read
    if value is False or (isinstance(value, str) and value.strip().lower() == "off"):
        return None
    if not isinstance(value, str):
        raise expected(DURATION_FORMAT, value)
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise expected(DURATION_FORMAT, value, f" ({exc})") from None


def _quiet_hours(value: Any) -> QuietHours | None:
    if value is None or isinstance(value, QuietHours):
        return value
    if value is False or (isinstance(value, str) and value.strip().lower() == "off"):
        return None
    if not isinstance(value, str):
        raise expected(QUIET_FORMAT, value)
    try:
        return parse_quiet_hours(value)
    except ValueError as exc:
        raise expected(QUIET_FORMAT, value, f" ({exc})") from None


RemindBefore = Annotated[timedelta | None, BeforeValidator(_remind_before)]
Quiet = Annotated[QuietHours | None, BeforeValidator(_quiet_hours)]
