"""Runs each scheduled job once per slot, on the one replica that holds the lease.

Every run is claimed in the database by (job, slot) before it starts, so a restart, a
caught-up slot or a second replica can never run the same slot twice. A slot missed while
the bot was down runs once on start if it is still within the job's grace; past that it is
recorded as skipped and logged.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from bot.outages import explain
from bot.rules.schedule import latest_slot, next_run
from bot.slack.text import mrkdwn
from storage.credentials import scrub as scrub_shapes
from storage.db import reading
from storage.locks import Busy
from storage.schedule_state import (
    LEASE_NAME,
    claim_slot,
    finish_run,
    hold_lease,
    last_run,
    previous_outcome,
    release_lease,
)

log = logging.getLogger(__name__)

# How far back to look for a missed slot to report as skipped (a weekly job's last slot).
LOOKBACK = timedelta(days=8)
REASON_MAX = 300  # a failure's reason, as kept for `curator status` and told to the channel


@dataclass(frozen=True)
class JobContext:
    slot: datetime
    now: datetime
    # The slot of the job's previous successful run, e.g. "since the last summary".
    last_ok: datetime | None


@dataclass(frozen=True)
class JobSpec:
    name: str
    cron: str
    grace: timedelta
    run: Callable[[JobContext], str | None]  # returns a one-line detail for `curator status`
    doc: str = ""


def make_holder() -> str:
    """A name for this process in the lease table, unique even across restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class SlotRunner:
    def __init__(
        self,
        engine: Engine,
        specs: list[JobSpec],
        tz: ZoneInfo,
        *,
        lease_ttl: timedelta,
        holder: str | None = None,
        notify: Callable[[str], None] | None = None,
        scrub: Callable[[str], str] = scrub_shapes,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.specs = {s.name: s for s in specs}
        self.tz = tz
        self.lease_ttl = lease_ttl
        self.holder = holder or make_holder()
        self.notify = notify
        # The process's scrubber (the logs' and the command output's): a failure's message
        # may quote a URL, a file name or an environment secret.
        self.scrub = scrub
        self.clock = clock
        self.leader = False
        # Set by the scheduler: queue the catch-up rather than run it in the lease thread.
        # Without it (tests), heartbeat runs the catch-up itself on taking the lease.
        self.on_lead: Callable[[], None] | None = None

    # --- the lease ----------------------------------------------------------------------

    def heartbeat(self) -> bool:
        """Take or renew the lease; on becoming leader, catch up on missed slots."""
        now = self.clock()
        holds = hold_lease(
            self.engine, name=LEASE_NAME, holder=self.holder, ttl=self.lease_ttl, now=now
        )
        if holds and not self.leader:
            log.info("this process (%s) now runs the scheduled jobs", self.holder)
            self.leader = True
            if self.on_lead is None:
                self.catch_up(now)
        if holds and self.on_lead is not None:
            # Queued with the other jobs on every beat, not only on taking the lease: a slot
            # a long job held up past its grace is then recorded as skipped, not dropped.
            self.on_lead()
        elif not holds and self.leader:
            log.warning("lost the scheduler lease; another process runs the jobs now")
        self.leader = holds
        return holds

    def stop(self) -> None:
        if self.leader:
            release_lease(self.engine, name=LEASE_NAME, holder=self.holder)
            self.leader = False

    # --- running slots ------------------------------------------------------------------

    def fire(self, name: str) -> str | None:
        """Called by the scheduler at a slot: run it if we lead and nobody ran it yet."""
        if not self.heartbeat():
            return None
        spec, now = self.specs[name], self.clock()
        slot = latest_slot(spec.cron, self.tz, now, spec.grace)
        if slot is None:
            log.warning("%s fired at %s with no slot within its grace; skipped", name, now)
            return None
        return self.run_slot(spec, slot, now)

    def catch_up(self, now: datetime) -> None:
        """Run each job's latest missed slot once if within grace; record it skipped if not."""
        for spec in self.specs.values():
            slot = latest_slot(spec.cron, self.tz, now, LOOKBACK)
            if slot is None:
                continue
            if now - slot <= spec.grace:
                self.run_slot(spec, slot, now)
            else:
                run_id = claim_slot(self.engine, job=spec.name, slot=slot, now=now)
                if run_id is not None:
                    late = _duration(now - slot)
                    detail = f"missed by {late}, past its grace of {_duration(spec.grace)}"
                    finish_run(
                        self.engine, run_id=run_id, outcome="skipped", detail=detail, now=now
                    )
                    log.warning("%s slot %s skipped: %s", spec.name, slot, detail)

    def run_slot(self, spec: JobSpec, slot: datetime, now: datetime) -> str | None:
        """Claim and run one slot; the outcome, or None when it was already claimed."""
        with reading(self.engine) as conn:
            ok = last_run(conn, job=spec.name, outcome="ok")
        run_id = claim_slot(self.engine, job=spec.name, slot=slot, now=now)
        if run_id is None:
            return None
        last_ok = ok.slot if ok is not None else None
        try:
            detail = spec.run(JobContext(slot=slot, now=now, last_ok=last_ok))
        except Busy as exc:
            # Another process (an operator's command) is doing this very work: a skipped
            # run, not a failure to tell the channel about.
            finish_run(
                self.engine, run_id=run_id, outcome="skipped", detail=str(exc), now=self.clock()
            )
            log.info("%s job for slot %s skipped: %s", spec.name, slot, exc)
            return "skipped"
        except Exception as exc:
            # An outage (Slack, the database, the content remote) is one line naming the fix;
            # anything else is a bug and keeps its traceback in the log.
            known = explain(exc, database_url=None, slack_api_url=None)
            # Scrubbed before it is cut, so a cut cannot leave half a secret unrecognised.
            said = " ".join((known or str(exc)).split())
            reason = self.scrub(said)[:REASON_MAX] or type(exc).__name__
            if known is None:
                log.exception("%s job for slot %s failed", spec.name, slot)
            else:
                log.warning("%s job for slot %s failed: %s", spec.name, slot, reason)
                log.debug("%s job for slot %s failed", spec.name, slot, exc_info=True)
            finish_run(
                self.engine, run_id=run_id, outcome="failed", detail=reason, now=self.clock()
            )
            self._tell_failure(spec, run_id, reason, now)
            return "failed"
        finish_run(self.engine, run_id=run_id, outcome="ok", detail=detail, now=self.clock())
        log.info("%s job for slot %s: %s", spec.name, slot, detail or "ok")
        self._tell_recovery(spec, run_id)
        return "ok"

    def _tell_failure(self, spec: JobSpec, run_id: int, reason: str, now: datetime) -> None:
        """Say it once: only the first failure of a streak reaches the channel."""
        with reading(self.engine) as conn:
            before = previous_outcome(conn, job=spec.name, before_id=run_id)
        if before == "failed" or self.notify is None:
            return
        retry = next_run(spec.cron, now, self.tz)
        when = f" It will try again at {retry.astimezone(self.tz):%a %H:%M}." if retry else ""
        # The reason quotes others (git, Slack, a file name): inert text, like an article's.
        shown = mrkdwn(reason.rstrip("."), REASON_MAX)
        # A job's name may hold a desk's name (post:R&D): inert text too.
        self._say(f":warning: The {mrkdwn(spec.name, 64)} job failed: {shown}.{when}")

    def _tell_recovery(self, spec: JobSpec, run_id: int) -> None:
        with reading(self.engine) as conn:
            before = previous_outcome(conn, job=spec.name, before_id=run_id)
        if before == "failed" and self.notify is not None:
            self._say(f"The {mrkdwn(spec.name, 64)} job works again.")

    def _say(self, text: str) -> None:
        assert self.notify is not None
        try:
            self.notify(text)
        except Exception:  # telling the channel must never take the scheduler down
            log.exception("could not tell the channel: %s", text)


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"
