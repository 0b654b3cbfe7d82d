"""``/digest``: the articles in curation that match a few filters, answered privately.

``/digest topic:AI since:7d`` lists the matching cards — awaiting votes (with the tally and a
link to the card), approved and waiting to be published, published (with the commit) —
best first. Reading the command text is a rule (``bot.rules.digest_query``); rendering the
answer is pure; the only side effect is one read query (``storage.post_views.find_posts``)
and the votes of the cards shown.

With several desks it answers for the desks asked (``desk:Policy``, ``desk:all``), else for
the desk whose channel it was asked in, else (a DM, another channel) for every desk; each
card's votes and quorum are its own desk's.
"""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import Block
from sqlalchemy.engine import Engine

from bot.config import Config, Desk
from bot.rules.digest_query import DigestQuery
from bot.slack.digest_cards import run_digest
from bot.slack.digest_help import help_message
from bot.slack.digest_message import digest_message
from storage.db import reading


def unescape_command(text: str) -> str:
    """Slash command text as typed: Slack sends ``&``, ``<`` and ``>`` HTML-escaped."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def answer_digest(
    engine: Engine, config: Config, query: DigestQuery, *, now: datetime,
    here: Desk | None = None,
) -> tuple[str, list[Block]]:  # fmt: skip
    """What ``/digest`` answers (fallback text, blocks); the listener and the CLI both call it.
    ``here``: the desk whose channel it was asked in (None: elsewhere, or the CLI)."""
    if query.help:
        return help_message(config.slack.command, config)
    with reading(engine) as conn:
        result = run_digest(conn, config, query, now=now, here=here)
    return digest_message(result, config, now=now)
