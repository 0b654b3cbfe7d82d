"""Editors' reactions become votes, votes move a post's state, the card follows."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine

from bot.config import Config, Desk
from bot.house_rules import vote_rules
from bot.rules import states
from bot.rules.states import FINAL
from bot.rules.tally import (
    UNPUBLISH,
    VETO,
    closed_if_window_started_before,
    is_button,
    next_status,
    normalize_reaction,
    tally,
)
from bot.slack.card_message import render_post, update_message
from bot.slack.editors import DeskEditors
from storage import posts
from storage.db import Transaction, reading, transaction
from storage.records import PostRecord
from storage.revotes import note_vote
from storage.votes import Reaction as StoredReaction
from storage.votes import (
    StatusMove,
    VoteRow,
    earlier_reactions_of,
    find_post,
    reactions_of,
    record_reaction,
    save_votes,
    set_status,
    set_statuses,
    votes_on,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VoteChange:
    post_id: int
    channel: str
    ts: str
    old: str
    new: str


@dataclass(frozen=True)
class Reaction:
    """A reaction event that may be a vote: what is known before any card is read."""

    channel: str
    ts: str
    user: str
    reaction: str
    present: bool
    event_ts: str
    allowed: frozenset[str]  # the desks where it is a vote by an editor


def apply_reaction(
    engine: Engine,
    config: Config,
    event: dict[str, Any],
    *,
    present: bool,
    bot_user: str | None,
    is_editor: Any,
) -> VoteChange | None:
    """Record a ``reaction_added``/``reaction_removed`` event; None when it changes nothing.

    Counted: the card's desk's emoji, from that desk's editors (``is_editor(desk, user)``), on
    our own candidate messages, not the bot's; a veto only from the desk's chiefs, and only
    until the card is published; an unpublish vote only on a published card.
    """
    vote = reaction_of(config, event, present=present, bot_user=bot_user, is_editor=is_editor)
    if vote is None:
        return None
    changes = record_votes(engine, config, [vote])
    return changes[0] if changes else None


def reaction_of(
    config: Config, event: dict[str, Any], *, present: bool, bot_user: str | None,
    is_editor: Any,
) -> Reaction | None:  # fmt: skip
    """The event as a possible vote, or None when it cannot be one (read nothing for it)."""
    item = event.get("item") or {}
    user, reaction = event.get("user"), event.get("reaction") or ""
    if item.get("type") != "message" or not user or user == bot_user or is_button(reaction):
        return None  # (a Home tab button's name is no emoji Slack could send)
    # Before the card is looked up and locked: the desks where this is a vote by an editor.
    # None costs no read, and asking Slack for a user group never happens under the lock.
    allowed = frozenset(
        d.name
        for d in config.desks
        if vote_rules(d).counts(reaction, user, lambda d=d: bool(is_editor(d, user)))
    )
    event_ts = str(event.get("event_ts") or "")
    if not allowed or not event_ts:
        return None
    return Reaction(
        str(item.get("channel")), str(item.get("ts")), str(user), reaction, present, event_ts,
        allowed,
    )  # fmt: skip


@dataclass
class _Card:
    """A card as a transaction locked and read it, kept as that transaction's votes change
    it: its row, and every vote row it has (counted or not), by (user, reaction)."""

    post: PostRecord
    votes: dict[tuple[str, str], StoredReaction]

    def counted(self) -> list[StoredReaction]:
        """The reactions that count, as reactions_of would read them: none cast before the
        card's article changed."""
        since = self.post.votes_since
        return [r for r in self.votes.values() if since is None or r.event_ts >= since]


def record_votes(engine: Engine, config: Config, votes: list[Reaction]) -> list[VoteChange]:
    """Record ``votes`` in order, in one transaction: a burst pays one commit, not one each;
    its cards are locked and read once, their votes read in one statement, each vote tallied
    as it would be alone, in memory, and what they leave written in one statement for the
    votes and two for the moves, however many votes."""
    with transaction(engine) as tx:
        # Locked in one order (channel, ts): two replicas' bursts never wait on each other
        # crosswise on PostgreSQL. On SQLite the first lock is the database's write lock.
        posts_ = [find_post(tx, channel=c, ts=t, lock=True) for c, t in _cards_of(votes)]
        found = {(p.channel, p.ts): p for p in posts_ if p is not None}
        rows = votes_on(tx, post_ids=[p.id for p in found.values()])
        cards = {key: _Card(p, rows[p.id]) for key, p in found.items()}
        kept: dict[tuple[int, str, str], VoteRow] = {}
        moves: list[StatusMove] = []
        changes = []
        for vote in votes:
            card = cards.get((vote.channel, vote.ts))
            change = None if card is None else _record(tx, config, vote, card, kept, moves)
            if change is not None:
                changes.append(change)
        save_votes(tx, kept.values())
        set_statuses(tx, moves)
        return changes


