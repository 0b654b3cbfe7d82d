"""The Web API client keeps its connection: one TCP connection for many calls, over real HTTP
to the stand-in, with slack_sdk's retries, rate-limit waits and errors as before."""

from __future__ import annotations

import logging
import threading

import pytest
from slack_sdk.errors import SlackApiError

from bot.slack.client import make_client, without_resend
from bot.slack.health import SlackHealth
from tests.slack_standin import SlackStandIn

TOKEN = "xoxb-test-token"


@pytest.fixture
def standin() -> SlackStandIn:
    with SlackStandIn() as slack:
        yield slack


def test_calls_of_one_thread_share_one_connection(standin: SlackStandIn) -> None:
    client = make_client(TOKEN, standin.url)
    client.auth_test()
    for n in range(3):
        client.chat_postMessage(channel="CCURATION", text=f"card {n}")
    assert [c.method for c in standin.calls] == ["auth.test", *["chat.postMessage"] * 3]
    assert standin.connections == 1


def test_each_thread_keeps_its_own_connection(standin: SlackStandIn) -> None:
    client = make_client(TOKEN, standin.url)

    def calls() -> None:
        for _ in range(2):
            client.auth_test()

    threads = [threading.Thread(target=calls) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    calls()
    assert len(standin.called("auth.test")) == 6
    assert standin.connections == 3  # two threads, then this one: never shared at once


def test_a_connection_closed_while_idle_is_replaced_quietly_and_the_call_sent_once(
    standin: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    """Not a failed attempt: no retry spent, nothing logged, /healthz not told of one."""
    health = SlackHealth()
    client = make_client(TOKEN, standin.url, health=health)
    client.auth_test()
    standin.close_idle()
    with caplog.at_level(logging.INFO):
        assert client.chat_postMessage(channel="CCURATION", text="after")["ok"]
    assert [c.method for c in standin.calls] == ["auth.test", "chat.postMessage"]
    assert standin.connections == 2
    assert caplog.records == []
    assert health.check().ok


def test_rate_limits_and_server_errors_are_retried_on_the_kept_connection(
    standin: SlackStandIn,
) -> None:
    client = make_client(TOKEN, standin.url)
    client.auth_test()
    standin.fail("chat.postMessage", status=429, retry_after=0)
    standin.fail("chat.postMessage", status=503, retry_after=None, error="service_unavailable")
    assert client.chat_postMessage(channel="CCURATION", text="card")["ok"]
    assert len(standin.called("chat.postMessage")) == 3  # 429, 503, then posted
    assert standin.connections == 1


def test_an_error_answer_is_slacks_error(standin: SlackStandIn) -> None:
    client = make_client(TOKEN, standin.url)
    standin.fail("chat.update", status=404, retry_after=None, error="message_not_found")
    with pytest.raises(SlackApiError) as raised:
        client.chat_update(channel="CCURATION", ts="1.000001", text="gone")
    assert raised.value.response.status_code == 404
    assert raised.value.response["error"] == "message_not_found"


def test_a_call_that_must_not_run_twice_keeps_urllib(standin: SlackStandIn) -> None:
    """Posting a card: a new connection per call, never a resend after a dropped one."""
    client = without_resend(make_client(TOKEN, standin.url))
    for _ in range(2):
        client.chat_postMessage(channel="CCURATION", text="card")
    assert standin.connections == 2
