"""``curator post`` and ``curator reconcile``: the day's cards and the votes on them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click
from slack_sdk.errors import SlackApiError

from bot.cli.context import Context, slack_secrets
from bot.outages import slack_api_problem
from bot.slack.client import make_client


def _slack_error(exc: Exception) -> str:
    """One line an operator can act on; `curator doctor` checks the rest."""
    if isinstance(exc, SlackApiError):
        return slack_api_problem(exc)
    return str(exc)


@click.command()
@click.option("--dry-run", is_flag=True, help="Print the Block Kit JSON; send nothing.")
@click.pass_obj
def post(ctx: Context, dry_run: bool) -> None:
    """Post today's candidates to the channel (once a day; a rerun resumes)."""
    from bot.slack import daily_post

    rt = ctx.runtime()
    now = datetime.now(UTC)
    if dry_run:
        cards = daily_post.dry_run(rt.engine, rt.config, now)
        click.echo(json.dumps(cards, indent=2))
        if not cards:
            click.echo(daily_post.why_none_today(rt.engine, rt.config, now), err=True)
        return
    env = slack_secrets(("SLACK_BOT_TOKEN",))
    try:
        report = daily_post.post_day(
            rt.engine, make_client(env.bot_token, env.api_url), rt.config, now
        )
    except (SlackApiError, LookupError) as exc:
        raise click.ClickException(_slack_error(exc)) from None
    skipped = f", {report.skipped} skipped (see curator status)" if report.skipped else ""
    click.echo(
        f"{report.day}: {report.planned} candidates, {report.posted} posted now, "
        f"{report.already} already posted, {report.remaining} left{skipped}"
    )
    if report.why_none:
        click.echo(report.why_none)
    if report.error:  # one line naming the fix; a rerun resumes where this one stopped
        raise click.ClickException(report.error)


@click.command()
@click.pass_obj
def reconcile(ctx: Context) -> None:
    """Re-read reactions on open cards, so votes cast while the bot was down count."""
    from bot.slack.editors import editors_from
    from bot.slack.voting import reconcile as run_reconcile

    rt = ctx.runtime()
    env = slack_secrets(("SLACK_BOT_TOKEN",))
    client = make_client(env.bot_token, env.api_url)
    try:
        bot_user = client.auth_test()["user_id"]
    except SlackApiError as exc:
        raise click.ClickException(_slack_error(exc)) from None
    editors = editors_from(rt.config)
    report = run_reconcile(
        rt.engine, client, rt.config, datetime.now(UTC), bot_user=bot_user, editors=editors
    )
    click.echo(f"checked {report.checked} posts: {report.changed} changed, {report.failed} failed")
