"""What the scheduler persists: which slot of which job ran, and who holds the lease."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update
from sqlalchemy.engine import Engine

from storage.db import dialect_insert
from storage.models import JobRun, Lease, as_utc, utcnow
from storage.records import JobRunRecord

JOB_RUN = JobRun.__table__
LEASE = Lease.__table__
LEASE_NAME = "scheduler"  # the one lease: whoever holds it runs the scheduled jobs


def claim_slot(engine: Engine, *, job: str, slot: datetime, now: datetime) -> int | None:
    """Claim ``job`` at ``slot``; the run id, or None when some process already claimed it.

    The unique (job, slot) key makes this the one place that decides, across restarts and
    replicas alike, that a slot runs once.
    """
    with engine.begin() as conn:
        stmt = (
            dialect_insert(conn, JOB_RUN)
            .values(job=job, slot=slot, started_at=now)
            .on_conflict_do_nothing(index_elements=["job", "slot"])
            .returning(JOB_RUN.c.id)
        )
        return conn.execute(stmt).scalar_one_or_none()


def finish_run(
    engine: Engine, *, run_id: int, outcome: str, detail: str | None, now: datetime
) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(JOB_RUN)
            .where(JOB_RUN.c.id == run_id)
            .values(outcome=outcome, detail=detail, finished_at=now)
        )


def last_run(conn: Connection, *, job: str, outcome: str | None = None) -> JobRunRecord | None:
    """The newest finished run of ``job`` (with that outcome, if given)."""
    query = select(JOB_RUN).where(JOB_RUN.c.job == job, JOB_RUN.c.finished_at.is_not(None))
    if outcome:
        query = query.where(JOB_RUN.c.outcome == outcome)
    row = conn.execute(query.order_by(JOB_RUN.c.slot.desc()).limit(1)).first()
    return None if row is None else JobRunRecord.of(row)


def previous_outcome(conn: Connection, *, job: str, before_id: int) -> str | None:
    """The outcome of the run of ``job`` before run ``before_id`` (to say a failure once)."""
    row = conn.execute(
        select(JOB_RUN.c.outcome)
        .where(JOB_RUN.c.job == job, JOB_RUN.c.id < before_id, JOB_RUN.c.outcome != "skipped")
        .order_by(JOB_RUN.c.id.desc())
        .limit(1)
    ).first()
    return row.outcome if row else None


@dataclass(frozen=True)
class LeaseState:
    holder: str
    expires_at: datetime


def hold_lease(engine: Engine, *, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
    """Take or renew the lease; True when ``holder`` holds it until ``now + ttl``."""
    expires = now + ttl
    with engine.begin() as conn:
        renewed = conn.execute(
            update(LEASE)
            .where(LEASE.c.name == name, (LEASE.c.holder == holder) | (LEASE.c.expires_at < now))
            .values(holder=holder, expires_at=expires)
        )
        if renewed.rowcount == 1:
            return True
        stmt = (
            dialect_insert(conn, LEASE)
            .values(name=name, holder=holder, expires_at=expires)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(LEASE.c.name)
        )
        return conn.execute(stmt).first() is not None


def release_lease(engine: Engine, *, name: str, holder: str) -> None:
    """Give the lease up on a clean shutdown, so another replica need not wait it out."""
    with engine.begin() as conn:
        conn.execute(
            update(LEASE)
            .where(LEASE.c.name == name, LEASE.c.holder == holder)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )


def lease_state(conn: Connection, *, name: str) -> LeaseState | None:
    row = conn.execute(select(LEASE).where(LEASE.c.name == name)).first()
    if row is None:
        return None
    expires = as_utc(row.expires_at)
    assert expires is not None
    return LeaseState(row.holder, expires)
