"""What ``/healthz`` reports: the database and Slack, each ok or down, never a hang.

The database is probed with ``SELECT 1`` at most every couple of seconds and by one thread
at a time, so a flood of probes or a database that hangs never ties up the threads that
answer Slack. Slack is not called per probe: every Web API call the process makes reports
its outcome here (a retry handler that never retries sees them all), and only a Slack that
was last seen down, a while ago, is asked again, in the background.

Anyone can read ``/healthz``: it says why in a word or two (``bot.outages.reason``); the
driver's own words, with the host, the user or the file, go to the log line.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from sqlalchemy.engine import Engine

from bot.outages import (
    TOKEN,
    first_line,
    network_reason,
    not_slack_line,
    outage,
    reason,
    slack_kind,
)
from storage.db import prober

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class State:
    state: str  # "ok", "down" or "unknown"
    reason: str = ""  # a word or two anyone may read: "refused", "timeout", "HTTP 503"
    detail: str = ""  # the whole story, for the log only
    seconds_ago: float | None = None

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"state": self.state}
        if self.reason:
            out["reason"] = self.reason
        if self.seconds_ago is not None:
            out["seconds_ago"] = round(self.seconds_ago)
        return out


class DatabaseHealth:
    """``SELECT 1``, cached for ``ttl`` seconds. One probe at a time, on a thread of its own:
    the request that starts it waits ``patience`` seconds at most, then says "down"; the
    others read the last answer, or "down" once the probe is past ``patience``. The probe's
    own connection gives up too (``storage.db.prober``), so a database that hangs
    holds one probe thread for a few seconds, never a request thread and never a pile."""

    def __init__(
        self, engine: Engine, *, ttl: float = 2.0, patience: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self._url = engine.url
        self._ask = prober(engine, patience)
        self._ttl = ttl
        self._patience = patience
        self._clock = clock
        self._lock = threading.Lock()
        self._last = State("unknown", "not checked yet")
        self._checked_at: float | None = None
        self._probe_started: float | None = None

    def check(self) -> State:
        now = self._clock()
        with self._lock:
            if self._probe_started is not None:  # a probe is asking the database
                waited = now - self._probe_started
                if waited > self._patience:
                    return State("down", "timeout", f"no answer for {waited:.0f} s")
                return self._last
            if self._checked_at is not None and now - self._checked_at < self._ttl:
                return self._last
            self._probe_started = now
        done = threading.Event()
        probe = threading.Thread(target=self._probe, args=(done,), daemon=True)
        probe.name = "database-probe"
        probe.start()
        if not done.wait(self._patience):
            return State("down", "timeout", f"no answer for {self._patience:g} s")
        with self._lock:
            return self._last

    def _probe(self, done: threading.Event) -> None:
        try:
            self._ask()
            state = State("ok")
        except Exception as exc:  # any driver error means the same here: no database
            log.debug("database probe failed", exc_info=True)
            said = outage(exc, database_url=self._url)
            state = State("down", reason(exc), said or f"{type(exc).__name__}: {first_line(exc)}")
        with self._lock:
            _log_change("database", self._last, state)
            self._last, self._checked_at, self._probe_started = state, self._clock(), None
        done.set()


class SlackHealth(RetryHandler):
    """The outcome of the last Web API call, from any client this process built with it.

    slack_sdk shows every response and every connection error to a client's retry
    handlers, in order; this one is put first, records what it sees, and never retries.
    Bolt copies the handler list into the client it builds per request, so listener calls
    are seen too.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(max_retry_count=0)
        self._clock = clock
        self._lock = threading.Lock()
        self._now = State("unknown", "no call to Slack yet")
        self._at: float | None = None
        self._rechecking = False
        self._was_up = False  # before Slack first answers, startup says how it goes

    def can_retry(
        self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:  # fmt: skip
        self.record(_outcome(request.url, response, error))
        return False

    def record(self, now: State) -> None:
        with self._lock:
            before, was_up = self._now, self._was_up
            self._now, self._at = now, self._clock()
            self._was_up |= now.ok
        if was_up:
            _log_change("Slack's Web API", before, now)

    def check(self) -> State:
        with self._lock:
            ago = None if self._at is None else self._clock() - self._at
            return State(self._now.state, self._now.reason, self._now.detail, ago)

    def recheck_if_stale(self, probe: Callable[[], object], *, after: float = 60.0) -> None:
        """Slack last seen down (or never), ``after`` seconds ago or more: ask it again, once,
        in the background, so a quiet night after an outage does not read "down" forever.
        ``probe`` is a Web API call on a client that reports here (``auth.test``)."""
        with self._lock:
            stale = self._at is None or self._clock() - self._at >= after
            if self._now.ok or not stale or self._rechecking:
                return
            self._rechecking = True

        def run() -> None:
            try:
                probe()
            except Exception:  # the outcome is recorded by the client; nothing else to do
                log.debug("Slack re-check failed", exc_info=True)
            finally:
                with self._lock:
                    self._rechecking = False

        threading.Thread(target=run, name="slack-recheck", daemon=True).start()


@dataclass
class Health:
    """The parts ``/healthz`` reports on; ``recheck`` asks Slack again (``auth.test``)."""

    database: DatabaseHealth
    slack: SlackHealth
    recheck: Callable[[], object] | None = None

    def report(self) -> tuple[int, dict[str, Any]]:
        """(HTTP status, body). 503 only for the database: without it no vote is recorded,
        and a load balancer should send Slack elsewhere. Slack down is reported with 200:
        restarting this process cannot bring Slack back."""
        db = self.database.check()
        if self.recheck is not None:
            self.slack.recheck_if_stale(self.recheck)
        slack = self.slack.check()
        status = "down" if not db.ok else ("ok" if slack.ok else "degraded")
        body = {"status": status, "database": db.as_json(), "slack": slack.as_json()}
        return (200 if db.ok else 503), body


def _outcome(url: str, response: HttpResponse | None, error: Exception | None) -> State:
    if response is None:
        if error is None:
            return State("down", "unavailable", "no response")
        return State("down", reason(error), f"unreachable ({network_reason(error)})")
    status = response.status_code
    if status == 429:
        return State("ok", "rate limited", "rate limited")
    if status >= 500:
        return State("down", f"HTTP {status}", f"HTTP {status}")
    if status >= 400:  # Slack answers its errors with 200; a 404 means a wrong SLACK_API_URL
        return State("down", f"HTTP {status}", not_slack_line(url, f"HTTP {status}"))
    body = response.body if isinstance(response.body, dict) else {}
    if "ok" not in body:  # a web page, or another API's JSON: a wrong SLACK_API_URL
        return State("down", "not Slack", not_slack_line(url, f"HTTP {status}, not Slack's JSON"))
    code = body.get("error")
    if slack_kind(code) == TOKEN:  # a code from our table: safe to show
        return State("down", code, f"Slack refused the bot token ({code})")
    return State("ok")


def _log_change(what: str, before: State, now: State) -> None:
    """One line when something goes down or comes back; nothing while it stays put."""
    if now.state == before.state:
        return
    if now.state == "down":
        log.warning("%s is down: %s", what, now.detail)
    elif now.ok and before.state == "down":
        log.info("%s is back", what)
