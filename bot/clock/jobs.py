"""The scheduled jobs, each a thin call into the domain: what they do for the newsroom."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_sdk import WebClient

from bot.clock.slot_runner import JobContext, JobSpec, SlotRunner
from bot.config import Desk
from bot.outages import Told
from bot.publishing.job import PUBLISH_WAIT, publish_approved
from bot.publishing.report import PublishReport
from bot.rules.schedule import summary_since
from bot.runtime import Runtime
from bot.slack import daily_post
from bot.slack.editors import DisplayNames, editors_from
from bot.slack.reminders import send_reminders
from bot.slack.revote import revote_changed
from bot.slack.summary_post import post_summary
from bot.slack.voting import expire_posts, reconcile, refresh_card
from storage.credentials import scrub as scrub_shapes
from storage.scan import scan


def build_jobs(rt: Runtime, client: WebClient, *, bot_user: str | None) -> list[JobSpec]:
    """Every enabled job with its schedule and grace from config."""
    config = rt.config
    editors = editors_from(config)

    def refresh(ctx: JobContext) -> str:
        """Fetch the content repo and scan what changed."""
        rt.repo.fetch()  # the scan reads the head when it is its turn
        result = scan(rt.engine, rt.repo, config.fields, rt.paths)
        # Cards whose article changed after the votes go back to a vote, and say so.
        moved = revote_changed(rt.engine, config, commit=result.commit, now=ctx.now, client=client)
        again = f", {len(moved)} card(s) back to a vote" if moved else ""
        return f"{result.new} new, {result.changed} changed, {result.deleted} deleted{again}"

    def post(ctx: JobContext, desk: Desk) -> str:
        """Post the day's candidates."""
        report = daily_post.post_day(rt.engine, client, config, ctx.now, desk)
        if report.error:
            raise Told(
                f"{report.error} (after {report.posted} of {report.planned} cards; the rest "
                "follow with the next reconcile)"
            )
        if report.why_none:
            return report.why_none  # logged and kept for `curator status`: why none today
        skipped = f", {report.skipped} skipped" if report.skipped else ""
        return f"{report.posted} posted, {report.already} already there{skipped}"

    def reconcile_votes(ctx: JobContext) -> str:
        """Count votes cast while the bot was down; finish an interrupted daily post."""
        resumed = daily_post.resume_day(rt.engine, client, config, ctx.now)
        report = reconcile(rt.engine, client, config, ctx.now, bot_user=bot_user, editors=editors)
        return f"{report.changed} of {report.checked} changed, {resumed} cards resumed"

    def summary(ctx: JobContext, desk: Desk | None) -> str:
        """Post the morning summary of everything since the last one."""
        since = summary_since(ctx.last_ok, ctx.slot)
        newsroom = desk is None  # the newsroom's job: every desk's, grouped
        post_summary(
            rt.engine, client, config, since=since, now=ctx.now, desk=desk, newsroom=newsroom
        ).check()
        return f"since {since:%Y-%m-%d %H:%M}"

    def publish(ctx: JobContext) -> str:
        """Commit approved articles to the content repo, push, and update their cards."""
        return publish_and_tell(rt, client, ctx.now).summary()

    def expire(ctx: JobContext) -> str:
        """Close cards whose voting window has passed."""
        return f"{expire_posts(rt.engine, client, config, ctx.now)} expired"

    def remind(ctx: JobContext) -> str:
        """Remind each editor, in one direct message, of the cards they have not voted on that
        close soon (votes.remind_before), never twice, never in votes.quiet_hours."""
        return send_reminders(rt.engine, client, config, editors, ctx.now).summary()

    bodies: dict[str, Callable[..., str]] = {
        "refresh": refresh, "post": post, "reconcile": reconcile_votes, "publish": publish,
        "summary": summary, "expire": expire, "remind": remind,
    }  # fmt: skip
    specs = []
    # Posting and summaries are a job per desk (and the newsroom's summary one more), each
    # slot claimed under its own name: every desk's day is posted once, and a channel Slack
    # refuses neither stops nor stretches another desk's "since the last summary".
    for job in config.scheduled_jobs():
        run, doc = bodies[job.kind], bodies[job.kind].__doc__
        if job.kind in ("post", "summary"):
            run = functools.partial(run, desk=job.desk)
            if job.desk is None:
                doc = "Post the newsroom's morning summary, every desk's grouped."
            elif not job.desk.implicit:
                doc = f"{(doc or '').rstrip('.')}: the {job.desk.name} desk's."
        grace = timedelta(minutes=config.schedule.grace_minutes(job.kind))
        doc = (doc or job.name).strip()
        specs.append(JobSpec(name=job.name, cron=job.cron, grace=grace, run=run, doc=doc))
    return specs


def publish_and_tell(
    rt: Runtime, client: WebClient, now: datetime, *, wait: float = PUBLISH_WAIT
) -> PublishReport:
    """Publish approved articles; each card then shows its commit, or why it could not be."""
    report = publish_approved(
        rt.engine, rt.repo, rt.config, now=now, approver_names=DisplayNames(client), wait=wait
    )
    for post in report.posts:
        if post.ts:
            refresh_card(rt.engine, client, rt.config, post.post_id, now)
    return report


def build_slot_runner(
    rt: Runtime,
    client: WebClient,
    *,
    bot_user: str | None,
    scrub: Callable[[str], str] = scrub_shapes,
) -> SlotRunner:
    """The jobs on their schedules; a failure is told to the channel once, through
    ``scrub`` (the process's scrubber, which the logs and the command output use)."""
    config = rt.config

    def notify(text: str) -> None:
        client.chat_postMessage(channel=config.slack.channel, text=text)

    return SlotRunner(
        rt.engine,
        build_jobs(rt, client, bot_user=bot_user),
        config.zone,
        lease_ttl=timedelta(seconds=config.schedule.lease_seconds),
        notify=notify,
        scrub=scrub,
    )
