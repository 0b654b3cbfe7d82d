"""The Home tab kept current for those who opened it, never on the event's own path.

Who opened the Home tab is kept in the database (``storage.home_readers``), with the desks
their view shows and a mark of the queue it was built from; a reader who has not opened the
tab for ``READER_DAYS`` is forgotten (their next visit brings them back). A reader's view is
published again when their queue changes: a vote on one of their desks' cards, a new day's
cards, a publish, an expiry, an article changed after the votes. A watcher compares each
reader's mark with the database's (``storage.home_views.queue_marks``) every ``poll``
seconds, and at once when this process changed something (a vote). It looks under a lock
taken without waiting (``storage.locks``), and writes down each refresh it takes before
sending it: whichever replica looks first sends it, once; the others skip that tick. A view
that could not be sent is written down as such, and the next look sends it again.

views.publish is rate-limited (Tier 4, about 100 a minute for the workspace): each reader's
view is sent at most once per ``interval`` seconds, with the queue as it is by then, and
any two sends of this process are ``gap`` apart (each replica keeps its own pace).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

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
from storage.db import reading, transaction
from storage.home_readers import (
    UNSENT,
    claim_refresh,
    forget_readers,
    reader_opened,
    reader_sent,
    readers,
)
from storage.home_views import home_cards, queue_marks
from storage.locks import Busy, run_lock
from storage.post_views import reactions_for
from storage.revotes import changed_post_ids

log = logging.getLogger(__name__)

HOME_INTERVAL = 10.0  # seconds between two views of one reader
HOME_GAP = 0.7  # seconds between any two views of a replica: under 100 a minute
HOME_POLL = 15.0  # seconds between two looks at the database for changes made elsewhere
BUSY_RETRY = 1.0  # seconds before looking again when another replica was looking
# Seconds from a poke to the look it asks for: every vote pokes, and a burst of votes is then
# one look (a lock and a read), not one each. Views go out HOME_GAP apart anyway.
HOME_SETTLE = 0.25
# Readers are forgotten a week after their last visit: a week-old view is out of date anyway
# (its decided list covers 7 days), and nobody is sent views for a tab they left for good.
READER_DAYS = timedelta(days=7)


def _now() -> datetime:
    return datetime.now(UTC)


def editing(config: Config, editors: DeskEditors, client: WebClient, user: str) -> list[Desk]:
    """The desks ``user`` edits (a user group's members may be asked of Slack)."""
    return [d for d in config.desks if editors.contains(d, user, client)]


def vetoing(config: Config, user: str) -> list[Desk]:
    """The desks with a veto whose chiefs include ``user``."""
    return [d for d in config.desks if d.votes.veto and user in vote_rules(d).chiefs]


def shown_desks(config: Config, edited: list[Desk], user: str) -> list[Desk]:
    """The desks whose cards a reader's Home tab lists: those they edit, and those they may
    veto (none: every desk, for a reader who edits none)."""
    if not edited:
        return []
    return edited + [d for d in vetoing(config, user) if d not in edited]


def reader_mark(
    marks: dict[str | None, tuple[object, ...]], desks: frozenset[str] | None, config: Config
) -> str:
    """The mark of the queue a reader of ``desks`` (None: every desk) sees: it moves when
    one of their desks' marks does (a card of no known desk counts as the default's)."""
    mine = sorted(
        (str(d), v) for d, v in marks.items() if desks is None or config.desk(d).name in desks
    )
    return hashlib.sha256(repr(mine).encode()).hexdigest()[:32]


def build_home(
    engine: Engine, config: Config, *, user: str, desks: list[Desk], now: datetime,
    notice: str | None = None,
) -> dict[str, object]:  # fmt: skip
    """The Home tab view of a reader who edits ``desks`` (none: every desk's cards), with
    the cards of the desks they may veto beside them."""
    shown = shown_desks(config, desks, user)
    names = [d.name for d in shown] if shown else None
    known = [d.name for d in config.desks] if config.default_desk in shown else None
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
        closes = voting_closes(card.voting_from, rules)
        can_vote = desk in desks  # a desk they only veto: its cards without Publish/Reject
        can_veto = bool(rules.veto) and user in rules.chiefs and card.status == states.OPEN
        changed = card.changed_keys if card.post_id in revote else None
        keys = tuple(changed.split(",")) if changed else ()
        entries.append(
            HomeEntry(card, desk, its, closes, mine if can_vote else None, can_veto, keys, can_vote)
        )
    return home_view(entries, config, editing=desks, now=now, notice=notice)


class HomeTabs:
    """The readers who opened the Home tab, and their views kept current."""

    def __init__(
        self, engine: Engine, config: Config, client: WebClient, editors: DeskEditors, *,
        interval: float = HOME_INTERVAL, gap: float = HOME_GAP, poll: float = HOME_POLL,
        settle: float = HOME_SETTLE, now: Callable[[], datetime] = _now,
    ) -> None:  # fmt: skip
        self._engine, self._config, self._client = engine, config, client
        self._editors, self._now, self._poll, self._settle = editors, now, poll, settle
        self._views: CardRefresher[str] = CardRefresher(
            self.publish, interval, what="the Home tab of", gap=gap
        )
        self._lock = threading.Lock()
        # Only until their next view is sent: the notices, and the visits to write down.
        self._notices: dict[str, str] = {}
        self._visits: set[str] = set()
        self._poked = threading.Event()
        self._stopping = threading.Event()  # ends a settle at once
        self._stopped = False
        self._watcher: threading.Thread | None = None

    def opened(self, user: str, notice: str | None = None) -> None:
        """``user`` is looking at the Home tab (they opened it, or pressed one of its
        buttons): their view is sent soon, with ``notice`` at its top once, and kept current."""
        with self._lock:
            if notice:
                self._notices[user] = notice
            self._visits.add(user)
        self.watch()
        self._views.mark(user)

    def watch(self) -> None:
        """Keep every reader's view current from now (the first visit here starts it too)."""
        with self._lock:
            if self._watcher is None:
                self._watcher = threading.Thread(target=self._watch, name="home", daemon=True)
                self._watcher.start()

    def poke(self) -> None:
        """Something changed in this process: the watcher looks at once, not at its next poll."""
        self._poked.set()

    def stop(self, timeout: float = 5) -> None:
        """The watcher ends, once the views already due are sent."""
        self._stopped = True
        self._stopping.set()
        self._poked.set()
        with self._lock:  # watch() creates and starts it under the lock: never half started
            watcher = self._watcher
        if watcher is not None:
            watcher.join(timeout)
        self._views.flush(timeout)

    def flush(self, timeout: float = 10) -> bool:
        return self._views.flush(timeout)

    def publish(self, user: str) -> bool:
        """Build and send ``user``'s view (on the refresher's thread); False when not sent."""
        desks = editing(self._config, self._editors, self._client, user)
        now = self._now()
        with self._lock:
            notice = self._notices.pop(user, None)
            visited = user in self._visits
            self._visits.discard(user)
        listed = shown_desks(self._config, desks, user)
        shown = frozenset(d.name for d in listed) if listed else None
        with reading(self._engine) as conn:  # before the view: a change after it moves it
            mark = reader_mark(queue_marks(conn), shown, self._config)
        view = build_home(
            self._engine, self._config, user=user, desks=desks, now=now, notice=notice
        )
        sent = self._send(user, view)
        with transaction(self._engine) as tx:
            if visited:
                reader_opened(tx, user=user, at=now)
            # Not sent: a mark no queue has, so that the next look (here or on another
            # replica) sends it again, though the watcher wrote the refresh down as taken.
            reader_sent(tx, user=user, desks=shown, mark=mark if sent else UNSENT)
        return sent

    def _send(self, user: str, view: dict[str, object]) -> bool:
        problems = view_problems(view)
        if problems:  # built to fit; never send what Slack would refuse
            log.warning("Home tab of %s not sent, it breaks Slack's limits: %s", user, problems[0])
            return False
        try:
            self._client.views_publish(user_id=user, view=view)
        except SlackApiError as exc:
            log.warning("could not publish the Home tab of %s: %s", user, exc.response["error"])
            return False
        except OSError as exc:  # Slack unreachable or timed out: the next look sends it
            log.warning("could not reach Slack to publish the Home tab of %s: %s", user, exc)
            return False
        return True

    def _watch(self) -> None:
        """Every ``poll`` seconds, or when poked: whose queue changed since their view."""
        pause = 0.0
        while not self._stopped:
            if pause:
                self._poked.wait(pause)
                # Pokes while settling are seen by the look that follows: cleared after it.
                self._stopping.wait(self._settle)
                self._poked.clear()
                if self._stopped:
                    return
            pause = self._poll
            try:
                due = self._look()
            except Busy:  # another replica is looking now: it sends what is due
                pause = min(self._poll, BUSY_RETRY)  # and a change it just missed, we see
                continue
            except Exception as exc:  # the database away: look again at the next poll
                log.warning("Home tabs could not look for changes: %s", outage(exc) or exc)
                continue
            for user in due:
                self._views.mark(user)

    def _look(self) -> list[str]:
        """``_due`` under the lock of the look, once there is a reader: with none there is
        nothing to send or forget, and the lock (on PostgreSQL a connection of its own, made
        and closed at each look: most of a look's cost) would guard nothing."""
        with reading(self._engine) as conn:
            if not readers(conn):
                return []
        with run_lock(self._engine, "home", wait=0):
            return self._due()

    def _due(self) -> list[str]:
        """The readers whose queue moved since their view, each refresh written down as
        taken; readers gone for ``READER_DAYS`` forgotten. A write only when there is one to
        make: most looks find nothing, and on SQLite a write contends with the bot's own."""
        before = self._now() - READER_DAYS
        with reading(self._engine) as conn:
            known = readers(conn)
            if not known:  # nobody to send a view to: the queue need not be read
                return []
            marks = queue_marks(conn)
        gone = [r for r in known if r.opened_at < before]
        due = {}
        for r in known:
            if r.opened_at < before:
                continue  # forgotten below
            mark = reader_mark(marks, r.desks, self._config)
            if mark != r.mark:
                due[r.user] = mark
        if gone or due:
            with transaction(self._engine) as tx:
                forget_readers(tx, before=before)
                for user, mark in due.items():
                    claim_refresh(tx, user=user, mark=mark)
        return list(due)
