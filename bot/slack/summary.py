"""The morning summary: what was decided since the last one, what waits, what comes today.

``build_summary`` reads the rows, ``summary_message`` renders them (pure), ``post_summary``
sends the message to the channel. A quiet night is said in one line, never skipped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    PlainTextObject,
    SectionBlock,
)
from sqlalchemy.engine import Engine

from bot.candidate_pool import todays_candidates
from bot.config import Config
from bot.house_rules import candidate_rules
from bot.rules import states
from bot.rules.schedule import next_run, posting_day
from bot.slack.card_blocks import md, quality_text, title_of
from bot.slack.card_message import next_publish_run
from bot.slack.daily_post import resolve_channel
from bot.slack.digest import (
    HOLD_MAX,
    DigestEntry,
    Sections,
    card_link,
    commit_text,
    duration,
    entries_for,
    format_when,
    votes_text,
)
from bot.slack.limits import (
    MESSAGE_BLOCKS_MAX,
    POSTED_TEXT_MAX,
    SECTION_TEXT_MAX,
    ensure_fits,
    length,
    text_length,
)
from bot.slack.text import escape, join_fitting, link, mrkdwn
from storage.articles import ArticleView
from storage.db import Transaction, reading
from storage.post_views import Order, find_posts, posted_on

SHOWN = 10  # per list; the rest is one /digest away
OTHER = "Other topics"
TOPIC_MAX = 100


@dataclass(frozen=True)
class TopicGroup:
    topic: str
    articles: tuple[ArticleView, ...]


@dataclass(frozen=True)
class Summary:
    """Everything the summary says, as plain data."""

    since: datetime
    now: datetime
    published: list[DigestEntry]
    rejected: list[DigestEntry]
    expired: list[DigestEntry]
    approved: list[DigestEntry]  # approved (or held back), not yet published, oldest first
    waiting: list[DigestEntry]  # awaiting votes, oldest first
    candidates: list[TopicGroup]  # today's cards, or the preview of them, by topic
    posted_today: bool

    @property
    def quiet(self) -> bool:
        """Nothing decided or published since ``since``, and no card waiting on anyone."""
        return not (
            self.published or self.rejected or self.expired or self.approved or self.waiting
        )


def build_summary(conn: Transaction, config: Config, *, since: datetime, now: datetime) -> Summary:
    """Read what the summary reports: decisions since ``since``, open cards, today's picks."""

    def cards(
        statuses: Sequence[str], *, since: datetime | None = None, order: Order = "oldest"
    ) -> list[DigestEntry]:
        page = find_posts(conn, statuses=statuses, since=since, order=order)
        return entries_for(conn, config, page.posts)

    day = posting_day(now, config.zone)
    posted = posted_on(conn, day=day)
    if posted:
        shown = [s for s in states.ALL if s != states.SKIPPED]  # skipped: never in Slack
        page = find_posts(conn, statuses=shown, day=day, order="best")
        today = [p.article for p in page.posts]
    else:
        today = todays_candidates(conn, candidate_rules(config, config.default_desk), now=now)
    return Summary(
        since=since,
        now=now,
        published=cards([states.PUBLISHED], since=since, order="changed"),
        rejected=cards([states.REJECTED], since=since, order="changed"),
        expired=cards([states.EXPIRED], since=since, order="changed"),
        approved=cards([states.APPROVED, states.BLOCKED], order="oldest"),
        waiting=cards([states.OPEN], order="oldest"),
        candidates=group_by_topic(today),
        posted_today=posted,
    )


def group_by_topic(articles: Sequence[ArticleView]) -> list[TopicGroup]:
    """Each article under the topic it shares with the most others (ties: alphabetical).

    Listing an article under every topic it has would repeat most of them; its commonest
    topic gives few, full groups. Groups keep the articles' order (best first).
    """
    counts = Counter(t.casefold() for a in articles for t in a.topics)
    groups: dict[str, list[ArticleView]] = {}
    names: dict[str, str] = {}
    for article in articles:
        if article.topics:
            best = min(article.topics, key=lambda t: (-counts[t.casefold()], t.casefold()))
            key = best.casefold()
            names.setdefault(key, best)
        else:
            key = ""
            names[key] = OTHER
        groups.setdefault(key, []).append(article)
    ordered = sorted(groups.items(), key=lambda kv: (kv[0] == "", -len(kv[1])))
    return [TopicGroup(names[k], tuple(v)) for k, v in ordered]


