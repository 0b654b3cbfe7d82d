"""What every listener is handed: the bot's settings, database, editors and card refresher.

Its own module so the app that builds it and the listeners that use it both import it, and
neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from bot.config import Config
from bot.slack.acks_first import AcksFirst
from bot.slack.card_refresher import CardRefresher
from bot.slack.editors import DeskEditors
from bot.slack.home import HomeTabs


@dataclass
class Curator:
    """What the listeners need: settings, database, who may vote, the cards and Home tabs
    to refresh, and the thread the events' work runs on once their acks are out."""

    config: Config
    engine: Engine
    editors: DeskEditors
    cards: CardRefresher[int]
    home: HomeTabs
    events: AcksFirst[Any]  # reaction events (bot.slack.listeners.events), acked already
