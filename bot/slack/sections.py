"""Lines packed into as few Block Kit sections as Slack's limits allow."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import Block, SectionBlock

from bot.slack.card_blocks import md
from bot.slack.limits import SECTION_TEXT_MAX, length
from bot.slack.text import cut


@dataclass
class Sections:
    """Lines under bold titles, packed into as few sections as Slack's 3,000-character limit
    allows, sharing one budget of blocks (a message holds 50) and, for a posted message, one
    of text (``POSTED_TEXT_MAX``). One section per card would hit the block limit at 50
    cards; lines past either budget are counted in ``omitted``."""

    blocks_left: int
    text_left: int | None = None  # None: no limit on the text in all
    omitted: int = 0

    def pack(self, title: str, lines: Sequence[str], gap: str = "\n\n") -> list[Block]:
        if self.blocks_left <= 0 or not self._afford(title):
            self.omitted += len(lines)
            return []
        self._spend(title)
        out: list[Block] = []
        current = title
        for i, line in enumerate(lines):
            line = cut(line, SECTION_TEXT_MAX)  # a last resort: lines are built to fit
            joined = f"{current}{gap}{line}" if current else line
            if not self._afford(f"{gap}{line}"):
                self.omitted += len(lines) - i
                break
            if length(joined) <= SECTION_TEXT_MAX:
                current = joined
                self._spend(f"{gap}{line}")
                continue
            if len(out) + 2 > self.blocks_left:  # no section left for this line
                self.omitted += len(lines) - i
                break
            out.append(SectionBlock(text=md(current)))
            current = line
            self._spend(line)
        out.append(SectionBlock(text=md(current)))
        self.blocks_left -= len(out)
        return out

    def _afford(self, text: str) -> bool:
        return self.text_left is None or length(text) <= self.text_left

    def _spend(self, text: str) -> None:
        if self.text_left is not None:
            self.text_left -= length(text)
