"""``curator init``, ``db upgrade``, ``manifest`` and ``doctor``: setting the bot up."""

from __future__ import annotations

import os

import click

from bot.cli.context import Context
from storage.controls import escape_controls


@click.command()
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.pass_obj
def init(ctx: Context, force: bool) -> None:
    """Write a commented example curator.yml to edit."""
    from bot.config import ConfigError, write_example

    try:
        path = write_example(ctx.config_path, force=force)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {path}: set content.remote and slack.channel, then run 'curator scan'")


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(ctx: Context) -> None:
    """Create or upgrade the schema to the newest migration (the Procfile's release step)."""
    from storage import migrate
    from storage.db import open_kept, redacted

    url = ctx.database_url = _database_url(ctx)
    engine = open_kept(url)
    before = migrate.current_revision(engine)
    migrate.upgrade(engine)
    after = migrate.current_revision(engine)
    click.echo(f"{redacted(url)}: schema {before or 'empty'} -> {after}")


def _database_url(ctx: Context) -> str:
    # The release step runs where curator.yml may not exist; DATABASE_URL alone is enough.
    if not ctx.config_path.exists() and os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    return ctx.config().database_url


@click.command()
@click.option("--url", help="Public base URL for HTTP mode, e.g. https://curator.example.org")
@click.pass_obj
def manifest(ctx: Context, url: str | None) -> None:
    """Print the Slack app manifest, with your slash command and request URL filled in."""
    from bot.slack.manifest import render_manifest

    command = ctx.config().slack.command if ctx.config_path.exists() else "/digest"
    click.echo(render_manifest(command=command, base_url=url), nl=False)


@click.command()
@click.pass_obj
def doctor(ctx: Context) -> None:
    """Check config, database, content repo and Slack; each line is ok or a fix to apply."""
    from bot.cli.doctor import run_checks

    ok = True
    for check in run_checks(ctx.config_path):
        ok &= check.ok
        mark = click.style("ok  ", fg="green") if check.ok else click.style("FIX ", fg="red")
        if check.ok and check.warn:
            mark = click.style("warn", fg="yellow")
        click.echo(f"{mark} {check.name}: {escape_controls(check.detail)}")
    if not ok:
        raise SystemExit(1)
