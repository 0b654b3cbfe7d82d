"""Short facts about a card in any list of cards (``/digest``, the summaries, the Home tab):
its tally, the commit it went out in, a link to it, a change since the votes."""

from __future__ import annotations

from collections.abc import Sequence

from bot.config import Config, Desk
from bot.rules.tally import Tally
from bot.slack.text import escape, link

#: How a list of cards marks one whose article changed after the votes.
CHANGED = ":pencil2: changed since the votes"
HOLD_MAX = 200  # why publishing held a card back
NAMES_SHOWN = 10  # voters named on a card; the rest are counted


def card_link(permalink: str) -> str:
    """ "card", linked to the Slack message (a permalink is short; a huge one stays text)."""
    return link(permalink, "card", 300)


def named(users: Sequence[str]) -> str:
    """``<@U1>, <@U2>``: the first ten by name and the rest counted."""
    names = [f"<@{u}>" for u in users[:NAMES_SHOWN]]
    if len(users) > NAMES_SHOWN:
        names.append(f"and {len(users) - NAMES_SHOWN} more")
    return ", ".join(names)


def who(users: Sequence[str]) -> str:
    """`` (<@U1>, <@U2>)``: the voters after their count, if any."""
    return f" ({named(users)})" if users else ""


def vetoed_by(t: Tally) -> str:
    """``<@U1>, <@U2>``: the chiefs whose veto rejected the card, as a card and every list
    of cards name them."""
    return named(t.veto)


def votes_text(t: Tally, config: Config, *, names: bool = True, desk: Desk | None = None) -> str:
    """``:white_check_mark: 1 (<@U1>) · :x: 0`` in the emoji of ``desk`` (default: the
    default desk); ``names`` only where a mention pings nobody (a private answer), never in a
    channel message."""
    votes = (desk or config.default_desk).votes
    yes, no = votes.publish[0], votes.reject[0]
    pro, con = (who(t.publish), who(t.reject)) if names else ("", "")
    return f":{yes}: {len(t.publish)}{pro} · :{no}: {len(t.reject)}{con}"


def commit_text(sha: str | None, config: Config) -> str:
    """The short sha, linked to the commit when ``content.commit_url`` is set."""
    if not sha:
        return ""
    url = config.content.commit_link(sha)
    return link(url, sha[:7], 500) if url else f"`{escape(sha[:7])}`"