# ------------------------------------------------------------------------------- rendering


def summary_message(summary: Summary, config: Config) -> tuple[str, list[Block]]:
    """(fallback text, blocks) for the channel."""
    tz, now = config.zone, summary.now
    since = format_when(summary.since, tz, now)
    command = config.slack.command
    if summary.quiet:
        line = f"Nothing was decided or published since {since}; no cards are waiting."
        blocks: list[Block] = [SectionBlock(text=md(line))]
        sections = Sections(MESSAGE_BLOCKS_MAX - len(blocks), _text_budget(blocks))
        if summary.candidates:
            blocks += _candidates(summary, config, sections)
        return line, blocks

    counts = [
        f"{len(items)} {label}"
        for items, label in (
            (summary.published, "published"),
            (summary.rejected, "rejected"),
            (summary.expired, "expired"),
            (summary.approved, "to be published"),
            (summary.waiting, "waiting for votes"),
        )
        if items
    ]
    title = f"Morning summary · {now.astimezone(tz):%A %d %B}"
    blocks = [
        HeaderBlock(text=PlainTextObject(text=title)),
        ContextBlock(elements=[md(f"Since {since} · " + " · ".join(counts))]),
    ]
    # and the closing tip
    sections = Sections(MESSAGE_BLOCKS_MAX - len(blocks) - 1, _text_budget(blocks))
    if summary.published:
        lines = _published(summary.published, config)
        lines += _more(summary.published, f"{command} status:published since:{_days(summary)}d")
        blocks += sections.pack(f"*Published* · {len(summary.published)}", lines, "\n")
    for items, label, status in (
        (summary.rejected, "Rejected", "rejected"),
        (summary.expired, "Expired without a decision", "expired"),
    ):
        if items:
            lines = [_line(e, f" · {_votes(e, config)}") for e in items[:SHOWN]]
            lines += _more(items, f"{command} status:{status} since:{_days(summary)}d")
            blocks += sections.pack(f"*{label}* · {len(items)}", lines, "\n")
    if summary.approved:
        at = next_publish_run(config, now)
        when = f", to be published {format_when(at, tz, now)}" if at else ""
        lines = [_approved(e, now) for e in summary.approved[:SHOWN]]
        lines += _more(summary.approved, f"{command} status:approved")
        blocks += sections.pack(f"*Approved{when}* · {len(summary.approved)}", lines, "\n")
    if summary.waiting:
        lines = [
            _line(
                e,
                f" · waiting {duration(now - e.post.posted_at)} · {_votes(e, config)} · "
                f"{config.votes.quorum} needed{_card(e)}",
            )
            for e in summary.waiting[:SHOWN]
        ]
        lines += _more(summary.waiting, f"{command} status:pending limit:50")
        title = f"*Waiting for votes* · {len(summary.waiting)}, oldest first"
        blocks += sections.pack(title, lines, "\n")
    blocks += _candidates(summary, config, sections)
    tip = f"`{command}` shows any of these in detail, e.g. `{command} status:published since:7d`"
    if sections.omitted:
        tip = f"{sections.omitted} more lines did not fit in one Slack message. " + tip
    blocks.append(ContextBlock(elements=[md(escape(tip))]))
    return "Morning summary: " + ", ".join(counts), blocks


def _text_budget(head: Sequence[Block]) -> int:
    """What the lists may hold in all: the posted limit, less the head and the closing tip."""
    return POSTED_TEXT_MAX - TIP_MAX - text_length([b.to_dict() for b in head])


TIP_MAX = 400  # the closing tip, with the count of lines that did not fit
# A line of the summary fits one section beside its list's title, whatever the article holds.
LINE_MAX = SECTION_TEXT_MAX - 200
TITLE_MAX = 150
CANDIDATE_TITLE_MAX = 120
CANDIDATE_MAX = 1_000  # one candidate in its topic's line: a long URL is shown as text


