"""``/digest``: the articles in curation that match a few filters, answered privately.

``/digest topic:AI since:7d`` lists the matching cards — awaiting votes (with the tally and a
link to the card), approved and waiting to be published, published (with the commit) —
best first. Parsing the command text and rendering the answer are pure functions; the only
side effect is one read query (``storage.digest_queries.find_posts``) and the votes of the
cards shown.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock
from sqlalchemy.engine import Engine

from bot.config import Config
from bot.rules.tally import Tally, tally
from bot.slack.cards import md, quality_text, title_of, who
from bot.slack.limits import MESSAGE_BLOCKS_MAX, SECTION_TEXT_MAX, length
from bot.slack.messages import next_publish_run, vote_rules
from bot.slack.text import cut, escape, link, mrkdwn, shown_items
from storage.db import Transaction, reading
from storage.digest_queries import PostView, find_posts, holds_for, reactions_for
from storage.models import PostStatus

DEFAULT_LIMIT = 10
MAX_LIMIT = 50
RECENT = timedelta(days=7)  # "published recently", when no status: or since: is given
MAX_SINCE = timedelta(days=3650)

# What an editor types after status:, and the post states each one covers. A blocked post
# is approved; only publishing refused it for now (PublishHold says why).
STATUS_WORDS: dict[str, tuple[str, ...]] = {
    "pending": (PostStatus.OPEN,),
    "approved": (PostStatus.APPROVED, PostStatus.BLOCKED),
    "published": (PostStatus.PUBLISHED,),
    "rejected": (PostStatus.REJECTED,),
    "expired": (PostStatus.EXPIRED,),
}
_STATUS_ALIASES = {"open": "pending", "waiting": "pending", "blocked": "approved"}
_KEYS = {
    "topic": "topic", "topics": "topic", "status": "status", "since": "since", "min": "min",
    "quality": "min", "limit": "limit",
}  # fmt: skip
_HELP_WORDS = {"help", "?", "-h", "--help"}
# Smart quotes from phones and macOS count as straight ones.
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"'})
_KEY = re.compile(r"^([A-Za-z_]+):(.*)$", re.DOTALL)
_RELATIVE = re.compile(r"^(\d{1,5})\s*([hdw])$", re.IGNORECASE)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class DigestError(ValueError):
    """A filter that cannot be read; the message is one line that shows the right form."""


@dataclass(frozen=True)
class DigestQuery:
    """What an editor asked for; empty fields mean "no filter"."""

    topics: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()  # keys of STATUS_WORDS; empty: the default view
    since: datetime | None = None
    since_text: str | None = None  # as typed, to repeat it back
    min_quality: float | None = None
    words: tuple[str, ...] = ()
    limit: int = DEFAULT_LIMIT
    help: bool = False

    def describe(self) -> str:
        """The filters in the form they are typed, e.g. ``topic:AI since:7d``."""
        parts = [f"topic:{_quoted(t)}" for t in self.topics]
        if self.statuses:
            parts.append("status:" + ",".join(self.statuses))
        if self.since_text:
            parts.append(f"since:{self.since_text}")
        if self.min_quality is not None:
            parts.append(f"min:{self.min_quality:g}")
        if self.limit != DEFAULT_LIMIT:
            parts.append(f"limit:{self.limit}")
        parts += [_quoted(w) for w in self.words]
        return " ".join(parts)


def _quoted(text: str) -> str:
    return f'"{text}"' if any(c.isspace() for c in text) else text


# ----------------------------------------------------------------------------------- parsing


@dataclass
class _Token:
    parts: list[tuple[str, bool]] = field(default_factory=list)  # (text, was quoted)

    @property
    def text(self) -> str:
        return " ".join("".join(t for t, _ in self.parts).split())

    @property
    def quoted(self) -> bool:
        return any(q for _, q in self.parts)

    def filter(self) -> tuple[str, str] | None:
        """(name, value) when the token is ``name:value`` with an unquoted name."""
        if not self.parts or self.parts[0][1]:
            return None
        match = _KEY.match(self.parts[0][0])
        if not match:
            return None
        value = match.group(2) + "".join(t for t, _ in self.parts[1:])
        return match.group(1).lower(), " ".join(value.split())


def _tokens(text: str) -> list[_Token]:
    """Split on whitespace; double quotes group words, also inside a token (topic:"a b")."""
    text = text.translate(_QUOTES)
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        token = _Token()
        while i < n and not text[i].isspace():
            if text[i] == '"':
                end = text.find('"', i + 1)
                end = n if end == -1 else end  # an unclosed quote runs to the end
                token.parts.append((text[i + 1 : end], True))
                i = end + 1
            else:
                j = i
                while j < n and not text[j].isspace() and text[j] != '"':
                    j += 1
                token.parts.append((text[i:j], False))
                i = j
        tokens.append(token)
    return tokens


def parse_digest_query(text: str, now: datetime, tz: tzinfo) -> DigestQuery:
    """Read ``/digest`` text like ``topic:AI since:7d "facial recognition"``.

    Filters: ``topic:`` (repeatable; any of them), ``status:`` (pending, approved, published,
    rejected, expired, all; commas or repeats for several), ``since:`` (7d, 24h, 2w or a date,
    midnight in ``tz``), ``min:`` quality, ``limit:`` (1-50). Other words must all appear in
    the title or excerpt; double quotes keep a phrase together. Raises DigestError.
    """
    tokens = _tokens(text)
    if tokens and not tokens[0].quoted and tokens[0].text.lower() in _HELP_WORDS:
        return DigestQuery(help=True)
    topics: list[str] = []
    statuses: list[str] = []
    words: list[str] = []
    single: dict[str, str] = {}  # since/min/limit as typed: each may be given once
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        pair = token.filter()
        if pair is None or (pair[0] not in _KEYS and pair[1].startswith("//")):
            if token.text and token.text.casefold() not in {w.casefold() for w in words}:
                words.append(token.text)  # a word, a quoted phrase, or a URL
            continue
        name, value = pair
        if name not in _KEYS:
            raise DigestError(_unknown_filter(name))
        key = _KEYS[name]
        if not value and i < len(tokens) and tokens[i].filter() is None:
            value = tokens[i].text  # "topic: AI", with a space after the colon
            i += 1
        if not value:
            raise DigestError(f"{key}: expected {_EXPECTED[key](now, tz)}, got nothing")
        if key == "topic":
            if value.casefold() not in {t.casefold() for t in topics}:
                topics.append(value)
        elif key == "status":
            statuses += [s for s in _statuses(value, now, tz) if s not in statuses]
        elif key in single and single[key] != value:
            first, second = _shown(single[key]), _shown(value)
            raise DigestError(f"{key}: given twice ({first!r} and {second!r}); use one")
        else:
            single[key] = value
    since = parse_since(single["since"], now, tz) if "since" in single else None
    if "all" in statuses:
        statuses = list(STATUS_WORDS)
    return DigestQuery(
        topics=tuple(topics),
        statuses=tuple(statuses),
        since=since,
        since_text=single.get("since"),
        min_quality=_min_quality(single["min"], now, tz) if "min" in single else None,
        words=tuple(words),
        limit=_limit(single["limit"], now, tz) if "limit" in single else DEFAULT_LIMIT,
    )


def _example_date(now: datetime, tz: tzinfo) -> str:
    return (now.astimezone(tz).date() - timedelta(days=6)).isoformat()


_EXPECTED = {
    "topic": lambda now, tz: 'a topic like topic:AI or topic:"Computer Vision"',
    "status": lambda now, tz: "pending, approved, published, rejected, expired or all",
    "since": lambda now, tz: f"7d, 24h or a date like {_example_date(now, tz)}",
    "min": lambda now, tz: "a quality number like min:60",
    "limit": lambda now, tz: f"a whole number from 1 to {MAX_LIMIT}",
}


def _bad(key: str, value: str, now: datetime, tz: tzinfo, why: str = "") -> DigestError:
    return DigestError(f"{key}: expected {_EXPECTED[key](now, tz)}, got {_shown(value)!r}{why}")


def _shown(typed: str) -> str:
    """What was typed, quoted back in an error: 40 characters at most."""
    return typed if len(typed) <= 40 else typed[:39] + "…"


def _unknown_filter(name: str) -> str:
    close = difflib.get_close_matches(name, list(_KEYS), n=1, cutoff=0.6)
    hint = f"did you mean {_KEYS[close[0]]}:? " if close else ""
    return (
        f"unknown filter '{_shown(name)}:'; {hint}"
        "filters are topic:, status:, since:, min:, limit: "
        '(put other words with a colon in quotes, like "Update: budget")'
    )


def _statuses(value: str, now: datetime, tz: tzinfo) -> list[str]:
    found = []
    for word in (w.strip().lower() for w in value.split(",")):
        word = _STATUS_ALIASES.get(word, word)
        if word not in STATUS_WORDS and word != "all":
            raise _bad("status", word or value, now, tz)
        found.append(word)
    return found


def parse_since(value: str, now: datetime, tz: tzinfo) -> datetime:
    """``7d``, ``24h``, ``2w`` back from ``now``, or a date (its midnight in ``tz``)."""
    relative = _RELATIVE.match(value)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2).lower()
        delta = {"h": timedelta(hours=amount), "d": timedelta(days=amount)}.get(
            unit, timedelta(weeks=amount)
        )
        if amount == 0 or delta > MAX_SINCE:
            raise _bad("since", value, now, tz, " (from 1h up to 10 years back)")
        return now - delta
    if _DATE.match(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise _bad("since", value, now, tz, " (no such day)") from None
        start = datetime.combine(day, time(0), tzinfo=tz)
        if start > now:
            raise DigestError(f"since: {value} is in the future")
        return start
    raise _bad("since", value, now, tz)


def _min_quality(value: str, now: datetime, tz: tzinfo) -> float:
    try:
        number = float(value)
    except ValueError:
        raise _bad("min", value, now, tz) from None
    if not math.isfinite(number):
        raise _bad("min", value, now, tz)
    return number


def _limit(value: str, now: datetime, tz: tzinfo) -> int:
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise _bad("limit", value, now, tz)
    return int(value)


def from_slack(text: str) -> str:
    """Slash command text as typed: Slack sends ``&``, ``<`` and ``>`` HTML-escaped."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# ------------------------------------------------------------------------------- the query


