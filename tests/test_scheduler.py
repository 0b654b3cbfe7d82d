"""Scheduled jobs with an injected clock: each slot runs exactly once or is skipped and logged."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.clock.scheduler import WallClockCronTrigger
from bot.clock.slot_runner import JobContext, JobSpec, SlotRunner
from bot.rules.schedule import latest_slot, next_run, slots_between
from storage.models import JobRun

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str, tz: ZoneInfo = NY) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Recorder:
    """A job body that records the slots it ran, and can be told to fail."""

    def __init__(self) -> None:
        self.slots: list[datetime] = []
        self.fail = False

    def __call__(self, ctx: JobContext) -> str:
        if self.fail:
            raise RuntimeError("the content repo said no <@channel>")
        self.slots.append(ctx.slot)
        return "done"


def slot_runner(
    engine: Engine, clock: Clock, cron: str, *, grace_min: int = 180, tz: ZoneInfo = NY,
    holder: str = "replica-a", told: list[str] | None = None,
) -> tuple[SlotRunner, Recorder]:  # fmt: skip
    job = Recorder()
    spec = JobSpec("post", cron, timedelta(minutes=grace_min), job)
    notify = told.append if told is not None else None
    cw = SlotRunner(
        engine, [spec], tz, lease_ttl=timedelta(seconds=60), holder=holder, notify=notify,
        clock=clock,
    )  # fmt: skip
    return cw, job


def runs(engine: Engine) -> list[tuple[str, str | None]]:
    t = JobRun.__table__
    with engine.connect() as conn:
        return [(r.job, r.outcome) for r in conn.execute(select(t).order_by(t.c.slot))]


# --- slot arithmetic ------------------------------------------------------------------------


def test_fall_back_does_not_double_a_slot():
    got = slots_between("30 1 * * *", NY, at("2026-10-31T12:00"), at("2026-11-02T12:00"))
    assert [s.astimezone(NY).isoformat() for s in got] == [
        "2026-11-01T01:30:00-04:00",  # the first 01:30 of the night clocks fall back
        "2026-11-02T01:30:00-05:00",
    ]


def test_spring_forward_does_not_skip_a_slot():
    got = slots_between("30 2 * * *", NY, at("2026-03-07T12:00"), at("2026-03-09T12:00"))
    # 02:30 does not exist on 8 March: it runs once, as the clocks jump to 03:30.
    assert [s.astimezone(NY).isoformat() for s in got] == [
        "2026-03-08T03:30:00-04:00",
        "2026-03-09T02:30:00-04:00",
    ]


@pytest.mark.parametrize(
    "cron, start, end, count",
    [
        ("0 9 * * mon-fri", "2026-11-23T00:00", "2026-11-30T00:00", 5),  # a whole week
        ("0 9 * * mon-fri", "2026-11-28T00:00", "2026-11-30T00:00", 0),  # the weekend
        # Each wall-clock time once: the repeated hour runs once on a 25-hour day, and the
        # skipped hour's slots run as the clocks jump (02:15 with 03:15) on a 23-hour day.
        ("*/15 * * * *", "2026-11-01T00:00", "2026-11-02T00:00", 96),
        ("*/15 * * * *", "2026-03-08T00:00", "2026-03-09T00:00", 92),
        ("30 8 * * *", "2026-03-01T00:00", "2026-04-01T00:00", 31),
    ],
)
def test_slot_counts(cron: str, start: str, end: str, count: int):
    assert len(slots_between(cron, NY, at(start), at(end))) == count


def test_trigger_never_repeats_across_dst():
    trigger = WallClockCronTrigger("30 1 * * *", NY)
    fire, seen = None, []
    now = at("2026-10-30T12:00")
    for _ in range(5):
        fire = trigger.get_next_fire_time(fire, now)
        assert fire is not None
        seen.append(fire)
        now = fire
    assert len(set(seen)) == 5 and seen == sorted(seen)


def test_next_and_latest_slot():
    now = at("2026-11-26T09:10")
    assert latest_slot("0 9 * * *", NY, now, timedelta(hours=1)) == at("2026-11-26T09:00")
    assert latest_slot("0 9 * * *", NY, now, timedelta(minutes=5)) is None
    assert next_run("0 9 * * *", now, NY) == at("2026-11-27T09:00")


# --- running slots ---------------------------------------------------------------------------


def test_slot_runs_once_across_a_restart(engine):
    clock = Clock(at("2026-11-26T09:00"))
    first, job = slot_runner(engine, clock, "0 9 * * *")
    assert first.heartbeat()  # becoming leader at 09:00 runs the 09:00 slot
    assert first.fire("post") is None  # the scheduler waking for the same slot: nothing
    # Restart inside the slot: a new process catches up once the old lease has run out.
    clock.now = at("2026-11-26T09:00:30")
    second, job2 = slot_runner(engine, clock, "0 9 * * *", holder="replica-a-restarted")
    assert not second.heartbeat()  # the old process's lease still runs
    clock.now = at("2026-11-26T09:05")
    assert second.heartbeat()
    assert job.slots == [at("2026-11-26T09:00")] and job2.slots == []
    assert runs(engine) == [("post", "ok")]


def test_missed_slot_within_grace_runs_once_on_start(engine):
    clock = Clock(at("2026-11-26T09:30"))  # down from 08:55 to 09:30
    cw, job = slot_runner(engine, clock, "0 9 * * *", grace_min=60)
    cw.heartbeat()
    cw.heartbeat()
    clock.now += timedelta(minutes=1)
    cw.catch_up(clock.now)
    assert job.slots == [at("2026-11-26T09:00")]


def test_missed_slot_past_grace_is_skipped_and_logged(engine, caplog):
    clock = Clock(at("2026-11-26T13:00"))
    cw, job = slot_runner(engine, clock, "0 9 * * *", grace_min=180)
    with caplog.at_level(logging.WARNING):
        cw.heartbeat()
    assert job.slots == []
    assert runs(engine) == [("post", "skipped")]
    assert "skipped: missed by 4 h, past its grace of 3 h" in caplog.text
    cw.catch_up(clock.now)  # saying it once is enough
    assert runs(engine) == [("post", "skipped")]


def test_dst_fall_back_runs_the_repeated_hour_once(engine):
    clock = Clock(datetime(2026, 11, 1, 5, 30, tzinfo=UTC))  # 01:30 EDT
    cw, job = slot_runner(engine, clock, "30 1 * * *", grace_min=30)
    assert cw.heartbeat() and job.slots
    clock.now = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 01:30 EST, the hour repeats
    assert cw.fire("post") is None
    assert len(job.slots) == 1


def test_weekday_schedule_over_a_week(engine):
    clock = Clock(at("2026-11-23T00:00", BERLIN))
    cw, job = slot_runner(engine, clock, "0 9 * * mon-fri", tz=BERLIN)
    while clock.now < at("2026-11-30T00:00", BERLIN):
        cw.fire("post")
        clock.now += timedelta(minutes=30)
    assert [s.astimezone(BERLIN).strftime("%a %H:%M") for s in job.slots] == [
        "Mon 09:00", "Tue 09:00", "Wed 09:00", "Thu 09:00", "Fri 09:00",
    ]  # fmt: skip


def test_only_the_lease_holder_runs_jobs(engine):
    clock = Clock(at("2026-11-26T09:00"))
    a, job_a = slot_runner(engine, clock, "0 9 * * *", holder="a")
    b, job_b = slot_runner(engine, clock, "0 9 * * *", holder="b")
    assert a.heartbeat() and not b.heartbeat()
    assert b.fire("post") is None and a.fire("post") is None  # a ran it on taking the lease
    # a stops renewing (killed): b takes over once the lease has run out.
    clock.now += timedelta(seconds=59)
    assert not b.heartbeat()
    clock.now += timedelta(seconds=2)
    assert b.heartbeat() and b.leader
    assert len(job_a.slots) == 1 and job_b.slots == []


def test_a_failing_job_says_so_once(engine):
    told: list[str] = []
    clock = Clock(at("2026-11-26T09:00"))
    cw, job = slot_runner(engine, clock, "0 * * * *", grace_min=30, told=told)
    cw.leader = True  # fire() itself, not the catch-up on taking the lease, runs each slot
    job.fail = True
    for hour in range(3):
        clock.now = at("2026-11-26T09:00") + timedelta(hours=hour)
        assert cw.fire("post") == "failed"
    assert len(told) == 1
    assert "The post job failed: the content repo said no &lt;@channel&gt;." in told[0]
    assert "try again at Thu 10:00" in told[0]
    job.fail = False
    clock.now = at("2026-11-26T12:00")
    assert cw.fire("post") == "ok"
    assert told[-1] == "The post job works again."
    assert [o for _, o in runs(engine)] == ["failed", "failed", "failed", "ok"]


def test_a_job_whose_work_is_already_running_is_skipped_not_failed(engine):
    """Issue 9, items 10 and 16: an operator's `curator publish` holds the publish lock when
    the scheduled publish fires; the slot is skipped, with who holds it, and nobody is told."""
    from storage.locks import run_lock

    told: list[str] = []
    clock = Clock(at("2026-11-26T09:00"))

    def publish(ctx: JobContext) -> str:
        with run_lock(engine, "publish"):
            return "published"

    spec = JobSpec("publish", "0 * * * *", timedelta(minutes=30), publish)
    cw = SlotRunner(
        engine, [spec], NY, lease_ttl=timedelta(seconds=60), notify=told.append, clock=clock
    )
    cw.leader = True
    with run_lock(engine, "publish"):
        assert cw.fire("publish") == "skipped"
    clock.now += timedelta(hours=1)
    assert cw.fire("publish") == "ok"
    with engine.connect() as conn:
        rows = conn.execute(select(JobRun.__table__).order_by(JobRun.__table__.c.slot)).all()
    assert [r.outcome for r in rows] == ["skipped", "ok"]
    assert rows[0].detail.startswith("another publish is running (since ")
    assert told == []


def test_shutting_down_while_catching_up_never_kills_the_scheduler_thread(engine):
    """The lead queues a catch-up on every beat. As a one-off job, its removal after the run
    could meet shutdown and kill APScheduler's thread with JobLookupError (seen in about one
    `serve` start and stop in six); the catch-up is now one lasting job woken on demand."""
    import threading
    import time

    from bot.clock.scheduler import start_scheduler

    died: list[BaseException | None] = []
    old_hook = threading.excepthook
    threading.excepthook = lambda args: died.append(args.exc_value)
    try:
        for _ in range(40):
            slot_runner = SlotRunner(engine, [], NY, lease_ttl=timedelta(seconds=3))
            scheduler = start_scheduler(slot_runner)  # takes the lease: it leads
            assert slot_runner.leader

            def wake(on_lead) -> None:
                for _ in range(300):
                    on_lead()  # as every beat does

            waker = threading.Thread(target=wake, args=(slot_runner.on_lead,), daemon=True)
            waker.start()
            time.sleep(0.002)
            assert scheduler.get_job("catch-up") is not None  # kept after its runs
            thread = scheduler._thread
            scheduler.shutdown(wait=True)
            waker.join(10)
            thread.join(10)
            assert not thread.is_alive()
            slot_runner.stop()
    finally:
        threading.excepthook = old_hook
    assert died == []
