"""The direct message reminding an editor of their cards that close soon: pure Block Kit.

One line per card, soonest to close first: its title linked to the card, its desk (with
several desks) and when it closes. As many lines as fit Slack's limits; the rest are counted
("and 12 more") with the /digest that lists them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from slack_sdk.models.blocks import Block, ContextBlock, SectionBlock

from bot.slack.card_blocks import md
from bot.slack.limits import MESSAGE_BLOCKS_MAX, POSTED_TEXT_MAX, ensure_fits
from bot.slack.sections import Sections
from bot.slack.text import escape, link, mrkdwn
from bot.slack.time_words import duration, format_when

TITLE_MAX = 200  # a card's title in a reminder line; the card itself shows the rest


@dataclass(frozen=True)
class RemindedCard:
    """A card as a reminder lists it."""

    post_id: int
    title: str | None  # None: the article has no title; its path stands in
    path: str
    permalink: str | None
    desk: str | None  # None: a config without desks, where the desk goes unsaid
    closes: datetime


def reminder_message(
    cards: Sequence[RemindedCard], *, now: datetime, tz: tzinfo, command: str
) -> tuple[str, list[Block]]:
    """(fallback text, blocks) reminding of ``cards``, within Slack's limits whatever their
    titles: lines that do not fit are counted and pointed to ``command``."""
    count = len(cards)
    noun = "card closes" if count == 1 else "cards close"
    text = f"{count} {noun} soon and still wait for your vote"
    tip = f"`{escape(command)} status:pending` lists every card waiting for votes."
    head = f"*{count} {noun} soon* and still wait for your vote:"
    # The tip and the "and N more" line take a block each, and their text, at most.
    sections = Sections(MESSAGE_BLOCKS_MAX - 2, POSTED_TEXT_MAX - 2 * len(tip) - 100)
    blocks: list[Block] = list(sections.pack(head, [_line(c, now, tz) for c in cards], "\n"))
    if sections.omitted:
        more = f"and {sections.omitted} more closing soon"
        blocks.append(SectionBlock(text=md(more)))
    blocks.append(ContextBlock(elements=[md(tip)]))
    ensure_fits(text, blocks, posted=True)  # the last check: never a message Slack refuses
    return text, blocks


def _line(card: RemindedCard, now: datetime, tz: tzinfo) -> str:
    label = card.title if card.title and card.title.strip() else card.path
    title = link(card.permalink, label, TITLE_MAX) if card.permalink else mrkdwn(label, TITLE_MAX)
    where = f" · {mrkdwn(card.desk, 50)}" if card.desk else ""
    when = f"closes {format_when(card.closes, tz, now)} (in {duration(card.closes - now)})"
    return f"• {title}{where} · {when}"
