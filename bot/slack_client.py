"""The Slack Web API client, with Slack's rate limits and hiccups handled once, here."""

from __future__ import annotations

import os
from collections.abc import Mapping

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

DEFAULT_API_URL = "https://slack.com/api/"


def api_url(env: Mapping[str, str] | None = None) -> str:
    """``SLACK_API_URL`` lets a stand-in (tests, a proxy) replace Slack's Web API."""
    url = (env if env is not None else os.environ).get("SLACK_API_URL") or DEFAULT_API_URL
    return url if url.endswith("/") else url + "/"


def make_client(token: str | None, base_url: str = DEFAULT_API_URL) -> WebClient:
    """A client that waits out HTTP 429 for as long as ``Retry-After`` says, and retries
    5xx answers and dropped connections a couple of times before giving up."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=15,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=5),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def without_resend(client: WebClient) -> WebClient:
    """The same client, retrying only HTTP 429, for calls that must not run twice.

    After a dropped connection or a 5xx, Slack may already have posted the message; sending
    it again would post the card twice. The caller stops instead, and the next run finds the
    card by its metadata. A 429 is safe to retry: Slack did nothing.
    """
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=5)],
    )
