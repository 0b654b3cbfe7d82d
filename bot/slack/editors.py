"""Who may vote: the configured user IDs and the members of the configured user group."""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Config, Desk

log = logging.getLogger(__name__)


class Editors:
    """Membership test, with the user group's members cached for ``ttl`` seconds."""

    def __init__(self, users: tuple[str, ...], group: str | None, ttl: float = 300) -> None:
        self.users = frozenset(users)
        self._group = group
        self._ttl = ttl
        self._members: frozenset[str] = frozenset()
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()
        self._cache = self  # whose group members are cached: shared between desks

    def with_users(self, users: tuple[str, ...]) -> Editors:
        """These user IDs and this user group, sharing this object's cache of the group."""
        editors = Editors(users, self._group, self._ttl)
        editors._cache = self._cache
        return editors

    def contains(self, user: str, client: WebClient) -> bool:
        if user in self.users:
            return True
        return self._group is not None and user in self._cache._group_members(client)

    def members(self, client: WebClient) -> frozenset[str]:
        """Everyone who may vote: the listed users and the user group's members (as last
        known, when Slack cannot list them now)."""
        if self._group is None:
            return self.users
        return self.users | self._cache._group_members(client)

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


class DeskEditors:
    """Each desk's editors; desks naming the same user group share one cache of it."""

    def __init__(self, by_desk: dict[str, Editors]) -> None:
        self._by_desk = by_desk

    def of(self, desk: Desk) -> Editors:
        return self._by_desk[desk.name]

    def contains(self, desk: Desk, user: str, client: WebClient) -> bool:
        """Whether ``user`` may vote on ``desk``'s cards."""
        return self.of(desk).contains(user, client)


def editors_from(config: Config) -> DeskEditors:
    """Who may vote in each desk, as the config names them: the one place :class:`Editors`
    are built. Not a rule in ``bot.rules``: a user group's members are asked of Slack."""
    groups: dict[str | None, Editors] = {}  # one cache per user group
    by_desk = {}
    for desk in config.desks:
        shared = groups.setdefault(desk.editor_group, Editors((), desk.editor_group))
        by_desk[desk.name] = shared.with_users(desk.editors)
    return DeskEditors(by_desk)


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
