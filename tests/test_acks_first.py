"""Acks first: the events' work waits while Slack's requests are being answered, never
longer than its limit, in order, and one failure stops nothing (bot/slack/acks_first.py)."""

from __future__ import annotations

import io
import json
import threading
import time
from typing import Any

from slack_bolt.response import BoltResponse

from bot.slack.acks_first import AcksFirst, InFlight
from bot.slack.card_refresher import CardRefresher
from bot.slack.guard import guard_events
from tests.slack_requests import SIGNING_SECRET, reaction_event, sign
from tests.test_slack_loop import eventually


def test_work_waits_until_the_requests_in_flight_are_answered() -> None:
    in_flight, ran = InFlight(), []
    events = AcksFirst(in_flight, ran.append, lambda kind, exc: None, max_wait=600)
    with in_flight.request():
        events.submit("reaction_added", "vote")
        eventually(lambda: in_flight.waiting == 1)  # the worker holds it, unrun
        assert ran == []
    events.flush()
    assert ran == [["vote"]]


def test_work_waits_no_longer_than_its_limit() -> None:
    in_flight, ran = InFlight(), []
    events = AcksFirst(in_flight, ran.append, lambda kind, exc: None, max_wait=0)
    with in_flight.request():  # a flood that never stops
        events.submit("reaction_added", "vote")
        events.flush()
        assert ran == [["vote"]]


def test_a_burst_is_worked_in_one_call_in_order() -> None:
    in_flight, ran = InFlight(), []
    events = AcksFirst(in_flight, ran.append, lambda kind, exc: None, max_wait=600)
    with in_flight.request():
        for n in range(5):
            events.submit("reaction_added", n)
        eventually(lambda: in_flight.waiting == 1)
    events.flush()
    assert ran == [[0, 1, 2, 3, 4]]


def test_a_burst_of_a_thousand_events_is_one_call() -> None:
    """Each call is a transaction that locks and reads each of its cards once: a burst cut
    into calls of 200 read every card five times over (bench/events.py, 1,000 a round)."""
    in_flight, ran = InFlight(), []
    events = AcksFirst(in_flight, ran.append, lambda kind, exc: None, max_wait=600)
    with in_flight.request():
        for n in range(1_000):
            events.submit("reaction_added", n)
        eventually(lambda: in_flight.waiting == 1)
    events.flush()
    assert ran == [list(range(1_000))]


def test_a_burst_is_one_task_for_the_worker_not_one_per_event() -> None:
    """Each task is a thread handoff when handed over and a look at the queue when run:
    a burst's thousand tasks all but one found nothing to do, and were paid for anyway."""
    in_flight, ran = InFlight(), []
    events = AcksFirst(in_flight, ran.append, lambda kind, exc: None, max_wait=600)
    with in_flight.request():
        for n in range(100):
            events.submit("reaction_added", n)
        eventually(lambda: in_flight.waiting == 1)
        assert events._pool._work_queue.qsize() == 0  # the one drain holds them all
    events.flush()
    assert ran == [list(range(100))]
    events.submit("reaction_added", "later")  # and a drain that ended lets the next one go
    events.flush()
    assert ran[-1] == ["later"]


def test_a_drain_that_raises_leaves_the_next_events_a_drain() -> None:
    in_flight, ran = InFlight(), []

    def on_error(kind: str, exc: Exception) -> None:
        raise RuntimeError("the error handler broke too")

    def run(items: list[str]) -> None:
        if items == ["broken"]:
            raise ValueError("bad event")
        ran.append(items)

    events = AcksFirst(in_flight, run, on_error, max_wait=600)
    events.submit("reaction_added", "broken")
    events.flush()
    events.submit("reaction_added", "fine")
    events.flush()
    assert ran == [["fine"]]


def test_a_failed_burst_is_worked_again_one_by_one_and_a_failure_stops_nothing() -> None:
    in_flight, ran = InFlight(), []
    failed: list[tuple[str, str]] = []

    def run(items: list[str]) -> None:
        if "broken" in items:
            raise RuntimeError("database away")  # and nothing of the call is kept
        ran.append(items)

    events = AcksFirst(
        in_flight, run, lambda kind, exc: failed.append((kind, str(exc))), max_wait=600
    )
    with in_flight.request():
        events.submit("reaction_added", "first")
        events.submit("reaction_removed", "broken")
        events.submit("reaction_added", "third")
        eventually(lambda: in_flight.waiting == 1)
    events.flush()
    assert ran == [["first"], ["third"]]
    assert failed == [("reaction_removed", "database away")]