def _published(entries: Sequence[DigestEntry], config: Config) -> list[str]:
    """Published cards grouped by the commit that published them."""
    lines: list[str] = []
    by_commit: dict[str | None, list[DigestEntry]] = {}
    for e in entries:
        by_commit.setdefault(e.post.commit_sha, []).append(e)
    shown = 0
    for sha, group in by_commit.items():
        if shown >= SHOWN:
            break
        lines.append(f"in {commit_text(sha, config)}:" if sha else "without a recorded commit:")
        for e in group[: SHOWN - shown]:
            lines.append(_line(e, _card(e)))
        shown += len(group)
    return lines


def _approved(e: DigestEntry, now: datetime) -> str:
    held = ""
    if e.post.status == states.BLOCKED:
        reason = mrkdwn(e.hold, HOLD_MAX) or "publishing refused the file"
        held = f"\n    :warning: held back from publishing: {reason}"
    return _line(e, f" · approved {duration(now - e.post.changed_at)} ago{_card(e)}{held}")


def _candidates(summary: Summary, config: Config, sections: Sections) -> list[Block]:
    if not summary.candidates:
        return []
    n = sum(len(g.articles) for g in summary.candidates)
    if summary.posted_today:
        title = f"*Today's cards by topic* · {n}"
    else:
        at = _next_post(config, summary.now)
        if at is None:
            title = f"*Top candidates by topic* · {n}"
        elif posting_day(at, config.zone) == posting_day(summary.now, config.zone):
            title = f"*Today's top candidates by topic* · {n}, to be posted at {at:%H:%M}"
        else:
            when = format_when(at, config.zone, summary.now)
            title = f"*Top candidates by topic* · {n}, next posted {when}"
    lines = []
    for group in summary.candidates:
        head = f"*{mrkdwn(group.topic, TOPIC_MAX) or OTHER}*: "
        items = [
            link(a.url, title_of(a), CANDIDATE_MAX, label_max=CANDIDATE_TITLE_MAX)
            + f" ({quality_text(a.quality)})"
            for a in group.articles
        ]
        lines.append(head + join_fitting(items, LINE_MAX - length(head), sep=" · "))
    return sections.pack(title, lines, "\n")


def _next_post(config: Config, now: datetime) -> datetime | None:
    """When the post job runs next, if it is scheduled, in the newsroom's time zone."""
    if not config.schedule.post:
        return None
    at = next_run(config.schedule.post, now, config.zone)
    return None if at is None else at.astimezone(config.zone)


def _line(e: DigestEntry, rest: str) -> str:
    """``• title (quality)`` and the rest of the line; the title's link gets what the rest
    leaves of ``LINE_MAX`` (and shows as text when its URL would not fit)."""
    a = e.post.article
    tail = f" ({quality_text(a.quality)}){rest}"
    budget = LINE_MAX - length(tail) - 2
    return f"• {link(a.url, title_of(a), budget, label_max=TITLE_MAX)}{tail}"


def _votes(e: DigestEntry, config: Config) -> str:
    """The tally without names: a mention in a channel message would notify every voter."""
    return votes_text(e.tally, config, names=False)


def _card(e: DigestEntry) -> str:
    return f" · {card_link(e.post.permalink)}" if e.post.permalink else ""


def _more(items: Sequence[object], command: str) -> list[str]:
    rest = len(items) - SHOWN
    return [f"… and {rest} more: `{escape(command)}`"] if rest > 0 else []


def _days(summary: Summary) -> int:
    return max(1, -(-int((summary.now - summary.since).total_seconds()) // 86_400))


# ------------------------------------------------------------------------------- sending


def post_summary(
    engine: Engine, client: WebClient, config: Config, *, since: datetime, now: datetime
) -> str:
    """Post the summary of everything since ``since`` to the channel; returns its ts.

    The scheduler passes the slot of the previous summary as ``since``; running it twice for
    one slot is the scheduler's to prevent (its job-run key), not this function's.
    """
    with reading(engine) as conn:
        summary = build_summary(conn, config, since=since, now=now)
    text, blocks = summary_message(summary, config)
    ensure_fits(text, blocks, posted=True)  # built to fit; this is the last look before it leaves
    channel = resolve_channel(client, config.slack.channel)
    response = client.chat_postMessage(
        channel=channel, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
    )
    return str(response["ts"])
