"""What every ``curator`` command shares: its context object and the Slack secrets check."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from storage.credentials import Scrubber

if TYPE_CHECKING:
    from bot.config import Config, Desk
    from bot.runtime import Runtime
    from bot.slack.env import SlackEnv


class Context:
    """What every command gets: the config path, the process's scrubber, and (once known)
    the database URL for naming it in an outage."""

    def __init__(self, config_path: Path, scrub: Callable[[str], str] | None = None) -> None:
        self.config_path = config_path
        # The process's scrubber: the logs, the output and what the jobs tell Slack.
        self.scrub = scrub or Scrubber(os.environ)
        self.database_url: str | None = None  # once known, for naming it in an outage

    # The config, the database and Slack are imported when a command asks for them, not
    # before: ``curator --help`` needs none of them.
    def config(self) -> Config:
        from bot.config import ConfigError, load_config

        try:
            return load_config(self.config_path)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None

    def runtime(self) -> Runtime:
        from bot.runtime import SchemaError, build_runtime

        config = self.config()
        self.database_url = config.database_url
        try:
            return build_runtime(config)
        except SchemaError as exc:
            raise click.ClickException(str(exc)) from None


def slack_secrets(need: tuple[str, ...]) -> SlackEnv:
    """The Slack secrets a command needs, or one line naming the ones that are missing."""
    from bot.slack.env import MissingSecrets, slack_env

    try:
        return slack_env(need=need)
    except MissingSecrets as exc:
        raise click.ClickException(str(exc)) from None


def chosen_desks(config: Config, name: str | None) -> list[Desk]:
    """The desk ``--desk NAME`` names (any case), else every desk in config order; an
    unknown name is one line listing the desks there are."""
    if name is None:
        return list(config.desks)
    desk = config.find_desk(name)
    if desk is None:
        names = ", ".join(d.name for d in config.desks)
        raise click.ClickException(f"--desk {name}: no such desk; the desks are: {names}")
    return [desk]


def desk_option() -> Callable:
    """``--desk NAME``: one desk of ``desks:`` (default: every desk)."""
    return click.option(
        "--desk", "desk_name", metavar="NAME", help="Only this desk (default: every desk)."
    )
