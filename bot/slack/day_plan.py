"""The day's plan: which of the day's candidates each desk posts, chosen once."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.engine import Engine

from bot.candidate_pool import todays_candidates, why_none
from bot.config import Config, Desk
from bot.house_rules import candidate_rules
from bot.outages import Told
from bot.rules.schedule import posting_day
from storage import posts
from storage.db import reading, transaction
from storage.db_errors import DuplicateError
from storage.locks import Busy, run_lock
from storage.unpublish import release_changed_unpublished

log = logging.getLogger(__name__)

# How long a desk's planning waits for another desk's (a plan reads the pool and writes up
# to per_day rows: well under a second, unless the database is struggling).
PLAN_WAIT = 60.0


def plan_day(
    engine: Engine, config: Config, now: datetime, channel: str, desk: Desk | None = None
) -> tuple[list[int], bool]:
    """The desk's post ids for the day, choosing them on the first call; (ids, chosen_now).
    No desk: the default desk (the only one of a config without desks)."""
    desk = desk or config.default_desk
    day = posting_day(now, config.zone)
    try:
        # Desks plan one at a time, whichever process plans: two desks planning at once would
        # each miss the other's story, and post one story twice (the URL dedupe spans desks).
        with run_lock(engine, "plan", wait=PLAN_WAIT), transaction(engine) as tx:
            existing = posts.day_post_ids(tx, day=day, desk=desk.name)
            if existing:
                return existing, False
            # With the pool read in the same transaction: a scan in between cannot offer an
            # article whose unpublished card is still there (the plan would break on it).
            released = release_changed_unpublished(tx, keys=config.votes.revote_on)
            if released:
                log.info("%d unpublished articles changed since; back in the pool", released)
            for article in todays_candidates(tx, candidate_rules(config, desk), now=now):
                posts.add_post(
                    tx, article_id=article.id, channel=channel, desk=desk.name, day=day, now=now
                )
            return posts.day_post_ids(tx, day=day, desk=desk.name), True
    except DuplicateError:
        # Another process planned the same articles at the same moment; use its plan.
        with reading(engine) as tx:
            return posts.day_post_ids(tx, day=day, desk=desk.name), False
    except Busy as exc:
        # Not "someone else does this very work" (that would skip the slot silently): another
        # desk's plan held the lock too long, and this desk's day waits for its next run.
        raise Told(
            f"the {desk.name} desk's day was not planned: {exc}; it is planned at the next run "
            "of its post job or `curator post --desk`"
        ) from None


def why_none_today(engine: Engine, config: Config, now: datetime, desk: Desk | None = None) -> str:
    """The counts behind a desk's day without candidates (for the job's log line, the CLI)."""
    with reading(engine) as tx:
        return why_none(tx, candidate_rules(config, desk or config.default_desk), now=now)
