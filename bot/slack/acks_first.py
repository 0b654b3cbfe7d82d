"""Acks first: the work behind Slack's events waits while requests are being answered.

Slack wants every event acknowledged within 3 seconds, and Bolt acks an event before its
listener runs. But the listener's work (a vote recorded, a card tallied) then runs in the same
process, and Python runs one thread at a time: in a burst, every ack waited its turn behind
that work (bench/events.py: p99 of the acks 80 ms, a third of a bare Bolt app's rate). Here
the reaction listeners hand their work to one thread that waits while any Slack request is
being answered (``InFlight``, counted at the door, ``bot.slack.guard``), so a burst is
acknowledged first and worked through after it, in the order it came, the events waiting by
then together: one transaction (one commit, on PostgreSQL one fsync) for a burst.

Never for long: an item waits at most ``MAX_WAIT`` after it arrived, then runs whatever is
in flight, so work under a flood that does not stop falls behind by that much and no more,
and competes with the acks again. ``MAX_WAIT`` is as long as Slack waits for an ack (3 s):
a burst that long is all acknowledged before its work, and its votes show on the cards a few
seconds late at most. "Quiet" is no request in flight for ``QUIET`` (20 ms), not merely none
at this instant: in a burst, the door is empty for a moment between one client's answer and
its next request, and work started in that moment held the GIL from the acks that came next
(bench: a third of the burst's work ran between its acks). Outside bursts an event's work
runs ``QUIET`` after its ack. Listeners that ack themselves (commands, buttons) never wait
here: Bolt answers them only once they have run.

The cards follow the votes (``bot.slack.card_refresher``): ``settle`` lets the refresher wait
until the work waiting is done, so a burst's votes on a card become one refresh with all of
them, not one with the first batch and another a refresh interval later.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Generic, TypeVar

# The longest an event's work waits for the acks in flight: as long as Slack waits for an ack.
MAX_WAIT = 3.0
# The most events worked in one call (one transaction, which locks and reads each of its
# cards once): a flood of MAX_WAIT at bench/events.py's pace is a few thousand, in calls of
# a thousand (SQLite's write lock held a few tenths of a second each, other writers wait).
MAX_BATCH = 1_000
# How long no request must have been in flight before the work counts the door as quiet.
QUIET = 0.02

T = TypeVar("T")


class InFlight:
    """How many Slack requests are being answered now; wakes the waiting work at zero."""

    def __init__(self, quiet: float = QUIET, clock: Callable[[], float] = time.monotonic) -> None:
        self._count = 0
        self._quiet = quiet
        self._clock = clock
        self._last_answered = float("-inf")  # when the last request in flight was answered
        self.waiting = 0  # work items waiting for quiet now (for tests and the curious)
        self._cond = threading.Condition()

    @property
    def answering(self) -> int:
        return self._count

    @contextmanager
    def request(self) -> Iterator[None]:
        with self._cond:
            self._count += 1
        try:
            yield
        finally:
            with self._cond:
                self._count -= 1
                if self._count == 0:
                    self._last_answered = self._clock()
                    self._cond.notify_all()

    def wait_quiet(self, until: float) -> None:
        """Return once no request has been in flight for ``quiet`` s, or at ``until``
        (monotonic) at the latest."""
        with self._cond:
            self.waiting += 1
            try:
                while True:
                    now = self._clock()
                    left = until - now
                    if left <= 0:
                        return
                    if self._count == 0:
                        calm = now - self._last_answered
                        if calm >= self._quiet:
                            return
                        left = min(left, self._quiet - calm)
                    self._cond.wait(left)
            finally:
                self.waiting -= 1


class AcksFirst(Generic[T]):
    """One worker thread for the events' work, run once ``in_flight`` is quiet or
    ``max_wait`` after the oldest item waiting was handed over. Items run in the order they
    came, all those waiting by then in one call of ``run`` (a burst is one transaction, not
    one per event); when that call raises, each item is run again alone, and one that raises
    then is handed to ``on_error`` with its kind (the event's type). ``run`` must leave no
    trace of a call that raised (one transaction, rolled back)."""

    def __init__(
        self, in_flight: InFlight, run: Callable[[list[T]], None],
        on_error: Callable[[str, Exception], None], *, max_wait: float = MAX_WAIT,
        max_batch: int = MAX_BATCH,
    ) -> None:  # fmt: skip
        self._in_flight = in_flight
        self._run = run
        self._on_error = on_error
        self._max_wait = max_wait
        self._max_batch = max_batch
        self._waiting: deque[tuple[float, str, T]] = deque()
        self._running = 0
        self._scheduled = False  # a drain is handed to the worker, or running
        self._lock = threading.Condition()  # notified when nothing is waiting or running
        # A ThreadPoolExecutor's worker is joined at interpreter exit: work handed over
        # before a SIGTERM is still done (the server answers nothing new by then).
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="events")

    def submit(self, kind: str, item: T) -> None:
        with self._lock:
            self._waiting.append((time.monotonic() + self._max_wait, kind, item))
            if self._scheduled:
                return  # the worker's drain takes it with the others
            self._scheduled = True
        # One drain at a time, not one per event: it works until nothing is waiting (a
        # thousand events were a thousand tasks, all but one finding nothing to do).
        try:
            self._pool.submit(self._drain)
        except BaseException:  # shutting down: refused, and the next submit tries again
            with self._lock:
                self._scheduled = False
            raise

    def _drain(self) -> None:
        finished = False
        try:
            while not finished:
                finished = self._drain_once()
        finally:
            if not finished:  # raised (on_error did): the items waiting still get a drain
                with self._lock:
                    self._scheduled = bool(self._waiting)
                if self._scheduled:
                    self._pool.submit(self._drain)

    def _drain_once(self) -> bool:
        """Work the items waiting (up to ``max_batch``) once the door is quiet; True, with
        the drain let go, when nothing is waiting."""
        with self._lock:
            if not self._waiting:
                self._scheduled = False
                return True
            until = self._waiting[0][0]
        self._in_flight.wait_quiet(until)
        with self._lock:
            batch = [
                self._waiting.popleft() for _ in range(min(len(self._waiting), self._max_batch))
            ]
            self._running += 1
        try:
            self._work(batch)
        finally:
            with self._lock:
                self._running -= 1
                if not self._waiting and not self._running:
                    self._lock.notify_all()
        return False

    def settle(self, until: float) -> None:
        """Return once nothing handed over is waiting or being worked, or at ``until``
        (monotonic) at the latest: what the work does next (a card refreshed) then sees all
        of it."""
        with self._lock:
            while self._waiting or self._running:
                left = until - time.monotonic()
                if left <= 0:
                    return
                self._lock.wait(left)

    def _work(self, batch: list[tuple[float, str, T]]) -> None:
        try:
            self._run([item for _, _, item in batch])
        except Exception as exc:
            if len(batch) == 1:
                self._on_error(batch[0][1], exc)
                return
            for _, kind, item in batch:  # which one failed, and the others still done
                try:
                    self._run([item])
                except Exception as exc:  # one event failing must not stop the others
                    self._on_error(kind, exc)

    def flush(self) -> None:
        """Wait until everything handed over so far has run (tests, shutdown)."""
        self._pool.submit(lambda: None).result()
