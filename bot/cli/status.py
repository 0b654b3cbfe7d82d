"""``curator status``: what the bot did, does next, and what waits for editors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from bot.candidate_pool import census
from bot.config import Config
from bot.house_rules import candidate_rules
from bot.rules import states
from bot.rules.candidates import describe
from bot.rules.schedule import next_run, posting_day
from storage import posts, publish_log
from storage.db import Transaction, reading
from storage.models import as_utc
from storage.schedule_state import LEASE_NAME, last_run, lease_state

WAITING = (states.OPEN, states.APPROVED)


def status_lines(engine: Engine, config: Config, now: datetime) -> list[str]:
    """The report, line by line, as stored: titles, paths and reasons come from others, so
    the caller escapes each line for its terminal (``escape_controls``), as ``scan --errors``
    does; nothing is removed, so both show a file by the same name."""
    tz = config.zone
    local = lambda at: f"{as_utc(at).astimezone(tz):%a %d %b %H:%M}" if at else "—"  # noqa: E731
    lines = [f"jobs ({tz.key}):"]
    with reading(engine) as conn:
        for job, cron in config.schedule.enabled().items():
            run = last_run(conn, job=job)
            last = "never run"
            if run is not None:
                last = f"last {local(run.slot)} {run.outcome}"
                if run.detail:
                    last += f" ({run.detail})"
            lines.append(f"  {job:<10} {cron:<16} {last}; next {local(next_run(cron, now, tz))}")
        lease = lease_state(conn, name=LEASE_NAME)
        if lease is None:
            lines.append("leader: none yet (no scheduler has run)")
        elif lease.expires_at >= now:
            lines.append(f"leader: {lease.holder} (lease until {local(lease.expires_at)})")
        else:
            lines.append(
                f"leader: none (last was {lease.holder}, lease ran out {local(lease.expires_at)})"
            )
        commit = publish_log.last_commit(conn)
        if commit is None:
            lines.append("last publish: none yet")
        else:
            link = config.content.commit_link(commit.sha) or commit.sha[:12]
            lines.append(
                f"last publish: {commit.article_count} article(s) in {link} "
                f"at {local(commit.pushed_at)}"
            )
        rows = posts.waiting_posts(conn, statuses=WAITING)
        unposted = posts.count_unposted(conn)
        skipped = _skipped_today(conn, posting_day(now, config.zone))
        rules = candidate_rules(config, config.default_desk)
        counts = describe(census(conn, rules, now=now), rules)
    lines.append(counts)
    lines.append(
        f"open posts: {len(rows)}"
        + (f" ({unposted} planned, not yet in Slack)" if unposted else "")
    )
    for row in rows:
        title = row.title or row.path
        lines.append(f"  {row.status:<9} since {local(row.created_at)}  {title}")
    if skipped:
        lines.append(
            f"skipped today: {len(skipped)} card(s) not posted; each article is offered "
            "again once it changes"
        )
        lines += [f"  {path}: {reason}" for path, reason in skipped]
    return lines


def _skipped_today(conn: Transaction, day: str) -> list[tuple[str, str]]:
    """(path, reason) of the day's cards that could not be built or that Slack refused."""
    rows = posts.skipped_on(conn, day=day)
    reasons = {path: cause.removeprefix("skipped: ") for path, cause in rows}  # latest wins
    return list(reasons.items())
