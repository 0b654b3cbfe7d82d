"""The ``curator`` command: the group, its options and the wiring of every command module.

Each command is a thin layer over ``bot`` and ``storage`` and lives in the module for its
group: ``setup`` (init, db, manifest, doctor), ``content`` (scan, candidates), ``cards``
(post, reconcile), ``live`` (run, serve), ``publish``, ``views`` (digest, summary, status,
demo). Known outages end any of them as one line (``bot.outages``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import click

from bot.cli import cards, content, live, publish, setup, views
from bot.cli.context import Context
from bot.cli.logs import setup_logging
from bot.cli.output import scrub_standard_streams
from bot.outages import explain
from bot.slack.client import api_url
from storage.credentials import Scrubber

log = logging.getLogger(__name__)


class _Curator(click.Group):
    """Known outages (database, Slack, disk) end every command as one line and exit code 1;
    the traceback is logged at debug, so ``-v`` shows it. Usage errors keep click's code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            obj = ctx.obj if isinstance(ctx.obj, Context) else None
            line = explain(
                exc,
                database_url=obj.database_url if obj else None,
                slack_api_url=api_url(),
            )
            if line is None:
                raise
            log.debug("%s", line, exc_info=True)
            raise click.ClickException(line) from None


@click.group(cls=_Curator)
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default="curator.yml",
    envvar="CURATOR_CONFIG",
    show_default=True,
    help="The curator.yml to use (env CURATOR_CONFIG).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail.")
@click.pass_context
def cli(ctx: click.Context, config_path: Path, verbose: bool) -> None:
    """Newsroom Curator: editors vote in Slack, the bot publishes to the content repo."""
    # Logs and everything printed go through one scrubber: secrets from the environment,
    # credential shapes, URL userinfo.
    scrub = Scrubber(os.environ)
    scrub_standard_streams(scrub)
    setup_logging(logging.DEBUG if verbose else logging.INFO, scrub)
    ctx.obj = Context(config_path, scrub)


for command in (
    setup.init,
    setup.db,
    content.scan,
    content.candidates,
    live.run,
    live.serve,
    cards.post,
    cards.reconcile,
    views.status,
    setup.manifest,
    setup.doctor,
    views.digest,
    views.summary,
    views.demo,
    publish.publish,
):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="curator")
