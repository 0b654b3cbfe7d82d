"""Reaching Slack when ``run`` or ``serve`` starts: retried with backoff, a line per attempt.

A Slack that does not answer (an outage, a network that is not up yet, a wrong
``SLACK_API_URL``) is waited for, doubling the delay up to a cap, for as long as it takes:
these are long-lived processes, and a supervisor that restarts a process which gave up
retries the same thing less gracefully — or, after a few quick failures, stops restarting
it and leaves the newsroom without a bot once Slack is back. A Slack that answers "no"
(a revoked token, a wrong kind of token) is not waited for: that is one line and exit 1.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.outages import (
    LATER,
    from_slack,
    network_reason,
    not_slack,
    not_slack_problem,
    slack_code,
    slack_kind,
)
from bot.slack.client import make_client, single_try
from bot.slack.env import SlackEnv
from bot.slack.health import SlackHealth

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_bolt.adapter.socket_mode import SocketModeHandler

log = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_DELAY = 1.0
MAX_DELAY = 60.0


class SlackRefused(RuntimeError):
    """Slack answered and said no; waiting will not change its mind."""


def delays(first: float = FIRST_DELAY, cap: float = MAX_DELAY) -> Iterator[float]:
    """1, 2, 4, ... seconds, then ``cap`` seconds for ever."""
    delay = first
    while True:
        yield delay
        delay = min(delay * 2, cap)


def reach_slack(
    env: SlackEnv, health: SlackHealth | None = None
) -> tuple[WebClient, SlackResponse]:
    """The bot's client and Slack's ``auth.test`` answer (who the bot is), once Slack gives it."""
    client = make_client(env.bot_token, env.api_url, health=health)
    probe_client = single_try(client)
    auth = until_slack_answers(
        probe_client.auth_test, what="the bot token (auth.test)", api_url=env.api_url,
        fix="check SLACK_BOT_TOKEN (the app's Bot User OAuth Token, xoxb-...); "
        "'curator doctor' checks the setup",
    )  # fmt: skip
    return client, auth


def connect_socket_mode(app: App, client: WebClient, env: SlackEnv) -> SocketModeHandler:
    """A Socket Mode connection for ``app``, once Slack hands one out. From then on Socket
    Mode reconnects by itself."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(app, env.app_token)
    # An app-level token call (connections:write), not a bot scope: named apart from clients.
    opener = single_try(client)

    def connect() -> None:
        # The socket's URL is asked for here, not by slack_sdk: a refusal is then our one
        # line, not also slack_sdk's multi-line error.
        handler.client.wss_uri = opener.apps_connections_open(app_token=env.app_token)["url"]
        handler.connect()

    until_slack_answers(
        connect, what="a Socket Mode connection (apps.connections.open)", api_url=env.api_url,
        fix="check SLACK_APP_TOKEN (an app-level token, xapp-..., with connections:write)",
    )  # fmt: skip
    return handler


def until_slack_answers(
    call: Callable[[], T],
    *,
    what: str,
    api_url: str,
    fix: str,
    backoff: Iterator[float] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``call()``'s result once Slack answers it. Each failed attempt is one line with the
    next delay (the traceback only with ``-v``); a refusal raises :class:`SlackRefused`
    naming ``fix``."""
    for attempt, delay in enumerate(backoff or delays(), 1):
        try:
            result = call()
            if attempt > 1:
                log.info("Slack's Web API answered %s on attempt %d", what, attempt)
            return result
        except SlackApiError as exc:
            reason, failure = _transient(exc), exc
            if reason is None and not_slack(exc):  # a wrong SLACK_API_URL: not the token
                raise SlackRefused(not_slack_problem(exc)) from None
            if reason is None:
                raise SlackRefused(f"Slack refused {what} ({_said(exc)}): {fix}") from None
        except OSError as exc:  # URLError, refused connections, timeouts, DNS
            if not from_slack(exc):  # not the way to Slack: nothing to wait for
                raise
            reason, failure = network_reason(exc), exc
        log.warning(
            "Slack's Web API at %s did not answer %s (%s); attempt %d, retrying in %g s. "
            "Check the network and SLACK_API_URL; 'curator doctor' checks the setup.",
            api_url, what, reason, attempt, delay,
        )  # fmt: skip
        log.debug("attempt %d failed", attempt, exc_info=failure)
        sleep(delay)
    raise AssertionError("unreachable: the backoff never ends")  # pragma: no cover


def _transient(exc: SlackApiError) -> str | None:
    """Why a Slack error is worth waiting out, or None when it is a refusal."""
    status = exc.response.status_code
    if status >= 500 or status == 429:
        return _said(exc)
    if status == 200 and slack_kind(slack_code(exc)) == LATER:
        return _said(exc)
    return None  # Slack's own "no", or not Slack at all: a wrong SLACK_API_URL stays wrong


def _said(exc: SlackApiError) -> str:
    status, error = exc.response.status_code, slack_code(exc)
    if status == 200:
        return str(error or "no error given")
    return f"HTTP {status}" + (f", {error}" if error else "")
