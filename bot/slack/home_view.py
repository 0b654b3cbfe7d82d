"""The Home tab's view: pure Block Kit from a reader's queue.

An editor sees the cards of the desks they edit: those waiting for votes (the soonest to
close first, each with its tally, when it closes, a link to the card and Publish / Reject
buttons, and a Veto button for the desk's chiefs where the desk has a veto), the approved
ones waiting for the publisher (and when it runs), and what was published, rejected (or
vetoed), expired or unpublished in the last 7 days, and what is being unpublished. A card
whose article changed after its votes says what changed while it waits for new ones.
Someone who edits no desk sees every desk's cards, without buttons (but a chief's Veto). A
view holds 100 blocks: what does not fit is counted, with the ``/digest`` that lists it all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    SectionBlock,
)

from bot.config import Config, Desk
from bot.rules import states
from bot.rules.tally import Tally
from bot.slack.card_blocks import md
from bot.slack.card_facts import CHANGED, card_link, commit_text, vetoed_by, votes_text
from bot.slack.card_message import next_publish_run
from bot.slack.limits import VIEW_BLOCKS_MAX, length
from bot.slack.sections import Sections
from bot.slack.text import escape, link, mrkdwn
from bot.slack.time_words import ago, format_when
from storage.home_views import HomeCard

PUBLISH_ACTION, REJECT_ACTION, VETO_ACTION = "home_publish", "home_reject", "home_veto"
RECENT = timedelta(days=7)  # how far back the decided cards go
LINE_MAX = 1_500  # one card's text; 100 such blocks stay far inside the view's 250 kB
TITLE_MAX = 200
NOTICE_MAX = 500
DECIDED = (
    states.PUBLISHED, states.REJECTED, states.EXPIRED, states.UNPUBLISHING, states.UNPUBLISHED,
)  # fmt: skip
LIST_BLOCKS = 8  # sections for the approved cards, and as many for the decided ones


@dataclass(frozen=True)
class HomeEntry:
    """A card in the reader's queue, with its desk, its tally and the reader's own vote."""

    card: HomeCard
    desk: Desk
    tally: Tally
    closes_at: datetime
    mine: str | None = None  # "publish" / "reject": the reader's current vote, if any
    can_veto: bool = False  # the reader is one of the desk's chiefs, and the desk has a veto
    changed: tuple[str, ...] = ()  # what changed after the votes, while it waits for new ones
    can_vote: bool = False  # the reader edits the card's desk: Publish and Reject buttons


def home_view(
    entries: Sequence[HomeEntry],
    config: Config,
    *,
    editing: Sequence[Desk],
    now: datetime,
    notice: str | None = None,
) -> dict[str, Any]:
    """The view for views.publish. ``editing``: the desks the reader edits (their queue,
    with buttons); none: every desk's cards, without buttons but a chief's Veto."""
    command = escape(config.slack.command)
    waiting = sorted(
        (e for e in entries if e.card.status == states.OPEN),
        key=lambda e: (e.closes_at, e.card.post_id),
    )
    approved = sorted(
        (e for e in entries if e.card.status in (states.APPROVED, states.BLOCKED)),
        key=lambda e: (e.card.changed_at, e.card.post_id),
    )
    decided = sorted(
        (e for e in entries if e.card.status in DECIDED),
        key=lambda e: (e.card.changed_at, e.card.post_id),
        reverse=True,
    )
    several = len(config.desks) > 1
    head: list[Block] = [HeaderBlock(text="Your queue" if editing else "The newsroom's queue")]
    if editing:
        names = ", ".join(d.name for d in editing) if several else ""
        about = (
            f"The cards of the desks you edit: {mrkdwn(names, 500)}. " if names else ""
        ) + "A button counts like the card's reaction: one vote per editor, the latest wins."
        chief = sorted({e.desk.name for e in waiting if e.can_veto and not e.can_vote})
        if chief:  # desks they do not edit but may veto, as a chief
            about += f" As their chief you may veto the cards of {mrkdwn(', '.join(chief), 500)}."
    elif any(e.can_veto for e in waiting):
        about = (
            "You edit no desk, so this is every desk's queue, without Publish or Reject "
            "buttons; you may veto the cards of the desks whose chief you are."
        )
    else:
        about = "You edit no desk, so this is every desk's queue, without voting buttons."
    head.append(ContextBlock(elements=[md(about)]))
    if notice:
        head.append(SectionBlock(text=md(f":warning: {mrkdwn(notice, NOTICE_MAX)}")))

    tail: list[Block] = []
    lists = Sections(LIST_BLOCKS)
    if approved:
        at = next_publish_run(config, now)
        runs = f" · the publisher runs {format_when(at, config.zone, now)}" if at else ""
        title = f"*Approved, waiting for the publisher* · {len(approved)}{runs}"
        lines = [_line(e, config, now, several) for e in approved]
        tail += [DividerBlock(), *lists.pack(title, lines, gap="\n")]
        tail += _more(lists.omitted, f"`{command} status:approved`")
    lists = Sections(LIST_BLOCKS)
    if decided:
        title = f"*Published, rejected, expired or unpublished lately* · {len(decided)}"
        lines = [_line(e, config, now, several) for e in decided]
        tail += [DividerBlock(), *lists.pack(title, lines, gap="\n")]
        query = "status:published,rejected,expired,unpublished since:7d"
        tail += _more(lists.omitted, f"`{command} {query}`")

    # The waiting cards get the blocks left: a section each, and a row of buttons for an
    # editor (or a chief, who may veto where they do not vote).
    voting = any(e.can_vote or e.can_veto for e in waiting)
    per_card = 2 if voting else 1
    room = VIEW_BLOCKS_MAX - len(head) - len(tail) - 2  # their title, and "N more"
    shown = waiting[: max(0, room // per_card)]
    title = "*Waiting for your vote*" if editing else "*Waiting for votes*"
    body: list[Block] = [SectionBlock(text=md(f"{title} · {len(waiting)}"))]
    if not waiting:
        body = [SectionBlock(text=md(f"{title} · none right now"))]
    for e in shown:
        body.append(SectionBlock(text=md(_waiting_line(e, config, now, several))))
        if e.can_vote or e.can_veto:
            body.append(_buttons(e, vote=e.can_vote))
    body += _more(len(waiting) - len(shown), f"`{command} status:pending`", soonest=True)
    blocks = [*head, *body, *tail]
    return {"type": "home", "callback_id": "home", "blocks": [_dict(b) for b in blocks]}


def _waiting_line(e: HomeEntry, config: Config, now: datetime, several: bool) -> str:
    """A waiting card: its title, the tally and quorum, when it closes, the card's link, and
    the reader's own vote."""
    parts = [
        votes_text(e.tally, config, desk=e.desk),
        f"{e.desk.votes.quorum} needed",
        f"closes {format_when(e.closes_at, config.zone, now)}",
    ]
    if e.mine:
        emoji = e.desk.votes.publish[0] if e.mine == "publish" else e.desk.votes.reject[0]
        parts.append(f"your vote :{emoji}:")
    if e.changed:  # the keys are field names of the config: a few short words
        parts.insert(0, f"{CHANGED}: {mrkdwn(', '.join(e.changed), 200)}")
    if e.card.permalink:
        parts.append(card_link(e.card.permalink))
    return _titled(e, " · ".join(parts), several)


