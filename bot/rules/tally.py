"""What the editors' reactions add up to: pure rules over plain data."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Protocol

from bot.rules.states import APPROVED, BLOCKED, FINAL, OPEN, PUBLISHED, REJECTED, UNPUBLISHING

PUBLISH, REJECT = "publish", "reject"
# Not votes on the card's fate but signals of their own: a quorum of unpublish reactions on a
# published card takes it back; a chief's veto rejects an undecided one at once.
UNPUBLISH, VETO = "unpublish", "veto"
# A vote cast with a Home tab button is kept as a reaction under one of these names: an
# emoji name never holds a colon, so none can collide, and reconcile (which syncs the
# reactions Slack has) knows to leave them alone.
BUTTON_PUBLISH, BUTTON_REJECT, BUTTON_VETO = "button:publish", "button:reject", "button:veto"
BUTTONS = {BUTTON_PUBLISH: PUBLISH, BUTTON_REJECT: REJECT, BUTTON_VETO: VETO}


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
    unpublish: frozenset[str] = frozenset()
    veto: frozenset[str] = frozenset()  # empty: no veto (the default)
    chiefs: frozenset[str] = frozenset()  # whose veto counts

    def choice(self, reaction: str) -> str | None:
        """PUBLISH, REJECT, UNPUBLISH, VETO, or None for an emoji that is none of them (a
        button's vote is PUBLISH or REJECT, whatever the desk's emoji; the Veto button's is
        VETO only where the desk has a veto, as its emoji are)."""
        if reaction == BUTTON_VETO:
            return VETO if self.veto else None
        if reaction in BUTTONS:
            return BUTTONS[reaction]
        name = normalize_reaction(reaction)
        if name in self.publish:
            return PUBLISH
        if name in self.reject:
            return REJECT
        if name in self.unpublish:
            return UNPUBLISH
        if name in self.veto:
            return VETO
        return None

    def counts(self, reaction: str, user: str, is_editor: Callable[[], bool]) -> bool:
        """Whether ``user``'s ``reaction`` is a vote at all: a chief's veto, an editor's
        other choice (``is_editor`` is asked only then); a non-chief's veto is no vote."""
        choice = self.choice(reaction)
        if choice == VETO:
            return user in self.chiefs
        return choice is not None and is_editor()


@dataclass(frozen=True)
class Tally:
    """Who votes what, each editor once, in the order they cast their current vote."""

    publish: tuple[str, ...] = ()
    reject: tuple[str, ...] = ()
    unpublish: tuple[str, ...] = ()  # editors whose unpublish reaction is on the card
    veto: tuple[str, ...] = ()  # chiefs whose veto reaction is on the card


def normalize_reaction(name: str) -> str:
    """``thumbsup::skin-tone-3`` counts as ``thumbsup``."""
    return name.split("::", 1)[0].strip(":").lower()


@lru_cache(maxsize=8192)
def ts_key(ts: str) -> Decimal:
    """A Slack timestamp as a number. Kept: a burst tallies each card once per vote, every
    time over the same few dozen timestamps, and a Decimal was half of a tally's cost."""
    return Decimal(ts)


def tally(reactions: Iterable[Reaction], rules: VoteRules) -> Tally:
    """One vote per editor: their latest reaction still on the message.

    A later reaction replaces an earlier one; removing it withdraws it (and an earlier
    reaction that is still there counts again, as anyone looking at the message would see).
    Unpublish and veto reactions stand apart from that vote: each counts while it is on the
    card (a veto only from a chief), and neither replaces the editor's publish or reject.
    """
    latest: dict[str, tuple[Decimal, str]] = {}
    apart: dict[str, dict[str, Decimal]] = {UNPUBLISH: {}, VETO: {}}
    choices: dict[str, str | None] = {}  # a card has a few emoji and many reactions
    for r in reactions:
        if not r.present:
            continue
        if r.reaction in choices:
            choice = choices[r.reaction]
        else:
            choice = choices[r.reaction] = rules.choice(r.reaction)
        if choice is None:
            continue
        when = ts_key(r.event_ts)
        if choice in apart:
            if choice == UNPUBLISH or r.user in rules.chiefs:
                seen = apart[choice]
                seen[r.user] = min(when, seen.get(r.user, when))
            continue
        if r.user not in latest or when > latest[r.user][0]:
            latest[r.user] = (when, choice)
    ordered = sorted(latest.items(), key=lambda kv: (kv[1][0], kv[0]))

    def in_order(seen: dict[str, Decimal]) -> tuple[str, ...]:
        return tuple(u for u, _ in sorted(seen.items(), key=lambda kv: (kv[1], kv[0])))

    return Tally(
        publish=tuple(u for u, (_, c) in ordered if c == PUBLISH),
        reject=tuple(u for u, (_, c) in ordered if c == REJECT),
        unpublish=in_order(apart[UNPUBLISH]),
        veto=in_order(apart[VETO]),
    )


def decide(t: Tally, rules: VoteRules) -> str:
    """Rejected at once by a chief's veto; approved when publish votes reach quorum and
    outnumber rejects; rejected when rejects reach quorum and are not outnumbered; open
    otherwise."""
    if t.veto:
        return REJECTED
    quorum = rules.quorum
    if len(t.publish) >= quorum and len(t.publish) > len(t.reject):
        return APPROVED
    if len(t.reject) >= quorum and len(t.reject) >= len(t.publish):
        return REJECTED
    return OPEN


def next_status(current: str, t: Tally, rules: VoteRules) -> str:
    """Votes move a post between open, approved and rejected until it is published or expired;
    a quorum of unpublish votes moves a published post to unpublishing, and nothing moves it
    after that."""
    if current == PUBLISHED:
        return UNPUBLISHING if len(t.unpublish) >= rules.quorum else current
    if current in FINAL:
        return current
    decided = decide(t, rules)
    if current == BLOCKED and decided == APPROVED:
        return BLOCKED  # still approved; publishing waits for the file to change
    return decided


def voting_closes(window_from: datetime, rules: VoteRules) -> datetime:
    """When a card whose voting window started at ``window_from`` (its posting, or the
    change that sent it back to a vote) stops taking votes."""
    return window_from + rules.window


def closed_if_window_started_before(now: datetime, rules: VoteRules) -> datetime:
    """Open cards whose voting window started before this instant have had all of it by
    ``now``."""
    return now - rules.window
