"""Who may vote: the configured user IDs and the members of the configured user group."""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Config

log = logging.getLogger(__name__)


class Editors:
    """Membership test, with the user group's members cached for ``ttl`` seconds."""

    def __init__(self, users: tuple[str, ...], group: str | None, ttl: float = 300) -> None:
        self._users = frozenset(users)
        self._group = group
        self._ttl = ttl
        self._members: frozenset[str] = frozenset()
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    def contains(self, user: str, client: WebClient) -> bool:
        if user in self._users:
            return True
        return self._group is not None and user in self._group_members(client)

    def _group_members(self, client: WebClient) -> frozenset[str]:
        with self._lock:
            if time.monotonic() - self._fetched_at > self._ttl:
                try:
                    users = client.usergroups_users_list(usergroup=self._group)["users"]
                    self._members = frozenset(users)
                    self._fetched_at = time.monotonic()
                except SlackApiError as exc:
                    # Keep the last known members: a Slack hiccup must not drop votes.
                    log.warning("could not list user group %s: %s", self._group, exc)
            return self._members


def editors_from(config: Config) -> Editors:
    """Who may vote, as the config names them: the one place an :class:`Editors` is built.

    Not a rule in ``bot.rules``: the user group's members are asked of Slack."""
    return Editors(config.slack.editors, config.slack.editor_group)


class DisplayNames:
    """Editors' Slack display names for commit trailers, looked up once each (users.info)."""

    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._names: dict[str, str] = {}

    def get(self, user: str, default: str | None = None) -> str | None:
        if user not in self._names:
            try:
                profile = self._client.users_info(user=user)["user"]
                name = (profile.get("profile") or {}).get("display_name") or profile.get(
                    "real_name"
                )
            except SlackApiError as exc:
                log.warning("no name for %s: %s", user, exc.response.get("error"))
                name = None
            if not name:
                return default
            self._names[user] = str(name)
        return self._names[user]
