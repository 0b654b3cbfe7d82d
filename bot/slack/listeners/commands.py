"""Slash commands: ``/digest`` (or whatever ``slack.command`` names it)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, Respond

from bot.rules.digest_query import DigestError, parse_digest_query
from bot.slack.digest import answer_digest, help_message, unescape_command
from bot.slack.limits import message_problems
from bot.slack.text import escape
from storage.db_errors import DatabaseError

if TYPE_CHECKING:
    from bot.slack.curator import Curator

log = logging.getLogger(__name__)


def register(app: App, curator: Curator) -> None:
    @app.command(curator.config.slack.command)
    def digest(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        """``/digest topic:AI since:7d``: the matching articles, answered only to the asker."""
        now = datetime.now(UTC)
        try:
            text = unescape_command(command.get("text") or "")
            query = parse_digest_query(text, now, curator.config.zone)
        except DigestError as exc:
            # Pure and instant, so it can ride on the ack itself. The error quotes what was
            # typed: escaped, so it cannot mention anyone or forge a link.
            hint = f"`{escape(curator.config.slack.command)} help` lists every filter"
            ack(response_type="ephemeral", text=f":warning: {escape(str(exc))} · {hint}")
            return
        if query.help:
            text, blocks = help_message(curator.config.slack.command)
            ack(response_type="ephemeral", text=text, blocks=blocks)
            return
        # Ack first, then query: the 3-second deadline must not depend on the database
        # (a cold PostgreSQL connection or a lock can take longer). The answer goes to the
        # command's response_url, which takes messages for 30 minutes.
        ack()
        try:
            text, blocks = answer_digest(curator.engine, curator.config, query, now=now)
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
