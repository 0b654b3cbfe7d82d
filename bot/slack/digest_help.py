"""What ``/digest help`` answers."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from bot.config import Config
from bot.rules.digest_query import DEFAULT_LIMIT, MAX_LIMIT
from bot.slack.text import escape, mrkdwn


def help_message(command: str = "/digest", config: Config | None = None) -> tuple[str, list[Block]]:
    """What ``/digest help`` answers: every filter with an example (and the desks, with a
    ``config`` of several)."""
    c = escape(command)
    names = [d.name for d in config.desks] if config is not None else []
    desks = f" The desks: {mrkdwn(', '.join(names), 500)}." if len(names) > 1 else ""
    lines = [
        f"*{c}* shows the articles in curation, best first, only to you.",
        f"`{c}` — awaiting votes, approved, and published in the last 7 days",
        f"`{c} topic:AI` — by topic; repeat it for any of several, "
        'quote names with spaces: `topic:"Computer Vision"`',
        f"`{c} status:pending` — pending, approved, published, rejected, expired, unpublished "
        "or all; `status:pending,approved` for several",
        f"`{c} since:7d` — changed state in the last 7 days; also `24h`, `2w`, "
        "or a date like `2026-11-20`",
        f"`{c} min:60` — quality 60 or more",
        f"`{c} limit:25` — show up to 25 (default {DEFAULT_LIMIT}, at most {MAX_LIMIT})",
        f"`{c} desk:Policy` — that desk's cards, `desk:all` every desk's; by default the desk "
        f"whose channel you ask in, and every desk elsewhere (a DM, another channel).{desks}",
        f'`{c} police "facial recognition"` — words in the title or excerpt; quotes keep a '
        "phrase together",
        f"Filters combine: `{c} topic:AI status:published since:30d min:50`",
    ]
    return f"{command} help", [SectionBlock(text=MarkdownTextObject(text="\n".join(lines)))]
