"""Reaching Slack at start: waited for with backoff while it does not answer, one line per
attempt; a refusal is one line naming the fix. Real HTTP: a port that refuses, then the
stand-in coming up on it."""

from __future__ import annotations

import itertools
import logging
import socket

import pytest

from bot.slack.client import make_client, single_try
from bot.slack.startup import SlackRefused, delays, until_slack_answers
from tests.slack_standin import SlackStandIn, not_slack


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_backoff_doubles_to_a_minute():
    assert list(itertools.islice(delays(), 9)) == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_slack_that_comes_up_late_is_waited_for(caplog):
    caplog.set_level(logging.DEBUG)
    port = closed_port()
    url = f"http://127.0.0.1:{port}/api/"
    client = single_try(make_client("xoxb-test-not-real", url))
    slept: list[float] = []
    started: list[SlackStandIn] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 3:  # Slack comes up during the third wait
            started.append(SlackStandIn(port=port).start())

    try:
        user = until_slack_answers(
            lambda: client.auth_test()["user_id"], what="the bot token (auth.test)",
            api_url=url, fix="check SLACK_BOT_TOKEN", sleep=sleep,
        )  # fmt: skip
    finally:
        for s in started:
            s.stop()
    assert user == "UCURATOR" and slept == [1, 2, 4]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage().split("; ")[1].split(". ")[0] for r in warnings] == [
        "attempt 1, retrying in 1 s", "attempt 2, retrying in 2 s", "attempt 3, retrying in 4 s",
    ]  # fmt: skip
    first = warnings[0].getMessage()
    assert f"at {url} did not answer the bot token (auth.test) (Connection refused)" in first
    assert "SLACK_API_URL" in first and "'curator doctor'" in first and "\n" not in first
    assert not any(r.exc_info for r in warnings)  # one line each; the traceback is -v's
    # (A handler set up by main() folds the traceback into the message; either way it is there.)
    debug = [r for r in caplog.records if r.levelno == logging.DEBUG and "failed" in r.msg]
    assert len(debug) == 3 and all(r.exc_info or "Traceback" in r.getMessage() for r in debug)
    assert "answered the bot token (auth.test) on attempt 4" in caplog.text


@pytest.mark.parametrize("status, error", [(503, "service_unavailable"), (200, "ratelimited")])
def test_slack_saying_later_is_waited_for(standin, status, error):
    standin.fail("auth.test", status=status, retry_after=None, times=2, error=error)
    slept: list[float] = []
    client = single_try(make_client("xoxb-test-not-real", standin.url))
    user = until_slack_answers(
        lambda: client.auth_test()["user_id"], what="auth.test", api_url=standin.url, fix="-",
        sleep=slept.append,
    )  # fmt: skip
    assert user == "UCURATOR" and slept == [1, 2]


def refusal(url: str) -> str:
    """What startup says when the Web API at ``url`` refuses the bot token: never waited for."""
    client = single_try(make_client("xoxb-test-not-real", url))
    with pytest.raises(SlackRefused) as refused:
        until_slack_answers(
            client.auth_test, what="the bot token (auth.test)", api_url=url,
            fix="check SLACK_BOT_TOKEN", sleep=pytest.fail,
        )  # fmt: skip
    return str(refused.value)


@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked", "not_allowed_token_type"])
def test_slack_saying_no_is_not_waited_for(standin, error):
    standin.fail("auth.test", status=200, retry_after=None, error=error)
    assert refusal(standin.url) == (
        f"Slack refused the bot token (auth.test) ({error}): check SLACK_BOT_TOKEN"
    )


def test_a_url_that_is_not_slacks_is_a_refusal(standin):
    """A 404 is a wrong SLACK_API_URL, not an outage: waiting would not help."""
    client = single_try(make_client("xoxb-test-not-real", standin.url.replace("/api/", "/x/")))
    standin.fail("auth.test", status=404, retry_after=None)
    with pytest.raises(SlackRefused, match=r"Slack refused auth.test \(HTTP 404"):
        until_slack_answers(
            client.auth_test, what="auth.test", api_url=standin.url, fix="check SLACK_API_URL",
            sleep=pytest.fail,
        )  # fmt: skip


@pytest.mark.parametrize("status", [404, 200])
def test_a_server_that_is_not_slack_names_slack_api_url_not_the_token(status):
    """Issue 9, item 15: any web server at SLACK_API_URL (a 404, an HTML page with 200) made
    startup say "check SLACK_BOT_TOKEN"."""
    with not_slack(status) as page:
        said = refusal(page.url)
    assert said == (
        f"{page.url} does not answer like Slack's Web API (auth.test: HTTP {status}, not JSON): "
        "check SLACK_API_URL, or unset it to use Slack's own; 'curator doctor' checks every part"
    )


def test_an_error_that_is_not_slacks_is_not_waited_for(tmp_path):
    """Only an OSError raised in a Slack call is Slack not answering; a disk error in the
    same call site is raised at once, not retried for ever as an outage."""
    slept: list[float] = []
    with pytest.raises(FileNotFoundError):
        until_slack_answers(
            (tmp_path / "absent").read_text, what="a file", api_url="http://127.0.0.1:9/api/",
            fix="none", sleep=slept.append, backoff=iter([1.0]),
        )  # fmt: skip
    assert slept == []
