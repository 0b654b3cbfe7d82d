"""The whole wiring table: every Slack surface the bot listens to, a module per surface as
in Bolt's own app template (events, commands, the Home tab and its buttons)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt import App

from bot.slack.listeners import commands, events, home

if TYPE_CHECKING:
    from bot.slack.curator import Curator


def register_listeners(app: App, curator: Curator) -> None:
    events.register(app, curator)
    commands.register(app, curator)
    home.register(app, curator)
