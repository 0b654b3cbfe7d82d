"""Home tab buttons become votes that count exactly like reactions.

A button's vote is kept as a vote row under ``button:publish``, ``button:reject`` or
``button:veto`` (no emoji name holds a colon), dated by the action's ``action_ts``: the tally
takes each editor's latest vote whichever way it was cast, so a later button or reaction
replaces an earlier one, and the same action delivered twice changes nothing the second
time. A veto stands apart, as the veto reaction does: it counts from the desk's chiefs only
(``VoteRules.counts``) and rejects the card at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from bot.config import Config, Desk
from bot.house_rules import vote_rules
from bot.rules.states import FINAL
from bot.rules.tally import BUTTON_PUBLISH, BUTTON_REJECT, BUTTON_VETO, PUBLISH, REJECT, VETO
from bot.slack.voting import retally
from storage.db import reading, transaction
from storage.home_views import card_by_id
from storage.revotes import note_vote
from storage.votes import find_post, record_reaction

COUNTED, UNCHANGED, CLOSED = "counted", "unchanged", "closed"
REFUSED, UNKNOWN = "refused", "unknown"
NO_VETO = "no veto"  # a Veto on a card of a desk without votes.veto


@dataclass(frozen=True)
class ButtonVote:
    """What became of one press of a Publish, Reject or Veto button."""

    # COUNTED, UNCHANGED (a repeat), CLOSED, REFUSED (no vote of theirs), NO_VETO, UNKNOWN
    outcome: str
    post_id: int | None = None
    desk: str | None = None  # the card's desk's name
    status: str | None = None  # the card's state after the vote


def apply_button(
    engine: Engine,
    config: Config,
    *,
    post_id: int,
    user: str,
    choice: str,
    action_ts: str,
    is_editor: Callable[[Desk, str], bool],
) -> ButtonVote:
    """Record ``user``'s ``choice`` (PUBLISH, REJECT or VETO) on a card, pressed at
    ``action_ts``.

    The other button's earlier vote is withdrawn at the same instant, so an editor has one
    button vote at a time; their reactions stay as they are and the latest vote counts. A
    veto withdraws nothing: it stands beside the chief's vote, as the veto reaction does.
    """
    if choice not in (PUBLISH, REJECT, VETO) or not user or not action_ts:
        return ButtonVote(UNKNOWN)
    with reading(engine) as conn:
        first = card_by_id(conn, post_id=post_id)
    if first is None:
        return ButtonVote(UNKNOWN)
    desk = config.desk(first.desk)
    pressed = {PUBLISH: BUTTON_PUBLISH, REJECT: BUTTON_REJECT, VETO: BUTTON_VETO}[choice]
    rules = vote_rules(desk)
    if choice == VETO and not rules.veto:  # nobody's veto counts there, a chief's neither
        return ButtonVote(NO_VETO, post_id, desk.name, first.status)
    # Asked before the card is locked: a user group's members may be asked of Slack.
    if not rules.counts(pressed, user, lambda: is_editor(desk, user)):
        return ButtonVote(REFUSED, post_id, desk.name, first.status)
    if first.ts is None:
        return ButtonVote(UNKNOWN, post_id, desk.name, first.status)
    with transaction(engine) as tx:
        post = find_post(tx, channel=first.channel, ts=first.ts, lock=True)
        if post is None:
            return ButtonVote(UNKNOWN)
        if post.status in FINAL:
            return ButtonVote(CLOSED, post.id, desk.name, post.status)
        changed = record_reaction(
            tx, post_id=post.id, user=user, reaction=pressed, choice=choice, present=True,
            event_ts=action_ts,
        )  # fmt: skip
        if choice != VETO:
            other, its = (BUTTON_REJECT, REJECT) if choice == PUBLISH else (BUTTON_PUBLISH, PUBLISH)
            changed |= record_reaction(
                tx, post_id=post.id, user=user, reaction=other, choice=its, present=False,
                event_ts=action_ts,
            )  # fmt: skip
        if not changed:
            return ButtonVote(UNCHANGED, post.id, desk.name, post.status)
        note_vote(tx, post_id=post.id)  # the first vote keeps what it was cast on
        what = "veto" if choice == VETO else "vote"
        new = retally(tx, post, config, cause=f"{what} by {user} (Home tab)")
    return ButtonVote(COUNTED, post.id, desk.name, new)
