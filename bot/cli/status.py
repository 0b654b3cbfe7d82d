"""``curator status``: what the bot did, does next, and what waits for editors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select
from sqlalchemy.engine import Engine

from bot.candidate_pool import census
from bot.clock.clockwork import LEASE_NAME
from bot.config import Config
from bot.house_rules import candidate_rules
from bot.rules.candidates import describe
from bot.rules.schedule import next_run
from bot.slack.posting import posting_day
from storage.models import Article, Decision, Post, PostStatus, PublishCommit, as_utc
from storage.schedule_state import last_run, lease_state

WAITING = (PostStatus.OPEN, PostStatus.APPROVED)


def status_lines(engine: Engine, config: Config, now: datetime) -> list[str]:
    """The report, line by line, as stored: titles, paths and reasons come from others, so
    the caller escapes each line for its terminal (``escape_controls``), as ``scan --errors``
    does; nothing is removed, so both show a file by the same name."""
    tz = config.zone
    local = lambda at: f"{as_utc(at).astimezone(tz):%a %d %b %H:%M}" if at else "—"  # noqa: E731
    lines = [f"jobs ({tz.key}):"]
    with engine.connect() as conn:
        for job, cron in config.schedule.enabled().items():
            run = last_run(conn, job)
            last = "never run"
            if run is not None:
                last = f"last {local(run.slot)} {run.outcome}"
                if run.detail:
                    last += f" ({run.detail})"
            lines.append(f"  {job:<10} {cron:<16} {last}; next {local(next_run(cron, now, tz))}")
        lease = lease_state(conn, LEASE_NAME)
        if lease is None:
            lines.append("leader: none yet (no scheduler has run)")
        elif lease.expires_at >= now:
            lines.append(f"leader: {lease.holder} (lease until {local(lease.expires_at)})")
        else:
            lines.append(
                f"leader: none (last was {lease.holder}, lease ran out {local(lease.expires_at)})"
            )
        commit = conn.execute(
            select(PublishCommit.__table__).order_by(PublishCommit.__table__.c.pushed_at.desc())
        ).first()
        if commit is None:
            lines.append("last publish: none yet")
        else:
            link = config.content.commit_link(commit.sha) or commit.sha[:12]
            lines.append(
                f"last publish: {commit.article_count} article(s) in {link} "
                f"at {local(commit.pushed_at)}"
            )
        p, a = Post.__table__, Article.__table__
        rows = conn.execute(
            select(p.c.status, p.c.created_at, p.c.permalink, a.c.title, a.c.path)
            .join(a, a.c.id == p.c.article_id)
            .where(p.c.status.in_(WAITING), p.c.ts.is_not(None))
            .order_by(p.c.created_at)
        ).all()
        unposted = conn.scalar(
            select(func.count())
            .select_from(p)
            .where(p.c.ts.is_(None), p.c.status != PostStatus.SKIPPED)
        )
        skipped = _skipped_today(conn, posting_day(config, now))
        rules = candidate_rules(config)
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


def _skipped_today(conn: Connection, day: str) -> list[tuple[str, str]]:
    """(path, reason) of the day's cards that could not be built or that Slack refused."""
    p, a, d = Post.__table__, Article.__table__, Decision.__table__
    rows = conn.execute(
        select(a.c.path, d.c.cause)
        .join(p, p.c.article_id == a.c.id)
        .join(d, (d.c.post_id == p.c.id) & (d.c.to_status == PostStatus.SKIPPED))
        .where(p.c.day == day, p.c.status == PostStatus.SKIPPED)
        .order_by(p.c.id, d.c.id)
    ).all()
    reasons = {path: cause.removeprefix("skipped: ") for path, cause in rows}  # latest wins
    return list(reasons.items())
