"""The whole wiring table: every Slack surface the bot listens to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt import App

from bot.slack.listeners import commands, reactions

if TYPE_CHECKING:
    from bot.slack.curator import Curator


def register_listeners(app: App, curator: Curator) -> None:
    reactions.register(app, curator)
    commands.register(app, curator)
