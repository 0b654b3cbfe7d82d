"""The ``/digest`` answer: the matching cards grouped by state, best first, within one
message's limits, or a hint to widen the filters when nothing matches."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from slack_sdk.models.blocks import Block, ContextBlock, SectionBlock

from bot.config import Config
from bot.rules import states
from bot.rules.digest_query import MAX_LIMIT, STATUS_WORDS, DigestQuery
from bot.slack.card_blocks import md, quality_text, title_of
from bot.slack.card_facts import (
    CHANGED,
    HOLD_MAX,
    card_link,
    commit_text,
    vetoed_by,
    votes_text,
)
from bot.slack.card_message import next_publish_run
from bot.slack.digest_cards import DigestEntry, DigestResult
from bot.slack.digest_desks import desks_text
from bot.slack.limits import MESSAGE_BLOCKS_MAX, SECTION_TEXT_MAX, length
from bot.slack.sections import Sections
from bot.slack.text import escape, link, mrkdwn, shown_items
from bot.slack.time_words import ago, format_when

_GROUPS = (
    ("Awaiting votes", (states.OPEN,)),
    ("Approved, waiting to be published", (states.APPROVED, states.BLOCKED)),
    ("Published", (states.PUBLISHED,)),
    ("Rejected", (states.REJECTED,)),
    ("Expired without a decision", (states.EXPIRED,)),
    ("Unpublished", (states.UNPUBLISHING, states.UNPUBLISHED)),
)
# A card's two lines fit one section beside its group's title, whatever the article holds.
LINE_MAX = SECTION_TEXT_MAX - 100
ASKED_MAX = 300  # the filters, repeated back


def digest_message(
    result: DigestResult, config: Config, *, now: datetime
) -> tuple[str, list[Block]]:
    """The private answer: a header, the cards grouped by state (best first in each), a hint.

    Cards are packed into as few sections as Slack's limits allow; if even that is more
    than one message holds, the answer says how many did not fit and how to narrow it.
    """
    query = result.query
    asked = mrkdwn(replace(query, desk=None).describe(), ASKED_MAX)
    covered = result.desks or config.desks
    several = len(covered) > 1  # each card then says its desk
    where = desks_text(covered, config)
    what = "".join(f" · {part}" for part in (where, asked) if part)
    command = config.slack.command
    if not result.entries:
        within = f" in {where}" if where else ""
        text = f"Nothing matches{' ' + asked if asked else ''}{within} ({_scope_words(query)})."
        hint = widen_hint(query, command, one_desk=len(covered) < len(config.desks))
        blocks: list[Block] = [
            SectionBlock(text=md(f"*Digest*{what}\n{text}")),
            ContextBlock(elements=[md(escape(hint))]),
        ]
        return f"Digest: nothing matches {asked}".strip(), blocks

    sections = Sections(MESSAGE_BLOCKS_MAX - 2)  # the header and the closing tip
    blocks = []
    counts = []
    for title, group in _GROUPS:
        entries = [e for e in result.entries if e.post.status in group]
        if not entries:
            continue
        counts.append(f"{len(entries)} {title.split(',')[0].lower()}")
        lines = [entry_line(e, config, now=now, show_desk=several) for e in entries]
        blocks += sections.pack(f"*{title}* · {len(entries)}", lines)
    shown = len(result.entries) - sections.omitted
    total = f"{result.total:,}+" if result.capped else str(result.total)
    count = (
        f"{shown} match{'es' if shown != 1 else ''}, best first"
        if shown == result.total and not result.capped
        else f"{shown} of {total} matches, best first"
    )
    head = f"*Digest*{what} — {count} ({_scope_words(query)})"
    blocks.insert(0, SectionBlock(text=md(head)))
    tip = f"{command} help lists every filter."
    if sections.omitted:
        tip = (
            f"{sections.omitted} more did not fit in one Slack message; narrow it with "
            f"topic:, since: or min:. " + tip
        )
    elif shown < result.total or result.capped:
        tip = (
            f"Narrow it with topic:, since: or min:, or ask for more with limit:{MAX_LIMIT}. " + tip
        )
    blocks.append(ContextBlock(elements=[md(escape(tip))]))
    return "Digest: " + ", ".join(counts), blocks


def widen_hint(query: DigestQuery, command: str, *, one_desk: bool = False) -> str:
    """How to find more when nothing matched: only what the query did not already ask
    (``one_desk``: the answer covered fewer desks than there are)."""
    tips = []
    if set(query.statuses) != set(STATUS_WORDS):
        tips.append("status:all")
    if query.since is not None:
        tips.append("a longer since:")
    if query.min_quality is not None:
        tips.append("a lower min:")
    if query.topics:
        tips.append("another topic:")
    if query.words:
        tips.append("fewer words")
    if one_desk:
        tips.append("desk:all")
    tips.append(f"{command} help")
    return "Try " + (", ".join(tips[:-1]) + " or " if len(tips) > 1 else "") + tips[-1] + "."


def _scope_words(query: DigestQuery) -> str:
    if not query.statuses:
        if query.since:
            return "awaiting votes, approved or published"
        return "awaiting votes, approved, or published in the last 7 days"
    if set(query.statuses) == set(STATUS_WORDS):
        return "every state"
    return " or ".join(query.statuses)


def entry_line(
    entry: DigestEntry, config: Config, *, now: datetime, show_desk: bool = False
) -> str:
    """Two lines for a card: the article (and its desk, with ``show_desk``), then where its
    vote stands and a link to the card.

    At most ``LINE_MAX`` long: the title's link gets what the rest leaves, and shows as text
    when its URL would not fit.
    """
    article = entry.post.article
    facts = [quality_text(article.quality)]
    facts.append(mrkdwn(article.provider_name or article.provider_domain, 80))
    facts.append(shown_items(article.topics, lambda t: mrkdwn(t, 60), 120))
    if show_desk:
        facts.append(f"{mrkdwn((entry.desk or config.default_desk).name, 40)} desk")
    tail = " · " + " · ".join(f for f in facts if f) + "\n" + state_line(entry, config, now=now)
    title = link(article.url, title_of(article), LINE_MAX - length(tail) - 2, label_max=200)
    return f"*{title}*{tail}"


def state_line(entry: DigestEntry, config: Config, *, now: datetime) -> str:
    """Where a card stands: votes and quorum, approval, the commit it was published in."""
    post = entry.post
    desk = entry.desk or config.default_desk
    votes = votes_text(entry.tally, config, desk=desk)
    when = ago(now - post.changed_at)
    status = post.status
    if status == states.OPEN:
        parts = [votes, f"{desk.votes.quorum} needed", f"posted {ago(now - post.posted_at)}"]
    elif status == states.APPROVED:
        parts = [f"approved {when}"]
        at = next_publish_run(config, now)
        if at is not None:
            parts.append(f"to be published {format_when(at, config.zone, now)}")
        parts.append(votes)
    elif status == states.BLOCKED:
        reason = mrkdwn(entry.hold, HOLD_MAX) or "publishing refused the file"
        parts = [f":warning: approved, held back from publishing: {reason}", votes]
    elif status in (states.PUBLISHED, states.UNPUBLISHED):  # "published 2h ago in <commit>"
        commit = f" in {commit_text(post.commit_sha, config)}" if post.commit_sha else ""
        parts = [f"{status} {when}{commit}"]
    elif status == states.REJECTED and entry.tally.veto:
        parts = [f"vetoed {when} by {vetoed_by(entry.tally)}", votes]
    elif status == states.REJECTED:
        parts = [f"rejected {when}", votes]
    elif status == states.UNPUBLISHING:
        parts = ["to be unpublished by the next publish run"]
    else:
        parts = [f"expired {when}", votes]
    if entry.changed:
        parts.append(CHANGED)
    if post.permalink:
        parts.append(card_link(post.permalink))
    return " · ".join(parts)
