"""The ``curator`` command: the group, its options and the table of every command.

Each command is a thin layer over ``bot`` and ``storage`` and lives in the module for its
group: ``setup`` (init, db, manifest, doctor), ``content`` (scan, candidates), ``cards``
(post, reconcile), ``live`` (run, serve), ``publish``, ``views`` (digest, summary, status,
demo). A command's module is imported only when it runs (``bot.cli.lazy``), so
``curator --help`` starts in a blink and each command loads what it needs. Known outages
end any of them as one line (``bot.outages``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import click

from bot.cli.context import Context
from bot.cli.lazy import LazyCommand, LazyGroup
from bot.cli.logs import setup_logging
from bot.cli.output import scrub_standard_streams
from storage.credentials import Scrubber

log = logging.getLogger(__name__)


# Every command: where it lives and the first sentence of its help, which ``--help`` lists
# without importing it (tests/test_startup.py checks each line against the command's own).
COMMANDS = {
    name: LazyCommand(path, short_help)
    for name, path, short_help in [
        ("init", "bot.cli.setup:init", "Write a commented example curator.yml to edit."),
        ("db", "bot.cli.setup:db", "Database schema."),
        ("manifest", "bot.cli.setup:manifest",
         "Print the Slack app manifest, with your slash command and request URL filled in."),
        ("doctor", "bot.cli.setup:doctor",
         "Check config, database, content repo and Slack; each line is ok or a fix to apply."),
        ("scan", "bot.cli.content:scan",
         "Fetch the content repo and bring the database in line with its branch."),
        ("candidates", "bot.cli.content:candidates",
         "List what would be posted today, best first; when none qualify, say why."),
        ("post", "bot.cli.cards:post",
         "Post today's candidates to each desk's channel (once a day; a rerun resumes)."),
        ("reconcile", "bot.cli.cards:reconcile",
         "Re-read reactions on open and recently published cards, so missed votes count."),
        ("run", "bot.cli.live:run",
         "Run the bot over Socket Mode (the Procfile's worker): no public URL needed."),
        ("serve", "bot.cli.live:serve",
         "Serve Slack's events over HTTP at /slack/events (the Procfile's web), plus /healthz."),
        ("publish", "bot.cli.publish:publish",
         "Publish every approved article in one commit to the content repo."),
        ("unpublish", "bot.cli.publish:unpublish",
         "Queue a published article (PATH or URL) to be unpublished by the next publish run."),
        ("digest", "bot.cli.views:digest",
         'What /digest answers, here: curator digest "topic:AI since:7d" (or "help").'),
        ("summary", "bot.cli.views:summary",
         "Post the morning summary: published, rejected, waiting for votes, today's candidates."),
        ("status", "bot.cli.views:status",
         "Each job's last and next run, the scheduler's leader, the last commit, open posts."),
        ("demo", "bot.cli.views:demo",
         "See the bot without Slack: a sample repo, today's cards, a /digest and a summary."),
    ]
}  # fmt: skip


class _Curator(LazyGroup):
    """Known outages (database, Slack, disk) end every command as one line and exit code 1;
    the traceback is logged at debug, so ``-v`` shows it. Usage errors keep click's code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # click's own (a usage error, --help, Ctrl-C): never an outage
        except Exception as exc:
            # Imported here: telling outages apart needs the database's errors, which a
            # command that never opens it should not pay for.
            from bot.outages import explain
            from bot.slack.env import api_url

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


@click.group(cls=_Curator, lazy=COMMANDS)
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


def main() -> None:
    cli(prog_name="curator")