@dataclass(frozen=True)
class DigestEntry:
    """One matching card: where it stands, who voted, and why it is held back (if it is)."""

    post: PostView
    tally: Tally
    hold: str | None = None


@dataclass(frozen=True)
class DigestResult:
    """The cards shown (at most ``query.limit``) and how many matched in all."""

    query: DigestQuery
    entries: list[DigestEntry]
    total: int


def scope(query: DigestQuery, now: datetime) -> tuple[list[str], datetime | None]:
    """The post states asked for, and since when published cards count as "recent"."""
    if query.statuses:
        return [s for word in query.statuses for s in STATUS_WORDS[word]], None
    default = [*STATUS_WORDS["pending"], *STATUS_WORDS["approved"], *STATUS_WORDS["published"]]
    # With since: given, it bounds every card, published ones included.
    return default, (None if query.since else now - RECENT)


def run_digest(
    conn: Transaction, config: Config, query: DigestQuery, *, now: datetime
) -> DigestResult:
    """The cards matching ``query``, best first, with their current tallies."""
    statuses, published_since = scope(query, now)
    page = find_posts(
        conn, statuses=statuses, published_since=published_since, since=query.since,
        topics=query.topics, min_quality=query.min_quality, words=query.words,
        limit=query.limit, order="best",
    )  # fmt: skip
    return DigestResult(query, entries_for(conn, config, page.posts), page.total)


