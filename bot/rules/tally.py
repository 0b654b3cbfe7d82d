"""What the editors' reactions add up to: pure rules over plain data."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from bot.rules.states import APPROVED, BLOCKED, FINAL, OPEN, REJECTED

PUBLISH, REJECT = "publish", "reject"
# A vote cast with a Home tab button is kept as a reaction under one of these names: an
# emoji name never holds a colon, so none can collide, and reconcile (which syncs the
# reactions Slack has) knows to leave them alone.
BUTTON_PUBLISH, BUTTON_REJECT = "button:publish", "button:reject"
BUTTONS = {BUTTON_PUBLISH: PUBLISH, BUTTON_REJECT: REJECT}


def is_button(reaction: str) -> bool:
    """Whether a stored reaction is a Home tab button's vote, not an emoji."""
    return reaction in BUTTONS


class Reaction(Protocol):
    """One editor's one emoji on a card, as last seen (``storage.votes.Reaction`` is one)."""

    @property
    def user(self) -> str: ...
    @property
    def reaction(self) -> str: ...
    @property
    def present(self) -> bool: ...  # False once the editor took it off again
    @property
    def event_ts(self) -> str: ...  # Slack's timestamp of the add or remove


@dataclass(frozen=True)
class VoteRules:
    publish: frozenset[str]
    reject: frozenset[str]
    quorum: int
    # How long a card takes votes: past it, an open card expires undecided.
    window: timedelta

    def choice(self, reaction: str) -> str | None:
        """PUBLISH, REJECT, or None for an emoji that is not a vote (a button's vote is one,
        whatever the desk's emoji)."""
        if reaction in BUTTONS:
            return BUTTONS[reaction]
        name = normalize_reaction(reaction)
        if name in self.publish:
            return PUBLISH
        if name in self.reject:
            return REJECT
        return None


@dataclass(frozen=True)
class Tally:
    """Who votes what, each editor once, in the order they cast their current vote."""

    publish: tuple[str, ...] = ()
    reject: tuple[str, ...] = ()


def normalize_reaction(name: str) -> str:
    """``thumbsup::skin-tone-3`` counts as ``thumbsup``."""
    return name.split("::", 1)[0].strip(":").lower()


def ts_key(ts: str) -> Decimal:
    return Decimal(ts)


def tally(reactions: Iterable[Reaction], rules: VoteRules) -> Tally:
    """One vote per editor: their latest reaction still on the message.

    A later reaction replaces an earlier one; removing it withdraws it (and an earlier
    reaction that is still there counts again, as anyone looking at the message would see).
    """
    latest: dict[str, tuple[Decimal, str]] = {}
    for r in reactions:
        choice = rules.choice(r.reaction)
        if not r.present or choice is None:
            continue
        when = ts_key(r.event_ts)
        if r.user not in latest or when > latest[r.user][0]:
            latest[r.user] = (when, choice)
    ordered = sorted(latest.items(), key=lambda kv: (kv[1][0], kv[0]))
    return Tally(
        publish=tuple(u for u, (_, c) in ordered if c == PUBLISH),
        reject=tuple(u for u, (_, c) in ordered if c == REJECT),
    )


def decide(t: Tally, rules: VoteRules) -> str:
    """Approved when publish votes reach quorum and outnumber rejects; rejected when rejects
    reach quorum and are not outnumbered; open otherwise."""
    quorum = rules.quorum
    if len(t.publish) >= quorum and len(t.publish) > len(t.reject):
        return APPROVED
    if len(t.reject) >= quorum and len(t.reject) >= len(t.publish):
        return REJECTED
    return OPEN


def next_status(current: str, t: Tally, rules: VoteRules) -> str:
    """Votes move a post between open, approved and rejected until it is published or expired."""
    if current in FINAL:
        return current
    decided = decide(t, rules)
    if current == BLOCKED and decided == APPROVED:
        return BLOCKED  # still approved; publishing waits for the file to change
    return decided


def voting_closes(posted_at: datetime, rules: VoteRules) -> datetime:
    """When a card posted at ``posted_at`` stops taking votes."""
    return posted_at + rules.window


def closed_if_posted_before(now: datetime, rules: VoteRules) -> datetime:
    """Open cards posted before this instant have had their whole window by ``now``."""
    return now - rules.window
