"""Times the way people say them: "3 hours ago", "Tuesday 08:30"."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo


def ago(delta: timedelta) -> str:
    """How long, the way people say it: "just now", "40 minutes", "5 hours", "3 days" ago."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3_600:
        n, unit = seconds // 60, "minute"
    elif seconds < 2 * 86_400:  # "30 hours ago" says more than "1 day ago"
        n, unit = seconds // 3_600, "hour"
    else:
        n, unit = seconds // 86_400, "day"
    return f"{n} {unit}{'s' if n != 1 else ''} ago"


def duration(delta: timedelta) -> str:
    """``ago`` without the "ago": how long a card has been waiting."""
    text = ago(delta)
    return "under a minute" if text == "just now" else text.removesuffix(" ago")


def format_when(at: datetime, tz: tzinfo, now: datetime) -> str:
    """``today 10:00``, ``Tuesday 08:30`` within a week, else ``Tue 12 Nov 08:30``."""
    local, today = at.astimezone(tz), now.astimezone(tz).date()
    if local.date() == today:
        return f"today {local:%H:%M}"
    if abs((local.date() - today).days) < 7:
        return f"{local:%A %H:%M}"
    return f"{local:%a %d %b %H:%M}"
