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

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock
from sqlalchemy.engine import Engine

from bot.config import Config, Desk
from bot.house_rules import vote_rules
from bot.rules import states
from bot.rules.digest_query import DEFAULT_LIMIT, MAX_LIMIT, STATUS_WORDS, DigestQuery, scope
from bot.rules.tally import Tally, tally
from bot.slack.card_blocks import md, quality_text, title_of, who
from bot.slack.card_message import next_publish_run
from bot.slack.digest_desks import desks_for, desks_text
from bot.slack.limits import MESSAGE_BLOCKS_MAX, SECTION_TEXT_MAX, length
from bot.slack.text import cut, escape, link, mrkdwn, shown_items
from storage.db import Transaction, reading
from storage.post_views import PostView, find_posts, holds_for, reactions_for
from storage.revotes import changed_post_ids


def unescape_command(text: str) -> str:
    """Slash command text as typed: Slack sends ``&``, ``<`` and ``>`` HTML-escaped."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# ------------------------------------------------------------------------------- the query


@dataclass(frozen=True)
class DigestEntry:
    """One matching card: where it stands, who voted, and why it is held back (if it is)."""

    post: PostView
    tally: Tally
    hold: str | None = None
    desk: Desk | None = None  # whose votes and quorum apply; None: the default desk
    changed: bool = False  # its article changed after the votes (bot/slack/revote.py)


@dataclass(frozen=True)
class DigestResult:
    """The cards shown (at most ``query.limit``) and how many matched in all."""

    query: DigestQuery
    entries: list[DigestEntry]
    total: int
    desks: tuple[Desk, ...] = ()  # the desks it covers; () read as every desk


def run_digest(
    conn: Transaction, config: Config, query: DigestQuery, *, now: datetime,
    here: Desk | None = None,
) -> DigestResult:  # fmt: skip
    """The cards matching ``query`` in the desks it covers (see ``desks_for``), best first,
    with their current tallies."""
    desks = desks_for(config, query, here)
    statuses, published_since = scope(query, now)
    one = desks[0] if len(desks) < len(config.desks) else None  # None: every desk's cards
    # The default desk also has the cards of no desk (or of a removed one).
    known = [d.name for d in config.desks] if one == config.default_desk else None
    page = find_posts(
        conn, statuses=statuses, published_since=published_since, since=query.since,
        topics=query.topics, min_quality=query.min_quality, words=query.words,
        desk=one.name if one else None, known_desks=known, limit=query.limit, order="best",
    )  # fmt: skip
    return DigestResult(query, entries_for(conn, config, page.posts), page.total, desks)


#: How a list of cards marks one whose article changed after the votes.
CHANGED = ":pencil2: changed since the votes"


def entries_for(conn: Transaction, config: Config, posts: Sequence[PostView]) -> list[DigestEntry]:
    """Cards with their tallies (by their own desk's rules) and holds, read in two queries
    whatever their number."""
    reactions = reactions_for(conn, post_ids=[p.post_id for p in posts])
    holds = holds_for(conn, post_ids=[p.post_id for p in posts if p.status == states.BLOCKED])
    voting = (states.OPEN, states.APPROVED, states.REJECTED, states.BLOCKED)
    changed = changed_post_ids(conn, post_ids=[p.post_id for p in posts if p.status in voting])
    entries = []
    for p in posts:
        desk = config.desk(p.desk)
        its = tally(reactions[p.post_id], vote_rules(desk))
        entries.append(DigestEntry(p, its, holds.get(p.post_id), desk, p.post_id in changed))
    return entries


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


# ------------------------------------------------------------------------------- rendering

_GROUPS = (
    ("Awaiting votes", (states.OPEN,)),
    ("Approved, waiting to be published", (states.APPROVED, states.BLOCKED)),
    ("Published", (states.PUBLISHED,)),
    ("Rejected", (states.REJECTED,)),
    ("Expired without a decision", (states.EXPIRED,)),
)
# A card's two lines fit one section beside its group's title, whatever the article holds.
LINE_MAX = SECTION_TEXT_MAX - 100
ASKED_MAX = 300  # the filters, repeated back
HOLD_MAX = 200  # why publishing held a card back


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
    count = (
        f"{shown} match{'es' if shown != 1 else ''}, best first"
        if shown == result.total
        else f"{shown} of {result.total} matches, best first"
    )
    head = f"*Digest*{what} — {count} ({_scope_words(query)})"
    blocks.insert(0, SectionBlock(text=md(head)))
    tip = f"{command} help lists every filter."
    if sections.omitted:
        tip = (
            f"{sections.omitted} more did not fit in one Slack message; narrow it with "
            f"topic:, since: or min:. " + tip
        )
    elif shown < result.total:
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
    elif status == states.PUBLISHED:
        commit = f" in {commit_text(post.commit_sha, config)}" if post.commit_sha else ""
        parts = [f"published {when}{commit}"]
    elif status == states.REJECTED:
        parts = [f"rejected {when}", votes]
    else:
        parts = [f"expired {when}", votes]
    if entry.changed:
        parts.append(CHANGED)
    if post.permalink:
        parts.append(card_link(post.permalink))
    return " · ".join(parts)


def card_link(permalink: str) -> str:
    """ "card", linked to the Slack message (a permalink is short; a huge one stays text)."""
    return link(permalink, "card", 300)


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


def ago(delta: timedelta) -> str:
    """How long, the way people say it: "just now", "40 minutes", "5 hours", "3 days" ago."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3_600:
        n, unit = seconds // 60, "minute"
    elif seconds < 2 * 86_400:  # "30 hours ago" says more than "1 day ago"
        n, unit = seconds // 3_600, "hour"
    else:
        n, unit = seconds // 86_400, "day"
    return f"{n} {unit}{'s' if n != 1 else ''} ago"


def duration(delta: timedelta) -> str:
    """``ago`` without the "ago": how long a card has been waiting."""
    text = ago(delta)
    return "under a minute" if text == "just now" else text.removesuffix(" ago")


def format_when(at: datetime, tz: tzinfo, now: datetime) -> str:
    """``today 10:00``, ``Tuesday 08:30`` within a week, else ``Tue 12 Nov 08:30``."""
    local, today = at.astimezone(tz), now.astimezone(tz).date()
    if local.date() == today:
        return f"today {local:%H:%M}"
    if abs((local.date() - today).days) < 7:
        return f"{local:%A %H:%M}"
    return f"{local:%a %d %b %H:%M}"


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
        f"`{c} status:pending` — pending, approved, published, rejected, expired or all; "
        "`status:pending,approved` for several",
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
