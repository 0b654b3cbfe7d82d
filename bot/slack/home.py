"""The Home tab kept current for those who opened it, never on the event's own path.

Who opened the Home tab is kept in memory (a restart forgets them; their next visit brings
them back). A reader's view is published again when their queue changes: a vote on one of
their desks' cards, a new day's cards, a publish or an expiry. Changes made in this process
(votes) say so at once; a watcher also compares each desk's mark in the database
(``storage.home_views.queue_marks``) every ``poll`` seconds, which catches what the jobs or
another replica changed.

views.publish is rate-limited (Tier 4, about 100 a minute for the workspace): each reader's
view is sent at most once per ``interval`` seconds, with the queue as it is by then, and
any two sends are ``gap`` apart.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine

from bot.config import Config, Desk
from bot.house_rules import vote_rules
from bot.outages import outage
from bot.rules import states
from bot.rules.tally import tally, voting_closes
from bot.slack.card_refresher import CardRefresher
from bot.slack.editors import DeskEditors
from bot.slack.home_view import RECENT, HomeEntry, home_view
from bot.slack.limits import view_problems
from storage.db import reading
from storage.home_views import home_cards, queue_marks
from storage.post_views import reactions_for
from storage.revotes import changed_post_ids

log = logging.getLogger(__name__)

HOME_INTERVAL = 10.0  # seconds between two views of one reader
HOME_GAP = 0.7  # seconds between any two views: under 100 a minute
HOME_POLL = 15.0  # seconds between two looks at the database for changes made elsewhere


def _now() -> datetime:
    return datetime.now(UTC)


def editing(config: Config, editors: DeskEditors, client: WebClient, user: str) -> list[Desk]:
    """The desks ``user`` edits (a user group's members may be asked of Slack)."""
    return [d for d in config.desks if editors.contains(d, user, client)]


def build_home(
    engine: Engine, config: Config, *, user: str, desks: list[Desk], now: datetime,
    notice: str | None = None,
) -> dict[str, object]:  # fmt: skip
    """The Home tab view of a reader who edits ``desks`` (none: every desk's cards)."""
    names = [d.name for d in desks] if desks else None
    known = [d.name for d in config.desks] if config.default_desk in desks else None
    with reading(engine) as conn:
        cards = home_cards(conn, desks=names, known_desks=known, decided_since=now - RECENT)
        reactions = reactions_for(conn, post_ids=[c.post_id for c in cards])
        waiting = [c.post_id for c in cards if c.status == states.OPEN]
        revote = changed_post_ids(conn, post_ids=waiting)  # changed, and no vote since
    entries = []
    for card in cards:
        desk = config.desk(card.desk)
        rules = vote_rules(desk)
        its = tally(reactions[card.post_id], rules)
        mine = "publish" if user in its.publish else "reject" if user in its.reject else None
        closes = voting_closes(card.posted_at, rules)
        can_veto = bool(rules.veto) and user in rules.chiefs and card.status == states.OPEN
        changed = card.changed_keys if card.post_id in revote else None
        keys = tuple(changed.split(",")) if changed else ()
        entries.append(HomeEntry(card, desk, its, closes, mine if desks else None, can_veto, keys))
    return home_view(entries, config, editing=desks, now=now, notice=notice)


class HomeTabs:
    """The readers who opened the Home tab, and their views kept current."""

    def __init__(
        self, engine: Engine, config: Config, client: WebClient, editors: DeskEditors, *,
        interval: float = HOME_INTERVAL, gap: float = HOME_GAP, poll: float = HOME_POLL,
        now: Callable[[], datetime] = _now,
    ) -> None:  # fmt: skip
        self._engine, self._config, self._client = engine, config, client
        self._editors, self._now, self._poll = editors, now, poll
        self._views: CardRefresher[str] = CardRefresher(
            self.publish, interval, what="the Home tab of", gap=gap
        )
        self._lock = threading.Lock()
        # reader -> the desks their last view showed (None: every desk, a non-editor's)
        self._readers: dict[str, frozenset[str] | None] = {}
        self._notices: dict[str, str] = {}
        self._poked = threading.Event()
        self._stopped = False
        self._watcher: threading.Thread | None = None

    def opened(self, user: str, notice: str | None = None) -> None:
        """``user`` is looking at the Home tab (they opened it, or pressed one of its
        buttons): their view is sent soon, with ``notice`` at its top once, and kept current."""
        with self._lock:
            if notice:
                self._notices[user] = notice
            self._readers.setdefault(user, None)
            if self._watcher is None:
                self._watcher = threading.Thread(target=self._watch, name="home", daemon=True)
                self._watcher.start()
        self._views.mark(user)

    def poke(self) -> None:
        """Something changed in this process: the watcher looks at once, not at its next poll."""
        self._poked.set()

    def desk_changed(self, desk: str) -> None:
        """The queue of ``desk`` changed: every reader whose view shows it gets a new one."""
        with self._lock:
            due = [u for u, seen in self._readers.items() if seen is None or desk in seen]
        for user in due:
            self._views.mark(user)

    def stop(self, timeout: float = 5) -> None:
        """The watcher ends, once the views already due are sent."""
        self._stopped = True
        self._poked.set()
        if self._watcher is not None:
            self._watcher.join(timeout)
        self._views.flush(timeout)

    def flush(self, timeout: float = 10) -> bool:
        return self._views.flush(timeout)

    def publish(self, user: str) -> bool:
        """Build and send ``user``'s view (on the refresher's thread); False when not sent."""
        desks = editing(self._config, self._editors, self._client, user)
        with self._lock:
            notice = self._notices.pop(user, None)
            self._readers[user] = frozenset(d.name for d in desks) if desks else None
        view = build_home(
            self._engine, self._config, user=user, desks=desks, now=self._now(), notice=notice
        )
        problems = view_problems(view)
        if problems:  # built to fit; never send what Slack would refuse
            log.warning("Home tab of %s not sent, it breaks Slack's limits: %s", user, problems[0])
            return False
        try:
            self._client.views_publish(user_id=user, view=view)
        except SlackApiError as exc:
            log.warning("could not publish the Home tab of %s: %s", user, exc.response["error"])
            return False
        return True

    def _watch(self) -> None:
        """Every ``poll`` seconds, or when poked: which desks' queues changed since."""
        last: dict[str | None, tuple[object, ...]] | None = None
        first = True
        while not self._stopped:
            if not first:
                self._poked.wait(self._poll)
                self._poked.clear()
                if self._stopped:
                    return
            first = False
            try:
                with reading(self._engine) as conn:
                    marks = queue_marks(conn)
            except Exception as exc:  # the database away: look again at the next poll
                log.warning("Home tabs could not look for changes: %s", outage(exc) or exc)
                continue
            if last is not None:
                changed = {d for d in marks.keys() | last.keys() if marks.get(d) != last.get(d)}
                for desk in {self._config.desk(d).name for d in changed}:
                    self.desk_changed(desk)
            last = marks
