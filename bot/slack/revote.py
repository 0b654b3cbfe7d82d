"""Cards whose article changed after the votes go back to a vote.

The scan keeps each article's fingerprint (storage.fingerprint); a card keeps the one its
votes were cast on. When they differ in a key that counts (``votes.revote_on``), the votes
cast before count no more (the card shows them as earlier votes), the card goes back to open
(from approved, rejected or blocked, with the change as the decision's cause) and says what
changed, linking the commit when ``content.commit_url`` is set. A change only in keys that
do not count takes the new fingerprint silently. The publisher makes the same check at the
remote tip (bot/publishing/job.py), so an approval never publishes another version.
"""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot.config import Config
from bot.rules import states
from bot.rules.states import FINAL
from bot.slack.voting import refresh_card
from storage.db import reading, transaction
from storage.fingerprint import differing, dumps
from storage.revotes import (
    changed_cards,
    keep_fingerprint,
    reopen,
    revote_cause,
    since_of,
    version_unversioned,
)
from storage.votes import find_post

log = logging.getLogger(__name__)

#: The states in which a change sends a card back to a vote.
VOTED = (states.OPEN, states.APPROVED, states.REJECTED, states.BLOCKED)


def revote_changed(
    engine: Engine,
    config: Config,
    *,
    commit: str | None,
    now: datetime,
    client: WebClient | None = None,
) -> list[int]:
    """After a scan of ``commit``: send every card whose article changed back to a vote.
    Returns their post ids (their cards are refreshed when ``client`` is given)."""
    with transaction(engine) as tx:
        version_unversioned(tx, statuses=VOTED)
    with reading(engine) as conn:
        found = changed_cards(conn, statuses=VOTED)
    moved = []
    for card in found:
        if card.ts is None:
            continue
        keys = differing(card.voted, card.now, config.votes.revote_on)
        with transaction(engine) as tx:
            # Under the card's lock, as a vote is: the two never pass each other.
            post = find_post(tx, channel=card.channel, ts=card.ts, lock=True)
            if post is None or post.status in FINAL:
                continue
            if not keys:  # nothing editors vote on: the next votes are on this version
                keep_fingerprint(tx, post_id=post.id, fingerprint=dumps(card.now))
                continue
            keys = reopen(
                tx, post_id=post.id, status=post.status, fingerprint=dumps(card.now),
                keys=keys, since=since_of(now), commit=commit,
                cause=revote_cause(keys, commit), at=now,
            )  # fmt: skip
        moved.append(post.id)
        log.info("post %s: %s", post.id, revote_cause(keys, commit))
    if client is not None:
        for post_id in moved:
            refresh_card(engine, client, config, post_id, now)
    return moved
