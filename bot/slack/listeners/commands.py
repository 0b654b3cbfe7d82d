"""Slash commands: ``/digest`` (or whatever ``slack.command`` names it)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.rules.digest_query import DigestError, parse_digest_query
from bot.slack.digest import answer_digest, unescape_command
from bot.slack.digest_desks import DeskChannels, desks_for
from bot.slack.digest_help import help_message
from bot.slack.limits import message_problems
from bot.slack.text import escape
from storage.db_errors import DatabaseError

if TYPE_CHECKING:
    from bot.slack.curator import Curator

log = logging.getLogger(__name__)


def register(app: App, curator: Curator) -> None:
    channels = DeskChannels(curator.config)  # which desk's channel a command came from

    @app.command(curator.config.slack.command)
    def digest(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        """``/digest topic:AI since:7d``: the matching articles, answered only to the asker;
        in a desk's channel for that desk unless ``desk:`` says otherwise."""
        now = datetime.now(UTC)
        try:
            text = unescape_command(command.get("text") or "")
            query = parse_digest_query(text, now, curator.config.zone)
            desks_for(curator.config, query)  # an unknown desk: told in the ack, like a typo
        except DigestError as exc:
            # Pure and instant, so it can ride on the ack itself. The error quotes what was
            # typed: escaped, so it cannot mention anyone or forge a link.
            hint = f"`{escape(curator.config.slack.command)} help` lists every filter"
            ack(response_type="ephemeral", text=f":warning: {escape(str(exc))} · {hint}")
            return
        if query.help:
            text, blocks = help_message(curator.config.slack.command, curator.config)
            ack(response_type="ephemeral", text=text, blocks=blocks)
            return
        # Ack first, then query: the 3-second deadline must not depend on the database
        # (a cold PostgreSQL connection or a lock can take longer). The answer goes to the
        # command's response_url, which takes messages for 30 minutes.
        ack()
        # After the ack: with desks named '#name', finding the channel's desk may ask Slack.
        here = None if query.desk else channels.desk_of(command.get("channel_id"), client)
        try:
            text, blocks = answer_digest(curator.engine, curator.config, query, now=now, here=here)
        except DatabaseError:
            sorry = ":warning: The digest could not be read from the database; try again soon."
            respond(response_type="ephemeral", text=sorry)
            raise  # logged with its traceback by the app's error handler
        problems = message_problems(text, blocks)
        if problems:  # built to fit; never send what Slack would refuse
            log.warning("digest answer not sent, it breaks Slack's limits: %s", problems[0])
            sorry = ":warning: That digest is too big for one message; narrow it with topic:."
            respond(response_type="ephemeral", text=sorry)
            return
        sent = respond(response_type="ephemeral", text=text, blocks=blocks)
        if sent.status_code != 200:
            log.warning("digest answer refused by Slack: %s %s", sent.status_code, sent.body)