def _cards_of(votes: list[Reaction]) -> list[tuple[str, str]]:
    return sorted({(v.channel, v.ts) for v in votes})


def _record(
    tx: Transaction, config: Config, vote: Reaction, card: _Card,
    kept: dict[tuple[int, str, str], VoteRow], moves: list[StatusMove],
) -> VoteChange | None:  # fmt: skip
    """``vote`` on ``card`` (locked, its votes read): the row it leaves in ``kept``, the move
    it causes in ``moves``; None when it changes nothing."""
    post = card.post
    desk = config.desk(post.desk)
    rules = vote_rules(desk)
    choice = rules.choice(vote.reaction)
    if choice is None or desk.name not in vote.allowed:
        return None
    if (choice == UNPUBLISH) != (post.status == states.PUBLISHED) or (
        post.status in FINAL and post.status != states.PUBLISHED
    ):
        return None  # unpublish only a published card; nothing else moves it
    reaction = normalize_reaction(vote.reaction)
    known = card.votes.get((vote.user, reaction))
    if known is not None and known.event_ts >= vote.event_ts:
        return None  # a duplicate, or older than what we know
    card.votes[(vote.user, reaction)] = StoredReaction(
        vote.user, reaction, vote.present, vote.event_ts
    )
    kept[(post.id, vote.user, reaction)] = VoteRow(
        post.id, vote.user, reaction, choice, vote.present, vote.event_ts
    )
    if choice != UNPUBLISH and post.voted_hash is None:
        # The first vote keeps the version it was cast on (bot/slack/revote.py); a veto
        # is cast on it as a reject is. An unpublish vote is on a published card, which
        # a later change never sends back to a vote: it records nothing. The row was read
        # under the lock: a version kept already stays, no statement needed to keep it.
        note_vote(tx, post_id=post.id)
        post = card.post = dataclasses.replace(post, voted_hash=_KEPT)
    cause = f"{choice if choice in (VETO, UNPUBLISH) else 'vote'} by {vote.user}"
    new = str(next_status(post.status, tally(card.counted(), rules), rules))
    if new != post.status:
        moves.append(StatusMove(post.id, post.status, new, cause))
        card.post = dataclasses.replace(post, status=new)
    return VoteChange(post.id, post.channel, str(post.ts), post.status, new)


# What a card's voted_hash is known to be once its first vote kept the version (the value
# itself is not read back: only whether one was kept matters to the votes after it).
_KEPT = "(kept)"


def retally(tx: Transaction, post: PostRecord, config: Config, *, cause: str) -> str:
    """Tally ``post`` (its row, as storage read it) again and move it to what the votes say."""
    rules = vote_rules(config.desk(post.desk))
    new = next_status(post.status, tally(reactions_of(tx, post_id=post.id), rules), rules)
    if new != post.status:
        set_status(tx, post_id=post.id, old=post.status, new=new, cause=cause)
    return str(new)


def refresh_card(
    engine: Engine, client: WebClient, config: Config, post_id: int, now: datetime
) -> bool:
    with reading(engine) as tx:
        post = posts.post_by_id(tx, post_id=post_id)  # read once: the card and where it is
        text, blocks = render_post(tx, post, config, now)
    return update_message(client, channel=post.channel, ts=post.ts, text=text, blocks=blocks)


# How far back reconcile reads the unpublish votes on published cards. One reactions.get
# per card every run (every 10 minutes by default) must stay well inside Slack's rate limit,
# and these are the cards an editor still finds: the Home tab lists a week of published
# ones. A rewind on an older card cast while the bot was down counts once it is added again.
UNPUBLISH_RECONCILED = timedelta(days=7)