def test_the_door_counts_a_request_while_it_is_answered() -> None:
    in_flight = InFlight()
    seen: list[int] = []

    class App:
        def dispatch(self, request: Any) -> BoltResponse:
            seen.append(in_flight.answering)
            return BoltResponse(status=200, body="")

    body = json.dumps(
        reaction_event(
            "reaction_added", user="UALICE", reaction="white_check_mark", channel="C1",
            ts="1.000100", event_ts="2.000100",
        )
    ).encode()  # fmt: skip
    headers = sign(body, SIGNING_SECRET)
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events", "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json",
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": headers["X-Slack-Request-Timestamp"],
        "HTTP_X_SLACK_SIGNATURE": headers["X-Slack-Signature"], "QUERY_STRING": "",
    }  # fmt: skip
    statuses: list[str] = []
    door = guard_events(App(), SIGNING_SECRET, in_flight=in_flight)  # type: ignore[arg-type]
    door(environ, lambda status, headers: statuses.append(status))
    assert statuses == ["200 OK"]
    assert seen == [1]
    assert in_flight.answering == 0


def test_the_door_is_quiet_only_once_no_request_came_for_a_while() -> None:
    """In a burst the door is empty for a moment between one answer and the next request;
    work started in that moment held the GIL from the acks that came next."""
    now = [100.0]
    in_flight, ran = InFlight(quiet=0.5, clock=lambda: now[0]), []
    events = AcksFirst(in_flight, ran.append, lambda kind, exc: None, max_wait=600)
    with in_flight.request():
        events.submit("reaction_added", "vote")
    eventually(lambda: in_flight.waiting == 1)  # answered just now (by the clock): waits on
    with in_flight.request():  # the next request of the burst
        now[0] += 0.4
    now[0] += 0.4  # 0.4 s after that one was answered: not quiet yet
    time.sleep(0.1)  # (the worker looks again every few ms: it would have run by now)
    assert ran == [] and in_flight.waiting == 1
    now[0] += 0.1  # quiet for 0.5 s
    events.flush()
    assert ran == [["vote"]]


def test_a_card_waits_for_the_votes_waiting_and_is_refreshed_once_with_all() -> None:
    """A burst recorded in several batches: the card came due with the first batch and was
    sent then, the rest a whole interval later. It waits for them now (``settle``)."""
    in_flight = InFlight(quiet=0)
    votes: list[str] = []
    sent: list[list[str]] = []
    settling = threading.Event()

    def record(batch: list[str]) -> None:
        votes.extend(batch)
        cards.mark("card")
        if batch == ["a", "b"]:  # the refresher comes for the card before the next batch
            settling.wait(10)

    events = AcksFirst(in_flight, record, lambda kind, exc: None, max_wait=600, max_batch=2)

    def settle(until: float) -> None:
        settling.set()
        events.settle(until)

    cards = CardRefresher(
        lambda key: (sent.append(list(votes)), settling.set()), interval=600, settle=settle
    )
    with in_flight.request():
        for vote in "abcd":
            events.submit("reaction_added", vote)
    events.flush()
    assert cards.flush(timeout=30)
    assert sent == [["a", "b", "c", "d"]]


def test_cards_due_together_are_refreshed_together() -> None:
    """Given ``refresh_many``, the cards due by the time one is sent go with it, in the order
    they came due: one read for all of them (``refresh_cards``), still one send each."""
    settling, may_go = threading.Event(), threading.Event()
    batches: list[list[str]] = []

    def settle(until: float) -> None:
        settling.set()
        may_go.wait(10)  # the votes being recorded: the other cards are marked meanwhile

    cards: CardRefresher[str] = CardRefresher(
        lambda key: batches.append([key]), interval=600, settle=settle,
        refresh_many=batches.append,
    )  # fmt: skip
    cards.mark("a")
    assert settling.wait(10)
    cards.mark("b")
    cards.mark("c")
    may_go.set()
    assert cards.flush(timeout=30)
    assert batches == [["a", "b", "c"]]
    cards.mark("a")  # sent just now: not before its interval, whatever else is due
    cards.mark("d")
    eventually(lambda: len(batches) == 2)
    time.sleep(0.1)
    assert batches == [["a", "b", "c"], ["d"]]
