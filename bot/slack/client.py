"""The Slack Web API client, with Slack's rate limits and hiccups handled once, here."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler

from bot.slack.env import DEFAULT_API_URL
from bot.slack.health import SlackHealth
from bot.slack.keep_alive import KeepAliveWebClient


def make_client(
    token: str | None, base_url: str = DEFAULT_API_URL, *, health: SlackHealth | None = None
) -> WebClient:
    """A client that waits out HTTP 429 for as long as ``Retry-After`` says, and retries
    5xx answers and dropped connections a couple of times before giving up. ``health``
    (first, so it sees every attempt) records how Slack answered, for ``/healthz``. Each
    thread's calls reuse one connection (``bot.slack.keep_alive``)."""
    return KeepAliveWebClient(
        token=token,
        base_url=base_url,
        timeout=15,
        retry_handlers=[
            *([health] if health else []),
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=5),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def _observers(client: WebClient) -> list[RetryHandler]:
    return [h for h in client.retry_handlers if isinstance(h, SlackHealth)]


# slack_sdk logs every failed attempt at ERROR; a caller that retries says it once itself.
_QUIET = logging.getLogger(__name__ + ".single_try")
_QUIET.setLevel(logging.CRITICAL)


def single_try(client: WebClient, timeout: int = 10) -> WebClient:
    """The same client without retries: one attempt per call, for a caller that retries
    (and says so) itself."""
    return WebClient(
        token=client.token, base_url=client.base_url, timeout=timeout,
        retry_handlers=_observers(client), logger=_QUIET,
    )  # fmt: skip


def without_resend(client: WebClient) -> WebClient:
    """The same client, retrying only HTTP 429, for calls that must not run twice.

    After a dropped connection or a 5xx, Slack may already have posted the message; sending
    it again would post the card twice. The caller stops instead, and the next run finds the
    card by its metadata. A 429 is safe to retry: Slack did nothing. A plain ``WebClient``,
    a new connection per call: the keep-alive client would send a request again when a kept
    connection turns out closed, and here nothing is sent twice.
    """
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        retry_handlers=[*_observers(client), RateLimitErrorRetryHandler(max_retry_count=5)],
    )