def entries_for(conn: Transaction, config: Config, posts: Sequence[PostView]) -> list[DigestEntry]:
    """Cards with their tallies and holds, read in two queries whatever their number."""
    reactions = reactions_for(conn, [p.post_id for p in posts])
    holds = holds_for(conn, [p.post_id for p in posts if p.status == PostStatus.BLOCKED])
    rules = vote_rules(config)
    return [DigestEntry(p, tally(reactions[p.post_id], rules), holds.get(p.post_id)) for p in posts]


def answer_digest(
    engine: Engine, config: Config, query: DigestQuery, *, now: datetime
) -> tuple[str, list[Block]]:
    """What ``/digest`` answers (fallback text, blocks); the listener and the CLI both call it."""
    if query.help:
        return help_message(config.slack.command)
    with reading(engine) as conn:
        result = run_digest(conn, config, query, now=now)
    return digest_message(result, config, now=now)


# ------------------------------------------------------------------------------- rendering

_GROUPS = (
    ("Awaiting votes", (PostStatus.OPEN,)),
    ("Approved, waiting to be published", (PostStatus.APPROVED, PostStatus.BLOCKED)),
    ("Published", (PostStatus.PUBLISHED,)),
    ("Rejected", (PostStatus.REJECTED,)),
    ("Expired without a decision", (PostStatus.EXPIRED,)),
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
    asked = mrkdwn(query.describe(), ASKED_MAX)
    what = f" · {asked}" if asked else ""
    command = config.slack.command
    if not result.entries:
        text = f"Nothing matches{' ' + asked if asked else ''} ({_scope_words(query)})."
        blocks: list[Block] = [
            SectionBlock(text=md(f"*Digest*{what}\n{text}")),
            ContextBlock(elements=[md(escape(widen_hint(query, command)))]),
        ]
        return f"Digest: nothing matches {asked}".strip(), blocks

    sections = Sections(MESSAGE_BLOCKS_MAX - 2)  # the header and the closing tip
    blocks = []
    counts = []
    for title, states in _GROUPS:
        entries = [e for e in result.entries if e.post.status in states]
        if not entries:
            continue
        counts.append(f"{len(entries)} {title.split(',')[0].lower()}")
        lines = [entry_line(e, config, now=now) for e in entries]
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


def widen_hint(query: DigestQuery, command: str) -> str:
    """How to find more when nothing matched: only what the query did not already ask."""
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


def entry_line(entry: DigestEntry, config: Config, *, now: datetime) -> str:
    """Two lines for a card: the article, then where its vote stands and a link to the card.

    At most ``LINE_MAX`` long: the title's link gets what the rest leaves, and shows as text
    when its URL would not fit.
    """
    article = entry.post.article
    facts = [quality_text(article.quality)]
    facts.append(mrkdwn(article.provider_name or article.provider_domain, 80))
    facts.append(shown_items(article.topics, lambda t: mrkdwn(t, 60), 120))
    tail = " · " + " · ".join(f for f in facts if f) + "\n" + state_line(entry, config, now=now)
    title = link(article.url, title_of(article), LINE_MAX - length(tail) - 2, label_max=200)
    return f"*{title}*{tail}"


def state_line(entry: DigestEntry, config: Config, *, now: datetime) -> str:
    """Where a card stands: votes and quorum, approval, the commit it was published in."""
    post = entry.post
    votes = votes_text(entry.tally, config)
    when = ago(now - post.changed_at)
    status = post.status
    if status == PostStatus.OPEN:
        parts = [votes, f"{config.votes.quorum} needed", f"posted {ago(now - post.posted_at)}"]
    elif status == PostStatus.APPROVED:
        parts = [f"approved {when}"]
        at = next_publish_run(config, now)
        if at is not None:
            parts.append(f"to be published {format_when(at, config.zone, now)}")
        parts.append(votes)
    elif status == PostStatus.BLOCKED:
        reason = mrkdwn(entry.hold, HOLD_MAX) or "publishing refused the file"
        parts = [f":warning: approved, held back from publishing: {reason}", votes]
    elif status == PostStatus.PUBLISHED:
        commit = f" in {commit_text(post.commit_sha, config)}" if post.commit_sha else ""
        parts = [f"published {when}{commit}"]
    elif status == PostStatus.REJECTED:
        parts = [f"rejected {when}", votes]
    else:
        parts = [f"expired {when}", votes]
    if post.permalink:
        parts.append(card_link(post.permalink))
    return " · ".join(parts)


def card_link(permalink: str) -> str:
    """ "card", linked to the Slack message (a permalink is short; a huge one stays text)."""
    return link(permalink, "card", 300)


def votes_text(t: Tally, config: Config, *, names: bool = True) -> str:
    """``:white_check_mark: 1 (<@U1>) · :x: 0``; ``names`` only where a mention pings nobody
    (a private answer), never in a channel message."""
    yes, no = config.votes.publish[0], config.votes.reject[0]
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


def help_message(command: str = "/digest") -> tuple[str, list[Block]]:
    """What ``/digest help`` answers: every filter with an example."""
    c = escape(command)
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
        f'`{c} police "facial recognition"` — words in the title or excerpt; quotes keep a '
        "phrase together",
        f"Filters combine: `{c} topic:AI status:published since:30d min:50`",
    ]
    return f"{command} help", [SectionBlock(text=MarkdownTextObject(text="\n".join(lines)))]
