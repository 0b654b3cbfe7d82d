"""``curator publish``: push approved articles in one commit (registered in ``bot.cli.main``)."""

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
