"""APScheduler wiring: one cron job per curator job, plus the lease heartbeat."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.clock.slot_runner import SlotRunner
from bot.rules.schedule import next_run
from storage.db_errors import DatabaseError

log = logging.getLogger(__name__)


def start_scheduler(slot_runner: SlotRunner) -> BackgroundScheduler:
    """Start firing jobs in the background; the caller keeps serving Slack events."""
    scheduler = BackgroundScheduler(
        timezone=slot_runner.tz,
        # Jobs run one at a time: refresh and publish both fetch into the same clone, and
        # git refuses two fetches updating one ref. The lease heartbeat has its own thread,
        # so a long first scan never lets the lease lapse.
        executors={"default": ThreadPoolExecutor(1), "lease": ThreadPoolExecutor(1)},
        # Slots are keyed and claimed in the database; APScheduler only has to wake us.
        job_defaults={"coalesce": True, "max_instances": 1},
    )
    for spec in slot_runner.specs.values():
        scheduler.add_job(
            slot_runner.fire,
            WallClockCronTrigger(spec.cron, slot_runner.tz),
            args=[spec.name],
            id=spec.name,
            name=spec.doc or spec.name,
            misfire_grace_time=max(1, int(spec.grace.total_seconds())),
        )
    # Renew well inside the lease, so a healthy leader never loses it to a slow tick.
    every = max(1.0, slot_runner.lease_ttl / timedelta(seconds=1) / 3)
    beat = _heartbeat(slot_runner, every)
    scheduler.add_job(beat, IntervalTrigger(seconds=every), id="lease", executor="lease")
    # The catch-up is one lasting job woken on demand, not a one-off job added each time:
    # APScheduler removes a one-off job after its run, and a removal that meets shutdown
    # kills its thread with JobLookupError (it looks for the job among the pending ones).
    scheduler.add_job(
        lambda: slot_runner.catch_up(slot_runner.clock()), OnDemandTrigger(), id="catch-up"
    )
    slot_runner.on_lead = lambda: _wake(scheduler, "catch-up")
    scheduler.start()
    beat()  # lead (and catch up) now rather than a third of a lease later
    log.info(
        "scheduler started: %s", ", ".join(f"{n} {s.cron}" for n, s in slot_runner.specs.items())
    )
    return scheduler


class OnDemandTrigger(BaseTrigger):
    """Fires only when woken (``modify_job(next_run_time=...)``), never by itself; its next
    time is so far away that the job is kept rather than removed after each run."""

    NEVER = datetime(9000, 1, 1, tzinfo=UTC)

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        return self.NEVER

    def __str__(self) -> str:
        return "on demand"


def _wake(scheduler: BackgroundScheduler, job_id: str) -> None:
    with contextlib.suppress(JobLookupError):  # shutting down: nothing more to run
        scheduler.modify_job(job_id, next_run_time=datetime.now(UTC))


def _heartbeat(slot_runner: SlotRunner, every: float) -> Callable[[], None]:
    """The lease heartbeat, which outlives a database outage: one line when the database
    stops answering (the traceback with ``-v``), one when it answers again; the scheduler
    keeps beating meanwhile and the jobs resume by themselves."""
    down = False

    def beat() -> None:
        nonlocal down
        try:
            slot_runner.heartbeat()
        except DatabaseError as exc:
            log.debug("lease heartbeat failed", exc_info=True)
            if not down:
                reason = " ".join(str(getattr(exc, "orig", None) or exc).split())[:200]
                log.warning(
                    "scheduler paused: the database does not answer (%s); trying again every "
                    "%g s", reason, every,
                )  # fmt: skip
            down = True
            return
        if down:
            log.info("scheduler: the database answers again")
        down = False

    return beat


class WallClockCronTrigger(BaseTrigger):
    """Fires a crontab line at :func:`bot.rules.schedule.next_run`, so the scheduler fires
    what status and Slack show, and what the slot runner keys its slots by."""

    def __init__(self, cron: str, tz: ZoneInfo) -> None:
        self.cron, self.tz = cron, tz

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        after = now - timedelta(microseconds=1)
        if previous_fire_time is not None:
            after = max(after, previous_fire_time)
        return next_run(self.cron, after, self.tz)

    def __str__(self) -> str:
        return f"cron[{self.cron} {self.tz.key}]"
