"""Slack-signed HTTP requests into the bot, as Slack's servers would send them."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_sdk import WebClient
    from sqlalchemy.engine import Engine

    from bot.config import Config
    from bot.slack.health import SlackHealth

SIGNING_SECRET = "test-signing-secret-not-real"
_event_ids = itertools.count(1)


def sign(body: bytes, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def reaction_event(
    kind: str, *, user: str, reaction: str, channel: str, ts: str, event_ts: str,
    event_id: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """An Events API envelope for reaction_added / reaction_removed."""
    return {
        "token": "unused",
        "team_id": "T1",
        "api_app_id": "A1",
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_event_ids):08d}",
        "event_time": int(float(event_ts)),
        "event": {
            "type": kind,
            "user": user,
            "reaction": reaction,
            "item": {"type": "message", "channel": channel, "ts": ts},
            "item_user": "UCURATOR",
            "event_ts": event_ts,
        },
        "authorizations": [{"team_id": "T1", "user_id": "UCURATOR", "is_bot": True}],
    }


def send_event(url: str, payload: dict[str, Any], *, secret: str = SIGNING_SECRET,
               timestamp: int | None = None) -> int:  # fmt: skip
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", **sign(body, secret, timestamp)}
    status, _ = post(url, body, headers)
    return status


def home_opened_event(user: str, *, event_ts: str = "1800000000.000001") -> dict[str, Any]:
    """An Events API envelope for app_home_opened on the Home tab."""
    return {
        "token": "unused", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
        "event_id": f"Ev{next(_event_ids):08d}", "event_time": int(float(event_ts)),
        "event": {"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home",
                  "event_ts": event_ts},
        "authorizations": [{"team_id": "T1", "user_id": "UCURATOR", "is_bot": True}],
    }  # fmt: skip


def button_action(user: str, action_id: str, post_id: int, action_ts: str) -> dict[str, Any]:
    """A block_actions payload: ``user`` pressed a Home tab button."""
    return {
        "type": "block_actions", "team": {"id": "T1"}, "api_app_id": "A1",
        "user": {"id": user, "team_id": "T1"}, "container": {"type": "view", "view_id": "V1"},
        "trigger_id": "1.2.3", "view": {"id": "V1", "type": "home", "callback_id": "home"},
        "actions": [{"type": "button", "action_id": action_id, "block_id": f"vote:{post_id}",
                     "value": str(post_id), "action_ts": action_ts,
                     "text": {"type": "plain_text", "text": "Publish"}}],
    }  # fmt: skip


def send_action(url: str, payload: dict[str, Any], *, secret: str = SIGNING_SECRET) -> int:
    """An interactivity request as Slack sends it: a signed form with ``payload=<json>``."""
    body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body, secret)}
    status, _ = post(url, body, headers)
    return status


def bot_app(
    config: Config, engine: Engine, api_url: str, slack: SlackHealth | None = None,
    **options: Any,
) -> tuple[App, WebClient]:  # fmt: skip
    """The bot's Bolt app and its client, as `curator serve` builds them."""
    from bot.slack.app import build_app
    from bot.slack.client import make_client

    client = make_client("xoxb-test-token", api_url, health=slack)
    app = build_app(
        config, engine, token="xoxb-test-token", signing_secret=SIGNING_SECRET, api_url=api_url,
        client=client, auth_test=client.auth_test(),  # as `curator serve` does before it listens
        **options,
    )  # fmt: skip
    return app, client


@contextmanager
def serve_bot(config: Config, engine: Engine, api_url: str, **options: Any) -> Iterator[str]:
    """The bot's HTTP endpoint under its production server; yields the events URL."""
    import threading

    from bot.slack.acks_first import InFlight
    from bot.slack.health import DatabaseHealth, Health, SlackHealth
    from bot.slack.server import make_server, make_wsgi_app

    slack = SlackHealth()
    in_flight = InFlight()  # as `curator serve` wires it: the events' work waits for the acks
    app, client = bot_app(config, engine, api_url, slack, in_flight=in_flight, **options)
    health = Health(DatabaseHealth(engine), slack, recheck=client.auth_test)
    wsgi = make_wsgi_app(app, SIGNING_SECRET, health, in_flight)
    server = make_server(wsgi, "127.0.0.1", 0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.port}/slack/events"
    finally:
        server.close()