@dataclass
class ReconcileReport:
    checked: int = 0
    changed: int = 0
    failed: int = 0


def reconcile(
    engine: Engine,
    client: WebClient,
    config: Config,
    now: datetime,
    *,
    bot_user: str | None,
    editors: DeskEditors,
) -> ReconcileReport:
    """Re-read the reactions of every post still being voted on, and the unpublish votes of
    the cards published in the last ``UNPUBLISH_RECONCILED``, so votes cast while the bot was
    down count. Reactions Slack has and we don't are dated ``now``: any event we missed is
    older than this read, and any event after it is newer."""

    report = ReconcileReport()
    open_states = (states.OPEN, states.APPROVED, states.REJECTED, states.BLOCKED)
    voted = posts.being_voted(engine, statuses=open_states)
    voted += posts.published_since(engine, since=now - UNPUBLISH_RECONCILED)
    now_ts = f"{now.timestamp():.6f}"
    for post in voted:
        report.checked += 1
        desk = config.desk(post.desk)
        rules, its_editors = vote_rules(desk), editors.of(desk)
        # A published card counts unpublish votes alone, any other card none (as by event).
        live = post.status == states.PUBLISHED
        try:
            message = client.reactions_get(channel=post.channel, timestamp=post.ts, full=True)
        except SlackApiError as exc:
            report.failed += 1
            log.warning("reactions.get for post %s failed: %s", post.id, exc.response.get("error"))
            continue
        in_slack = {
            (user, normalize_reaction(r["name"]))
            for r in (message.get("message") or {}).get("reactions", [])
            for user in r.get("users", [])
            if user != bot_user
            and rules.choice(r["name"]) is not None
            and (rules.choice(r["name"]) == UNPUBLISH) == live
            and rules.counts(r["name"], user, lambda u=user, e=its_editors: e.contains(u, client))
        }
        with transaction(engine) as tx:
            locked = find_post(tx, channel=post.channel, ts=post.ts, lock=True)
            if locked is None or (locked.status != post.status and locked.status in FINAL):
                continue  # closed since the read (published, expired, being unpublished)
            # Earlier votes too (cast before the article changed): still in Slack, they are
            # known, and must not come back as new ones. Home tab buttons' votes are not
            # reactions: Slack does not have them to report, so they are left alone; on a
            # published card so are the votes that published it.
            every = reactions_of(tx, post_id=post.id) + earlier_reactions_of(tx, post_id=post.id)
            known = {
                (r.user, r.reaction): r
                for r in every
                if not is_button(r.reaction) and (rules.choice(r.reaction) == UNPUBLISH) == live
            }
            changed = False
            for key in in_slack | {k for k, r in known.items() if r.present}:
                present = key in in_slack
                if key in known and known[key].present == present:
                    continue
                changed |= record_reaction(
                    tx, post_id=post.id, user=key[0], reaction=key[1],
                    choice=rules.choice(key[1]) or "", present=present, event_ts=now_ts,
                )  # fmt: skip
            if changed and not live:
                # A vote found here is cast on the article as it is, like one by event: its
                # version is kept, or a later change could be published unvoted.
                note_vote(tx, post_id=post.id)
            if changed:
                retally(tx, locked, config, cause="reconciled with Slack")
        if changed:
            report.changed += 1
            refresh_card(engine, client, config, post.id, now)
    return report


def expire_posts(engine: Engine, client: WebClient | None, config: Config, now: datetime) -> int:
    """Open posts past their desk's voting window become ``expired``."""
    expired: list[int] = []
    for desk in config.desks:
        cutoff = closed_if_window_started_before(now, vote_rules(desk))
        with transaction(engine) as tx:
            due = posts.open_since_before(tx, cutoff=cutoff, desk=desk.name)
            # Only those still open: a vote may approve one between the select and the update.
            expired += [post_id for post_id in due if _expire(tx, post_id, desk, now)]
    if client is not None:
        for post_id in expired:
            refresh_card(engine, client, config, post_id, now)
    return len(expired)


def _expire(tx: Transaction, post_id: int, desk: Desk, now: datetime) -> bool:
    cause = f"no decision within {desk.votes.window_days} days"
    return set_status(tx, post_id=post_id, old=states.OPEN, new=states.EXPIRED, cause=cause, at=now)
