"""Card updates, coalesced: a burst of votes on one card becomes one ``chat.update``.

Slack allows about 50 ``chat.update`` calls a minute, and rendering a card costs a few
database reads; one update per vote would fall behind in a busy minute and park Bolt's
workers in rate-limit sleeps. Votes mark a card dirty; one background thread sends each
dirty card at most once per ``interval``, always with the state as it is by then.

Given ``settle`` (``AcksFirst.settle``: the votes waiting to be recorded), a card that has
come due waits for them first, up to one more ``interval``: a burst of votes recorded in
several batches is one refresh with all of them, not one after the first batch and another
an interval later.

Given ``refresh_many``, the cards due at once are sent together through it: read in one
transaction, a statement each for all of them (``bot.slack.card_message.refresh_cards``),
not a transaction and a few statements per card. Each is still sent at most once per
``interval``: as many ``chat.update`` calls as one at a time, only fewer reads.

The same coalescing serves the Home tab (``bot.slack.home``), keyed by user instead of post,
with a ``gap`` between any two sends so many editors' views stay within Slack's rate.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from bot.outages import outage

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
_KEPT = 1_000  # last sends remembered before those past their interval are let go


class CardRefresher(Generic[K]):
    def __init__(
        self, refresh: Callable[[K], object], interval: float = 1.0, *,
        what: str = "the card of post", gap: float = 0.0,
        settle: Callable[[float], None] | None = None,
        refresh_many: Callable[[list[K]], object] | None = None,
    ) -> None:  # fmt: skip
        self._refresh = refresh
        self._refresh_many = refresh_many
        self._settle = settle
        self._interval = interval
        self._what = what  # for the log: "could not refresh <what> <key>"
        self._gap = gap  # at least this long between any two sends
        self._sent_at = float("-inf")
        self._due: dict[K, float] = {}  # post id -> monotonic time it may be sent
        self._last: dict[K, float] = {}
        self._busy = 0
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def mark(self, post_id: K) -> None:
        """The card's state changed; it will be sent soon (once, however often it changes)."""
        with self._cond:
            if post_id not in self._due:
                since_last = self._last.get(post_id, float("-inf")) + self._interval
                self._due[post_id] = max(time.monotonic(), since_last)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="cards", daemon=True)
                self._thread.start()
            self._cond.notify()

    def flush(self, timeout: float = 10) -> bool:
        """Wait until every marked card has been sent; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._due or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._due:
                    self._cond.wait()
                post_id, due = min(self._due.items(), key=lambda kv: kv[1])
                wait = max(due, self._sent_at + self._gap) - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                settle_until = due + self._interval
                if self._settle is not None and time.monotonic() < settle_until:
                    self._cond.release()  # marks go on meanwhile
                    try:
                        self._settle(settle_until)
                    finally:
                        self._cond.acquire()
                    post_id, due = min(self._due.items(), key=lambda kv: kv[1])
                now = time.monotonic()
                keys = [post_id]
                if self._refresh_many is not None:  # every card due by now, in order
                    keys = sorted(
                        (k for k, d in self._due.items() if d <= now), key=lambda k: self._due[k]
                    )
                for k in keys:
                    del self._due[k]
                    self._last[k] = now
                self._sent_at = now
                if len(self._last) > _KEPT:  # a send older than the interval throttles nothing
                    passed = [k for k, t in self._last.items() if t + self._interval <= now]
                    for k in passed:
                        del self._last[k]
                self._busy += 1
            try:
                if self._refresh_many is not None:
                    self._refresh_many(keys)
                else:
                    self._refresh(post_id)
            except Exception as exc:  # one card failing must not stop the others
                which = ", ".join(str(k) for k in keys)
                reason = outage(exc)
                if reason is None:
                    log.exception("could not refresh %s %s", self._what, which)
                else:  # Slack or the database away: a line, the traceback with -v
                    log.warning("could not refresh %s %s: %s", self._what, which, reason)
                    log.debug("refresh failed", exc_info=True)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()
