"""``curator status``: what the bot did, does next, and what waits for editors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from bot.candidate_pool import PoolReads, census
from bot.config import Config, Desk
from bot.house_rules import candidate_rules, vote_rules
from bot.rules import states
from bot.rules.candidates import describe
from bot.rules.schedule import next_run, posting_day
from bot.rules.tally import tally
from storage import posts, publish_log, reminders
from storage.db import Transaction, reading
from storage.models import as_utc
from storage.post_views import reactions_for
from storage.records import WaitingPost
from storage.schedule_state import LEASE_NAME, last_run, lease_state

WAITING = (states.OPEN, states.APPROVED)
# Listed with them: published cards queued to be taken back by the next publish run.
LISTED = (*WAITING, states.UNPUBLISHING)
# And the cards vetoed by a chief or taken back this long ago at most.
RECENT = timedelta(days=7)
# Cards listed per desk and list, the oldest waiting (first to expire) and the latest decided:
# at a newsroom's scale a desk can have thousands; the counts above them are always whole.
LISTED_AT_MOST = 30


def status_lines(
    engine: Engine, config: Config, now: datetime, *, at_most: int | None = LISTED_AT_MOST
) -> list[str]:
    """The report, line by line, as stored: titles, paths and reasons come from others, so
    the caller escapes each line for its terminal (``escape_controls``), as ``scan --errors``
    does; nothing is removed, so both show a file by the same name. ``at_most``: cards
    listed per desk and list (None: every one, ``curator status --all``)."""
    tz = config.zone
    local = lambda at: f"{as_utc(at).astimezone(tz):%a %d %b %H:%M}" if at else "—"  # noqa: E731
    lines = [f"jobs ({tz.key}):"]
    jobs = scheduled_jobs(config)
    width = max([10, *(len(job) for job in jobs)])
    with reading(engine) as conn:
        for job, cron in jobs.items():
            run = last_run(conn, job=job)
            last = "never run"
            if run is not None:
                last = f"last {local(run.slot)} {run.outcome}"
                if run.detail:
                    last += f" ({run.detail})"
            line = f"{job:<{width}} {cron:<16} {last}; next {local(next_run(cron, now, tz))}"
            lines.append(f"  {line}")
        if "remind" in jobs:
            midnight = datetime.combine(now.astimezone(tz).date(), time(), tzinfo=tz)
            sent = reminders.sent_since(conn, since=midnight)
            lines.append(f"reminders sent today: {sent} (card and editor)")
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
        skipped = _skipped_today(conn, posting_day(now, config.zone))
        reads = PoolReads(conn)  # this report's only: see census
        if config.desks[0].implicit:  # a config without desks: as it has always read
            desk = config.default_desk
            lines += _open_posts(conn, config, desk, now, local, reads, at_most, indent="")
        else:
            lines.append("desks:")
            for desk in config.desks:
                lines += _open_posts(conn, config, desk, now, local, reads, at_most, indent="    ")
    if skipped:
        lines.append(
            f"skipped today: {len(skipped)} card(s) not posted; each article is offered "
            "again once it changes"
        )
        lines += [f"  {path}: {reason}" for path, reason in skipped]
    return lines


def scheduled_jobs(config: Config) -> dict[str, str]:
    """Job name -> crontab line of every enabled job, in job order (``post:AI``,
    ``summary:AI``...: see ``Config.scheduled_jobs``)."""
    return {job.name: job.cron for job in config.scheduled_jobs()}


def _open_posts(
    conn: Transaction, config: Config, desk: Desk, now: datetime, local: Callable[[Any], str],
    reads: PoolReads, at_most: int | None, *, indent: str,
) -> list[str]:  # fmt: skip
    """A desk's cards being voted on and its candidates today; with desks, first a line
    with its channel, next post and counts. ``reads``: what the report's censuses read,
    shared by the desks (``census``); ``at_most``: cards listed (counted all the same)."""
    mine = None if desk.implicit else desk.name  # the one desk: every card, as before desks
    counted = posts.waiting_counts(conn, statuses=LISTED, desk=mine)
    waiting = sum(counted.get(status, (0, 0))[0] for status in WAITING)
    approved = counted.get(states.APPROVED, (0, 0))[0]
    back = counted.get(states.UNPUBLISHING, (0, 0))[0]
    revotes = sum(counted.get(status, (0, 0))[1] for status in WAITING)
    unposted = posts.count_unposted(conn, desk=mine)
    planned = f" ({unposted} planned, not yet in Slack)" if unposted else ""
    planned += f"; {back} to be unpublished by the next publish run" if back else ""
    planned += f"; {revotes} changed since the votes" if revotes else ""
    recent = _recent(conn, desk, mine, now)
    if recent:
        vetoed = sum(1 for _, by in recent if by)
        taken_back = [f"{vetoed} vetoed"] if vetoed else []
        if len(recent) > vetoed:
            taken_back.append(f"{len(recent) - vetoed} unpublished")
        planned += f"; in the last {RECENT.days} days {' and '.join(taken_back)}"
    rules = candidate_rules(config, desk)
    counts = describe(census(conn, rules, now=now, reads=reads), rules)
    if desk.implicit:
        lines = [counts, f"open posts: {waiting}{planned}"]
    else:
        when = "posting off"
        if desk.post is not None:
            when = f"next post {local(next_run(desk.post, now, config.zone))}"
        lines = [
            f"  {desk.name} in {desk.channel}: {when}; "
            f"{waiting} open card(s): "
            f"{approved} approved, {waiting - approved} waiting for votes{planned}",
            f"    {counts}",
        ]
    listed = posts.waiting_posts(conn, statuses=LISTED, desk=mine, limit=at_most)
    for row in listed:
        title = row.title or row.path
        changed = "  (changed since the votes)" if row.changed else ""
        lines.append(f"{indent}  {row.status:<9} since {local(row.created_at)}  {title}{changed}")
    if waiting + back > len(listed):
        more = waiting + back - len(listed)
        lines.append(f"{indent}  … and {more:,} newer; curator status --all lists every card")
    shown = recent if at_most is None else recent[len(recent) - at_most :]
    if len(shown) < len(recent):
        earlier = len(recent) - len(shown)
        lines.append(f"{indent}  … {earlier:,} taken back earlier; curator status --all lists them")
    for row, by in shown:
        title = row.title or row.path
        what = f"vetoed by {', '.join(by)}" if by else row.status
        lines.append(f"{indent}  {what} {local(row.changed_at)}  {title}")
    return lines


def _recent(
    conn: Transaction, desk: Desk, mine: str | None, now: datetime
) -> list[tuple[WaitingPost, tuple[str, ...]]]:
    """The desk's cards rejected by a chief's veto (with the chiefs) or unpublished (no one)
    in the last ``RECENT``, in the order they were. Of the rejected, only those a chief
    voted on are read, with the chiefs' reactions: none at all without a veto."""
    rules = vote_rules(desk)
    chiefs = rules.chiefs if rules.veto else frozenset()
    decided = (states.REJECTED, states.UNPUBLISHED)
    rows = posts.decided_since(
        conn, statuses=decided, since=now - RECENT, desk=mine, rejected_by=chiefs
    )
    rejected = [row.post_id for row in rows if row.status == states.REJECTED]
    reactions = reactions_for(conn, post_ids=rejected, users=chiefs)
    vetoes = {post_id: tally(reactions[post_id], rules).veto for post_id in rejected}
    return [
        (row, vetoes.get(row.post_id, ()))
        for row in rows
        if row.status == states.UNPUBLISHED or vetoes.get(row.post_id)
    ]


def _skipped_today(conn: Transaction, day: str) -> list[tuple[str, str]]:
    """(path, reason) of the day's cards that could not be built or that Slack refused."""
    rows = posts.skipped_on(conn, day=day)
    reasons = {path: cause.removeprefix("skipped: ") for path, cause in rows}  # latest wins
    return list(reasons.items())
