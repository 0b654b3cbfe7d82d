"""The Bolt app: built from settings in one place, the same for Socket Mode and HTTP."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from slack_bolt import App
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.middleware.authorization.single_team_authorization import (
    SingleTeamAuthorization,
)
from slack_sdk import WebClient
from slack_sdk.web import SlackResponse
from sqlalchemy.engine import Engine

from bot.config import Config
from bot.outages import outage
from bot.slack.acks_first import AcksFirst, InFlight
from bot.slack.card_message import refresh_cards
from bot.slack.card_refresher import CardRefresher
from bot.slack.client import make_client
from bot.slack.curator import Curator
from bot.slack.editors import editors_from
from bot.slack.guard import require_the_guard
from bot.slack.home import HOME_INTERVAL, HomeTabs
from bot.slack.listeners import register_listeners
from bot.slack.listeners.events import record_reactions
from bot.slack.voting import refresh_card

log = logging.getLogger(__name__)


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
    auth_test: SlackResponse | None = None,
    home_interval: float = HOME_INTERVAL,
    watch_home: bool = False,
    in_flight: InFlight | None = None,
) -> App:
    """The Slack app with every listener registered. Nothing happens at import time, and
    nothing goes over the network here: whoever starts it asks Slack who the bot is (and
    retries), and hands the answer over as ``auth_test``. ``home_interval``: the least
    time between two Home tab views of one reader. ``watch_home``: keep the Home tabs of the
    readers in the database current from the start (``curator run`` and ``serve``), not only
    once someone opens the tab here. ``in_flight``: the requests being answered, counted at
    the HTTP door; the events' work waits for them (``bot.slack.acks_first``)."""
    client = client or make_client(token, api_url)
    _quiet_bolt()
    editors = editors_from(config)
    home = HomeTabs(engine, config, client, editors, interval=home_interval)

    def failed(kind: str, error: Exception) -> None:
        """One place that logs listener failures, with the traceback; an outage (Slack or
        the database away) in one line, the traceback only with ``-v``."""
        reason = outage(error, database_url=engine.url, slack_api_url=api_url)
        if reason is None:
            log.error("listener failed on %s", kind, exc_info=error)
            return
        log.warning("listener failed on %s: %s", kind, reason)
        log.debug("listener failed on %s", kind, exc_info=error)

    events = AcksFirst(
        in_flight or InFlight(), lambda votes: record_reactions(curator, votes), failed
    )
    cards = CardRefresher(
        lambda post_id: refresh_card(engine, client, config, post_id, _now()),
        settle=events.settle,  # a card waits for the votes waiting: one refresh with them all
        refresh_many=lambda post_ids: refresh_cards(engine, client, config, post_ids, _now()),
    )
    curator = Curator(config, engine, editors, cards, home, events)
    if watch_home:
        home.watch()
    app = App(
        # Bolt builds a client per request from this one's settings (base_url included).
        client=client,
        # Socket Mode messages are not signed; HTTP mode refuses to start without a secret.
        signing_secret=signing_secret or "",
        # The guard (bot.slack.guard) has checked every signature before Bolt sees a request;
        # Bolt's second check of the same bytes is replaced by require_the_guard below.
        request_verification_enabled=False,
        # Ack first, work after: events are acknowledged before the listener runs.
        process_before_response=False,
        # Listener work is short: reactions hand theirs to curator.events (acks first), cards
        # refresh on their own thread. Two workers leave the GIL to the request threads.
        listener_executor=ThreadPoolExecutor(max_workers=2, thread_name_prefix="listener"),
        # No auth.test while building: `run` and `serve` call it themselves, with retries.
        token_verification_enabled=False,
        raise_error_for_unhandled_request=False,
    )
    require_the_guard(app)  # HTTP requests reach the listeners through the guard only
    if auth_test is not None:
        _prime_authorization(app, auth_test)
    register_listeners(app, curator)

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        failed(str(_kind(body)), error)

    return app


def _kind(body: object) -> object:
    """What a request was (an event's type, or the payload's), whatever shape it came in."""
    if not isinstance(body, dict):
        return None
    event = body.get("event")
    return (event.get("type") if isinstance(event, dict) else None) or body.get("type")


def _prime_authorization(app: App, auth_test: SlackResponse) -> None:
    """Give Bolt the ``auth.test`` answer we already have. Without it Bolt asks Slack on the
    first request, inside it: a Slack that is away just then turns an event into a 500, and
    the listeners would not know the bot's own user id."""
    for middleware in app._middleware_list:  # Bolt has no public way to pass it in
        if isinstance(middleware, SingleTeamAuthorization):
            middleware.auth_test_result = auth_test


class _BoltLogFilter(logging.Filter):
    """Bolt reads ``SLACK_BOT_TOKEN`` itself and warns that the client's token wins: the
    client was built from the same variable, so the warning is noise at every start. (Bolt's
    own signature check, which logged a refused body, is off: ``bot.slack.guard``.)"""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


_BOLT_FILTER = _BoltLogFilter()


def _quiet_bolt() -> None:
    logging.getLogger("slack_bolt.App").addFilter(_BOLT_FILTER)  # once: addFilter skips a repeat
