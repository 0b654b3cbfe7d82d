"""``curator digest``, ``summary``, ``status`` and ``demo``: the read-only views in a terminal.

Thin commands over ``bot.slack.digest``, ``bot.slack.summary_post``, ``bot.cli.status`` and
``bot.cli.demo``. They print what Slack would show, rendered as text (``--json`` for the
Block Kit).
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from storage.controls import escape_controls

if TYPE_CHECKING:
    from slack_sdk.models.blocks import Block

    from bot.cli.context import Context
    from bot.runtime import Runtime
    from bot.slack.summary_post import Outgoing


def _show(text: str, blocks: list[Block], as_json: bool) -> None:
    from bot.cli.terminal import json_safe, render_blocks

    if as_json:
        payload = {"text": text, "blocks": [b.to_dict() for b in blocks]}
        click.echo(json_safe(json.dumps(payload, indent=2, ensure_ascii=False)))
    else:
        # ANSI bold; click drops it when the output is not a terminal.
        click.echo(render_blocks(blocks, color=True, spaced=True))


@click.command()
@click.argument("query", nargs=-1)
@click.option(
    "--desk", metavar="NAME", help="One desk's cards (any case), or 'all'; default: every desk."
)
@click.option("--json", "as_json", is_flag=True, help="Print the Block Kit JSON instead.")
@click.pass_obj
def digest(ctx: Context, query: tuple[str, ...], desk: str | None, as_json: bool) -> None:
    """What /digest answers, here: curator digest "topic:AI since:7d" (or "help")."""
    from bot.rules.digest_query import DigestError, parse_digest_query
    from bot.slack.digest_desks import desks_for

    rt = ctx.runtime()
    now = datetime.now(UTC)
    # --desk NAME is desk:NAME: read with the filters, so giving both differently is an error.
    typed = " ".join(query) + (f' desk:"{desk}"' if desk is not None else "")
    try:
        parsed = parse_digest_query(typed, now, rt.config.zone)
        desks_for(rt.config, parsed)  # an unknown desk: one line listing the desks
    except DigestError as exc:
        raise click.ClickException(f"{exc} (curator digest help lists every filter)") from None
    from bot.slack.digest import answer_digest

    text, blocks = answer_digest(rt.engine, rt.config, parsed, now=now)
    _show(text, blocks, as_json)


@click.command()
@click.option("--dry-run", is_flag=True, help="Show the summary here; send nothing.")
@click.option(
    "--since",
    "since_text",
    metavar="WHEN",
    help="Report since 24h, 7d or a date like 2026-11-20 "
    "(default: the last summary the scheduler sent, else 24 hours ago).",
)
@click.option(
    "--desk",
    "desk_name",
    metavar="NAME",
    help="Only this desk's summary, in its channel (default: every desk's, and the newsroom's "
    "in slack.summary_channel, as the scheduler sends them).",
)
@click.option("--json", "as_json", is_flag=True, help="With --dry-run: the Block Kit JSON.")
@click.pass_obj
def summary(
    ctx: Context, dry_run: bool, since_text: str | None, desk_name: str | None, as_json: bool
) -> None:
    """Post the morning summary: published, rejected, waiting for votes, today's candidates."""
    from bot.cli.context import chosen_desks
    from bot.slack.summary_post import post_summary, summary_messages

    rt = ctx.runtime()
    now = datetime.now(UTC)
    desk = chosen_desks(rt.config, desk_name)[0] if desk_name is not None else None
    since = _summary_since(rt, since_text, now)
    if dry_run or as_json:
        outgoing = summary_messages(rt.engine, rt.config, since=since, now=now, desk=desk)
        if len(outgoing) == 1:  # one desk: the message alone, as before desks
            _show(outgoing[0].text, outgoing[0].blocks, as_json)
            return
        _show_several(outgoing, as_json)
        return
    from bot.cli.context import slack_secrets
    from bot.slack.client import make_client

    env = slack_secrets(("SLACK_BOT_TOKEN",))
    client = make_client(env.bot_token, env.api_url)
    report = post_summary(rt.engine, client, rt.config, since=since, now=now, desk=desk)
    when = f"{since.astimezone(rt.config.zone):%Y-%m-%d %H:%M}"
    several = len(report.sent) > 1 or desk is not None
    for sent in report.sent:
        if sent.ts is None:
            continue
        whose = f" of {sent.where}" if several else ""
        click.echo(
            escape_controls(
                f"posted the summary{whose} since {when} to {sent.channel} (ts {sent.ts})"
            )
        )
    if report.failed:
        raise click.ClickException(escape_controls(report.detail()))


def _show_several(outgoing: list[Outgoing], as_json: bool) -> None:
    """Each summary with where it would go: a list of messages as JSON, or one after another."""
    if as_json:
        from bot.cli.terminal import json_safe

        payload = [
            {"channel": o.channel, "text": o.text, "blocks": [b.to_dict() for b in o.blocks]}
            for o in outgoing
        ]
        click.echo(json_safe(json.dumps(payload, indent=2, ensure_ascii=False)))
        return
    for o in outgoing:
        click.echo(escape_controls(f"── {o.where}, to {o.channel} ──"))
        _show(o.text, o.blocks, as_json=False)


def _summary_since(rt: Runtime, since_text: str | None, now: datetime) -> datetime:
    from bot.rules.digest_query import DigestError, parse_since
    from bot.rules.schedule import summary_since
    from storage.db import reading
    from storage.models import as_utc
    from storage.schedule_state import last_run

    if since_text:
        try:
            return parse_since(since_text.strip(), now, rt.config.zone)
        except DigestError as exc:
            raise click.BadParameter(
                str(exc).removeprefix("since: "), param_hint="--since"
            ) from None
    with reading(rt.engine) as conn:
        last = last_run(conn, job="summary", outcome="ok")
    return summary_since(as_utc(last.slot) if last is not None else None, now)


@click.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    help="Build the demo here (a new or empty directory); default: a new temporary one.",
)
@click.pass_obj
def demo(ctx: Context, directory: Path | None) -> None:
    """See the bot without Slack: a sample repo, today's cards, a /digest and a summary."""
    from bot.cli.demo import build_demo, demo_report
    from storage.git_command import GitError

    del ctx  # the demo writes and uses its own curator.yml
    target = directory or Path(tempfile.mkdtemp(prefix="curator-demo-"))
    try:
        built = build_demo(target, now=datetime.now(UTC))
    except (FileExistsError, GitError) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        click.echo(demo_report(built, color=True))
    finally:
        built.engine.dispose()


@click.command()
@click.option("--all", "every", is_flag=True, help="List every open card, not the oldest 30.")
@click.pass_obj
def status(ctx: Context, every: bool) -> None:
    """Each job's last and next run, the scheduler's leader, the last commit, open posts."""
    from bot.cli.status import LISTED_AT_MOST, status_lines

    rt = ctx.runtime()
    at_most = None if every else LISTED_AT_MOST
    for line in status_lines(rt.engine, rt.config, datetime.now(UTC), at_most=at_most):
        click.echo(escape_controls(line))  # titles, paths and job details come from others
