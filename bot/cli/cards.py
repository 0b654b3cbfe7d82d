"""``curator post`` and ``curator reconcile``: the day's cards and the votes on them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click
from slack_sdk.errors import SlackApiError

from bot.cli.context import Context, chosen_desks, desk_option, slack_secrets
from bot.outages import slack_api_problem
from bot.slack.client import make_client


def _slack_error(exc: Exception) -> str:
    """One line an operator can act on; `curator doctor` checks the rest."""
    if isinstance(exc, SlackApiError):
        return slack_api_problem(exc)
    return str(exc)


@click.command()
@click.option("--dry-run", is_flag=True, help="Print the Block Kit JSON; send nothing.")
@desk_option()
@click.pass_obj
def post(ctx: Context, dry_run: bool, desk_name: str | None) -> None:
    """Post today's candidates to each desk's channel (once a day; a rerun resumes)."""
    from bot.slack import daily_post

    rt = ctx.runtime()
    config = rt.config
    desks = chosen_desks(config, desk_name)
    # One desk (--desk, or a config without desks) prints as it always has; several desks
    # print each desk's lines after its name, and the dry run's cards by desk name.
    named = len(desks) > 1 or not desks[0].implicit
    now = datetime.now(UTC)
    if dry_run:
        cards = {d.name: daily_post.dry_run(rt.engine, config, now, d) for d in desks}
        listed = cards if desk_name is None and named else cards[desks[0].name]
        click.echo(json.dumps(listed, indent=2))
        for desk in desks:
            if not cards[desk.name]:
                why = daily_post.why_none_today(rt.engine, config, now, desk)
                click.echo(f"{desk.name}: {why}" if named else why, err=True)
        return
    env = slack_secrets(("SLACK_BOT_TOKEN",))
    client = make_client(env.bot_token, env.api_url)
    errors = []
    for desk in desks:
        prefix = f"{desk.name}: " if named else ""
        try:
            report = daily_post.post_day(rt.engine, client, config, now, desk)
        except (SlackApiError, LookupError) as exc:
            errors.append(prefix + _slack_error(exc))  # the other desks still post
            continue
        skipped = f", {report.skipped} skipped (see curator status)" if report.skipped else ""
        click.echo(
            f"{prefix}{report.day}: {report.planned} candidates, {report.posted} posted now, "
            f"{report.already} already posted, {report.remaining} left{skipped}"
        )
        if report.why_none:
            click.echo(prefix + report.why_none)
        if report.error:  # one line naming the fix; a rerun resumes where this one stopped
            errors.append(prefix + report.error)
    for error in errors[:-1]:
        click.echo(f"Error: {error}", err=True)
    if errors:
        raise click.ClickException(errors[-1])


@click.command()
@click.pass_obj
def reconcile(ctx: Context) -> None:
    """Re-read reactions on open and recently published cards, so missed votes count.

    Votes cast while the bot was down: on open cards every vote, on cards published in the
    last 7 days the unpublish emoji."""
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