def _line(e: HomeEntry, config: Config, now: datetime, several: bool) -> str:
    """An approved or decided card in one line: its title and where it stands."""
    card, when = e.card, ago(now - e.card.changed_at)
    if card.status == states.PUBLISHED:
        commit = f" in {commit_text(card.commit_sha, config)}" if card.commit_sha else ""
        state = f"published {when}{commit}"
    elif card.status == states.BLOCKED:
        state = f":warning: approved {when}, held back from publishing"
    elif card.status == states.UNPUBLISHING:
        state = f"being unpublished (asked {when}), by the next publish run"
    elif card.status == states.UNPUBLISHED:
        state = f"unpublished {when}"
    elif card.status == states.REJECTED and e.tally.veto:
        state = f"vetoed {when} by {vetoed_by(e.tally)}"
    else:
        state = f"{card.status} {when} · {votes_text(e.tally, config, desk=e.desk)}"
    if card.permalink:
        state += f" · {card_link(card.permalink)}"
    return _titled(e, state, several, sep=" · ")


def _titled(e: HomeEntry, rest: str, several: bool, sep: str = "\n") -> str:
    desk = f" · {mrkdwn(e.desk.name, 40)} desk" if several else ""
    tail = f"{desk}{sep}{rest}"
    room = LINE_MAX - length(tail) - 2
    title = link(e.card.url, e.card.title or "untitled", room, label_max=TITLE_MAX)
    return f"*{title}*{tail}"


def _buttons(e: HomeEntry, *, vote: bool) -> ActionsBlock:
    value = str(e.card.post_id)
    elements = []
    if vote:
        elements += [
            ButtonElement(text="Publish", action_id=PUBLISH_ACTION, value=value, style="primary"),
            ButtonElement(text="Reject", action_id=REJECT_ACTION, value=value, style="danger"),
        ]
    if e.can_veto:
        sure = ConfirmObject(
            title="Veto this card?",
            text="A chief's veto rejects the card at once, whatever the other votes.",
            confirm="Veto",
            deny="Cancel",
            style="danger",
        )
        elements.append(
            ButtonElement(
                text="Veto", action_id=VETO_ACTION, value=value, style="danger", confirm=sure
            )
        )
    return ActionsBlock(block_id=f"vote:{value}", elements=elements)


def _more(count: int, query: str, *, soonest: bool = False) -> list[Block]:
    if count <= 0:
        return []
    which = " (those closing latest)" if soonest else ""
    text = f"{count} more did not fit here{which}; {query} lists them all."
    return [ContextBlock(elements=[md(text)])]


def _dict(block: Block) -> dict[str, Any]:
    return block.to_dict()
