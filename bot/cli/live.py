"""``curator run`` and ``curator serve``: the bot itself, over Socket Mode or HTTP, with its
scheduled jobs beside the listeners."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.web import SlackResponse

from bot.cli.context import Context, slack_secrets
from bot.runtime import Runtime
from bot.slack.env import SlackEnv

if TYPE_CHECKING:
    from bot.slack.acks_first import InFlight

log = logging.getLogger(__name__)


def _app(
    rt: Runtime, env: SlackEnv, client: WebClient, auth: SlackResponse,
    in_flight: InFlight | None = None,
) -> App:  # fmt: skip
    from bot.slack.app import build_app

    return build_app(
        rt.config, rt.engine, token=env.bot_token, signing_secret=env.signing_secret,
        api_url=env.api_url, client=client, auth_test=auth, watch_home=True,
        in_flight=in_flight,
    )  # fmt: skip


@contextmanager
def _starting() -> Iterator[None]:
    """Slack refusing a token is the operator's one line, and exit 1."""
    from bot.slack.startup import SlackRefused

    try:
        yield
    except SlackRefused as exc:
        raise click.ClickException(str(exc)) from None


@click.command()
@click.pass_obj
def run(ctx: Context) -> None:
    """Run the bot over Socket Mode (the Procfile's worker): no public URL needed."""
    env = slack_secrets(("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"))
    rt = ctx.runtime()
    from bot.slack.startup import connect_socket_mode, reach_slack

    # SIGTERM (a deploy, a scale-down) unwinds like Ctrl-C, so the lease is handed back
    # at once instead of another replica waiting it out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with _starting():
        client, auth = reach_slack(env)
        handler = connect_socket_mode(_app(rt, env, client, auth), client, env)
    try:
        with _scheduler(rt, client, auth["user_id"], ctx.scrub):
            log.info("connected to Slack over Socket Mode; channel %s", rt.config.slack.channel)
            threading.Event().wait()  # the work runs on Socket Mode's threads; wait for a signal
    finally:
        handler.close()


@click.command()
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", type=int, default=3000, envvar="PORT", show_default=True)
@click.option("--threads", type=int, default=8, show_default=True)
@click.pass_obj
def serve(ctx: Context, host: str, port: int, threads: int) -> None:
    """Serve Slack's events over HTTP at /slack/events (the Procfile's web), plus /healthz."""
    env = slack_secrets(("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"))
    rt = ctx.runtime()
    from bot.slack.acks_first import InFlight
    from bot.slack.client import single_try
    from bot.slack.health import DatabaseHealth, Health, SlackHealth
    from bot.slack.server import make_server, make_wsgi_app
    from bot.slack.startup import reach_slack

    slack = SlackHealth()
    with _starting():
        client, auth = reach_slack(env, slack)
    health = Health(DatabaseHealth(rt.engine), slack, recheck=single_try(client).auth_test)
    in_flight = InFlight()  # the requests being answered: the events' work waits for them
    app = _app(rt, env, client, auth, in_flight)
    wsgi = make_wsgi_app(app, env.signing_secret or "", health, in_flight)
    server = make_server(wsgi, host, port, threads)
    with _scheduler(rt, client, auth["user_id"], ctx.scrub):
        log.info("listening on http://%s:%s/slack/events", host, server.port)
        signal.signal(signal.SIGTERM, lambda *_: server.close())
        server.run()


@contextmanager
def _scheduler(
    rt: Runtime, client: WebClient, bot_user: str, scrub: Callable[[str], str]
) -> Iterator[None]:
    """Run the scheduled jobs beside the listeners; the lease picks one replica to run them."""

    from bot.clock.jobs import build_slot_runner
    from bot.clock.scheduler import start_scheduler

    slot_runner = build_slot_runner(rt, client, bot_user=bot_user, scrub=scrub)
    scheduler = start_scheduler(slot_runner)
    try:
        yield
    finally:
        # Let a running job finish and record its outcome before the lease is handed on;
        # otherwise another replica could start the same work beside it.
        scheduler.shutdown(wait=True)
        slot_runner.stop()
