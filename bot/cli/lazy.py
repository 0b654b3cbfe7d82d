"""A click group that imports a command's module only when that command is asked for.

``curator --help`` lists every command without importing any: each is named by where it
lives (``"bot.cli.views:status"``) beside its line of help, as in click's documented lazy
group. Running a command, or asking for its own ``--help``, imports its module then, so a
command loads what it needs (SQLAlchemy, Bolt, APScheduler) and no more.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from gettext import gettext as _
from typing import Any, NamedTuple

import click


class LazyCommand(NamedTuple):
    """Where a command lives, and the first sentence of its help for the group's list."""

    path: str  # "package.module:attribute"
    short_help: str


class LazyGroup(click.Group):
    """A group whose commands are imported on first use; its help lists them from the table."""

    def __init__(self, *args: Any, lazy: Mapping[str, LazyCommand], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            return load_command(self.lazy[cmd_name].path)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click lists them, but from the table: listing imports no command's module."""
        shown = [(name, self._listed(name)) for name in self.list_commands(ctx)]
        shown = [(name, command) for name, command in shown if not command.hidden]
        if not shown:
            return
        limit = formatter.width - 6 - max(len(name) for name, _command in shown)
        with formatter.section(_("Commands")):
            formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in shown])

    def _listed(self, name: str) -> click.Command:
        if name in self.commands:
            return self.commands[name]
        # A stand-in carrying only the help line, shortened by click's own rule.
        return click.Command(name, help=self.lazy[name].short_help)


def load_command(path: str) -> click.Command:
    """The command at ``"package.module:attribute"``, its module imported now."""
    module, _colon, attribute = path.partition(":")
    command = getattr(importlib.import_module(module), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{path} is not a click command")
    return command
