"""The Bolt app: built from settings in one place, the same for Socket Mode and HTTP."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot.card_refresher import CardRefresher
from bot.config import Config
from bot.editors import Editors
from bot.listeners import register_listeners
from bot.slack_client import make_client
from bot.voting import refresh_card

log = logging.getLogger(__name__)


@dataclass
class Curator:
    """What the listeners need: settings, database, who may vote, the cards to refresh."""

    config: Config
    engine: Engine
    editors: Editors
    cards: CardRefresher


def _now() -> datetime:
    return datetime.now(UTC)


def build_app(
    config: Config,
    engine: Engine,
    *,
    token: str,
    signing_secret: str | None,
    api_url: str,
    client: WebClient | None = None,
) -> App:
    """The Slack app with every listener registered. Nothing happens at import time."""
    client = client or make_client(token, api_url)
    curator = Curator(
        config,
        engine,
        Editors(config.slack.editors, config.slack.editor_group),
        CardRefresher(lambda post_id: refresh_card(engine, client, config, post_id, _now())),
    )
    app = App(
        # Bolt builds a client per request from this one's settings (base_url included).
        client=client,
        # Socket Mode messages are not signed; HTTP mode refuses to start without a secret.
        signing_secret=signing_secret or "",
        # Ack first, work after: events are acknowledged before the listener runs.
        process_before_response=False,
        # Listener work is short (an upsert and a tally; cards refresh on their own thread).
        # Two workers keep up with a newsroom's votes many times over, and leave the GIL to
        # the request threads, so acks stay fast under a burst (bench/events.py).
        listener_executor=ThreadPoolExecutor(max_workers=2, thread_name_prefix="listener"),
        token_verification_enabled=False,
        raise_error_for_unhandled_request=False,
    )
    register_listeners(app, curator)

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        """One place that logs listener failures, with the traceback."""
        kind = (body or {}).get("event", {}).get("type") or (body or {}).get("type")
        log.error("listener failed on %s", kind, exc_info=error)

    return app
