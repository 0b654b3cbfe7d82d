"""``curator publish``: push approved articles in one commit; ``curator unpublish``: queue a
published one to be taken back by the next (both registered in ``bot.cli.main``)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import click

from bot.cli.context import Context
from bot.clock.jobs import publish_and_tell
from bot.publishing.job import PUBLISH_WAIT, publish_approved
from bot.slack.client import make_client
from bot.slack.env import api_url
from storage.controls import escape_controls
from storage.git_command import GitError
from storage.locks import Busy
from storage.unpublish import find_target, queue_unpublish


@click.command()
@click.option(
    "--dry-run", is_flag=True, help="Print the diff and the commit message; change nothing."
)
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=PUBLISH_WAIT,
    show_default=True,
    help="Seconds to wait for a publish already running before leaving it be.",
)
@click.pass_obj
def publish(ctx: Context, dry_run: bool, wait: float) -> None:
    """Publish every approved article in one commit to the content repo."""
    rt = ctx.runtime()
    now = datetime.now(UTC)
    token = os.environ.get("SLACK_BOT_TOKEN")
    try:
        if token and not dry_run:  # the cards follow, as when the schedule runs it
            report = publish_and_tell(rt, make_client(token, api_url()), now, wait=wait)
        else:
            report = publish_approved(
                rt.engine, rt.repo, rt.config, now=now, dry_run=dry_run, wait=wait
            )
    except Busy as exc:
        # Not a failure: the other run publishes what is approved.
        click.echo(f"{exc}; nothing to do")
        return
    except (GitError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if dry_run:
        if report.diff:
            click.echo(escape_controls(report.diff, keep="\n\t"), nl=False)
        if report.message:
            click.echo("\n--- commit message ---")
            click.echo(escape_controls(report.message, keep="\n"), nl=False)
    for post in report.posts:
        if post.outcome in ("missing", "refused", "changed"):
            path, reason = escape_controls(post.path), escape_controls(post.reason)
            click.echo(f"{post.outcome}: {path}: {reason}", err=True)
    click.echo(report.summary())
    if report.commit_url:
        click.echo(report.commit_url)


@click.command()
@click.argument("article")
@click.option("--by", help="Who asks, for the commit's Unpublished-by trailer (default: $USER).")
@click.pass_obj
def unpublish(ctx: Context, article: str, by: str | None) -> None:
    """Queue a published article (PATH or URL) to be unpublished by the next publish run."""
    from bot.rules import states
    from bot.slack.voting import refresh_card

    rt = ctx.runtime()
    now = datetime.now(UTC)
    who = (by or os.environ.get("USER") or "").strip() or "operator"
    shown = escape_controls(article)
    target = find_target(rt.engine, path_or_url=article)
    if target is None:
        raise click.ClickException(
            f"no article with path or URL {shown!r}: give its path from the content repo's "
            "root or its URL ('curator scan' first if it is new)"
        )
    path = escape_controls(target.path)
    if target.post_id is None:
        raise click.ClickException(
            f"{path} has no card: only an article published from a card is unpublished "
            "here; change its flag in the content repo by hand"
        )
    if target.status in (states.UNPUBLISHING, states.UNPUBLISHED):
        said = (
            "is already queued to be unpublished"
            if target.status == states.UNPUBLISHING
            else "was unpublished already"
        )
        click.echo(f"{path} {said}; nothing to do")
        return
    if target.status != states.PUBLISHED or not queue_unpublish(
        rt.engine, post_id=target.post_id, by=who, now=now
    ):
        raise click.ClickException(
            f"{path} is not published (its card is {target.status}): nothing to unpublish"
        )
    click.echo(f"queued: {path} is unpublished by the next publish run ('curator publish')")
    token = os.environ.get("SLACK_BOT_TOKEN")
    if token:  # the card says so at once
        refresh_card(rt.engine, make_client(token, api_url()), rt.config, target.post_id, now)
