"""Which desks a ``/digest`` covers: the one asked for, the one whose channel it was asked
in, or every desk; and the channel a command came from, as the desk it belongs to."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Config, Desk
from bot.rules.digest_query import ALL_DESKS, DigestError, DigestQuery
from bot.slack.text import mrkdwn

log = logging.getLogger(__name__)
RETRY_SECONDS = 60.0  # how soon a '#name' Slack did not (or could not) resolve is asked again


def desks_for(config: Config, query: DigestQuery, here: Desk | None = None) -> tuple[Desk, ...]:
    """The desks a query covers: ``desk:NAME`` (any case) or ``desk:all``, else ``here`` (the
    desk whose channel it was asked in), else every desk. Raises DigestError for a desk name
    the config does not know, with one line that lists the desks."""
    if query.desk == ALL_DESKS:
        return config.desks
    if query.desk is not None:
        found = config.find_desk(query.desk)
        if found is None:
            raise DigestError(unknown_desk(config, query.desk))
        return (found,)
    return (here,) if here is not None else config.desks


def unknown_desk(config: Config, name: str) -> str:
    """The one-line answer to ``desk:`` with a name no desk has."""
    names = [d.name for d in config.desks]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    shown = name if len(name) <= 40 else name[:39] + "…"
    return (
        f"no desk is named {shown!r}; the desk{'s are' if len(names) > 1 else ' is'} "
        f"{listed}, and desk:all asks about every desk"
    )


def desks_text(desks: Sequence[Desk], config: Config) -> str:
    """Which desks an answer covers, said when the config has several: "the Policy desk",
    "every desk"; "" for a newsroom of one desk."""
    if len(config.desks) < 2:
        return ""
    if len(desks) >= len(config.desks):
        return "every desk"
    names = [mrkdwn(d.name, 40) for d in desks]
    return f"the {' and '.join(names)} desk{'s' if len(names) > 1 else ''}"


class DeskChannels:
    """The desk whose channel a command was typed in, by the channel ID Slack sends.

    A desk configured by channel ID is known at once. Desks configured as ``#name`` are
    resolved with one walk of ``conversations.list`` for all of them, the first time a
    command comes from a channel no ID names, and cached: channels are seldom renamed. A
    name Slack did not resolve (or a failed walk) is asked again at most every
    ``RETRY_SECONDS``. With one desk nothing is asked: every desk is that desk.
    """

    def __init__(self, config: Config, retry: float = RETRY_SECONDS) -> None:
        self._several = len(config.desks) > 1
        self._by_id = {d.channel: d for d in config.desks if not d.channel.startswith("#")}
        self._by_name = {d.channel[1:]: d for d in config.desks if d.channel.startswith("#")}
        self._retry = retry
        self._asked_at = float("-inf")
        self._lock = threading.Lock()

    def desk_of(self, channel_id: str | None, client: WebClient) -> Desk | None:
        """The desk of that channel; None for a DM, another channel, or a single desk."""
        if not self._several or not channel_id:
            return None
        found = self._by_id.get(channel_id)
        if found is not None or not self._by_name:
            return found
        with self._lock:
            if time.monotonic() - self._asked_at > self._retry:
                self._asked_at = time.monotonic()
                self._resolve(client)
            return self._by_id.get(channel_id)

    def _resolve(self, client: WebClient) -> None:
        """Every '#name' desk channel not yet known, in one walk of the channel list."""
        known = set(self._by_id.values())
        wanted = {name: d for name, d in self._by_name.items() if d not in known}
        cursor = None
        try:
            while wanted:
                page = client.conversations_list(
                    exclude_archived=True, limit=1000, cursor=cursor,
                    types="public_channel,private_channel",
                )  # fmt: skip
                for ch in page.get("channels", []):
                    desk = wanted.pop(str(ch.get("name")), None)
                    if desk is not None:
                        self._by_id[str(ch["id"])] = desk
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        except (SlackApiError, OSError) as exc:
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else exc
            log.warning("could not list channels to find the desks' channels: %s", error)
            return
        if wanted:
            log.warning("no channel visible to the bot for desk channel(s) %s",
                        ", ".join(f"#{name}" for name in sorted(wanted)))  # fmt: skip
