"""The morning summary of one desk, rendered (pure): ``summary_message`` for its channel,
``summary_lists`` for the lists alone, which the newsroom's summary of every desk shows
(bot/slack/summary_post.py). A quiet night is said in one line, never skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    PlainTextObject,
    SectionBlock,
)

from bot.config import Config, Desk
from bot.rules import states
from bot.rules.schedule import next_run, posting_day
from bot.slack.card_blocks import md, quality_text, title_of
from bot.slack.card_facts import CHANGED, HOLD_MAX, card_link, commit_text, votes_text
from bot.slack.card_message import next_publish_run
from bot.slack.digest_cards import DigestEntry
from bot.slack.limits import (
    MESSAGE_BLOCKS_MAX,
    POSTED_TEXT_MAX,
    SECTION_TEXT_MAX,
    length,
    text_length,
)
from bot.slack.sections import Sections
from bot.slack.summary import OTHER, Summary
from bot.slack.text import escape, join_fitting, link, mrkdwn
from bot.slack.time_words import duration, format_when

SHOWN = 10  # per list; the rest is one /digest away
TOPIC_MAX = 100


@dataclass(frozen=True)
class Fit:
    """How much of each list a summary shows: lines per list, and the length of a line
    (a longer link shows as text). The newsroom's summary shows less of every desk."""

    shown: int = SHOWN
    line_max: int = SECTION_TEXT_MAX - 200  # a line fits one section beside its title


def summary_message(summary: Summary, config: Config) -> tuple[str, list[Block]]:
    """(fallback text, blocks) for the desk's channel."""
    desk = config.desk(summary.desk)
    tz, now = config.zone, summary.now
    if summary.quiet:
        line = quiet_line(summary, config)
        blocks: list[Block] = [SectionBlock(text=md(line))]
        sections = Sections(MESSAGE_BLOCKS_MAX - len(blocks), _text_budget(blocks))
        if summary.candidates:
            blocks += _candidates(summary, config, sections, Fit())
        return line, blocks

    counts = counts_of(summary)
    of = "" if desk.implicit else f" · {desk.name}"  # plain text: nothing to escape
    title = f"Morning summary{of} · {now.astimezone(tz):%A %d %B}"
    since = format_when(summary.since, tz, now)
    blocks = [
        HeaderBlock(text=PlainTextObject(text=title)),
        ContextBlock(elements=[md(f"Since {since} · " + " · ".join(counts))]),
    ]
    # and the closing tip
    sections = Sections(MESSAGE_BLOCKS_MAX - len(blocks) - 1, _text_budget(blocks))
    blocks += summary_lists(summary, config, sections)
    blocks.append(tip_block(config, sections.omitted))
    name = "" if desk.implicit else f" of the {escape(desk.name)} desk"
    return f"Morning summary{name}: " + ", ".join(counts), blocks


def quiet_line(summary: Summary, config: Config) -> str:
    since = format_when(summary.since, config.zone, summary.now)
    return f"Nothing was decided or published since {since}; no cards are waiting."


def counts_of(summary: Summary) -> list[str]:
    """``2 published``, ``1 rejected``, ...: each list that is not empty."""
    return [
        f"{len(items)} {label}"
        for items, label in (
            (summary.published, "published"),
            (summary.rejected, "rejected"),
            (summary.expired, "expired"),
            (summary.unpublished, "unpublished"),
            (summary.approved, "to be published"),
            (summary.waiting, "waiting for votes"),
        )
        if items
    ]


def tip_block(config: Config, omitted: int, extra: str = "") -> ContextBlock:
    """The closing line: where to see more, and how many lines did not fit."""
    command = config.slack.command
    tip = f"`{command}` shows any of these in detail, e.g. `{command} status:published since:7d`"
    if omitted:
        tip = f"{omitted} more lines did not fit in one Slack message. " + tip
    return ContextBlock(elements=[md(extra + escape(tip))])


def summary_lists(
    summary: Summary, config: Config, sections: Sections, *, scope: str = "", fit: Fit = Fit()
) -> list[Block]:
    """The lists of the summary, packed into ``sections``; ``scope`` is the /digest filter
    the "and N more" commands add (the desk, in the newsroom's summary)."""
    desk = config.desk(summary.desk)
    tz, now = config.zone, summary.now
    command = config.slack.command
    blocks: list[Block] = []
    if summary.published:
        lines = _published(summary.published, config, fit)
        days = _days(summary)
        more = f"{command} status:published since:{days}d{scope}"
        lines += _more(summary.published, more, fit)
        blocks += _pack(sections, f"*Published* · {len(summary.published)}", lines)
    for items, label, status in (
        (summary.rejected, "Rejected", "rejected"),
        (summary.expired, "Expired without a decision", "expired"),
        (summary.unpublished, "Unpublished", "unpublished"),
    ):
        if items:
            lines = [_line(e, _state(e, config, desk), fit) for e in items[: fit.shown]]
            more = f"{command} status:{status} since:{_days(summary)}d{scope}"
            lines += _more(items, more, fit)
            blocks += _pack(sections, f"*{label}* · {len(items)}", lines)
    if summary.approved:
        at = next_publish_run(config, now)
        when = f", to be published {format_when(at, tz, now)}" if at else ""
        lines = [_approved(e, now, fit) for e in summary.approved[: fit.shown]]
        lines += _more(summary.approved, f"{command} status:approved{scope}", fit)
        blocks += _pack(sections, f"*Approved{when}* · {len(summary.approved)}", lines)
    if summary.waiting:
        lines = [
            _line(
                e,
                f" · waiting {duration(now - e.post.posted_at)} · {_votes(e, config, desk)} · "
                f"{desk.votes.quorum} needed{' · ' + CHANGED if e.changed else ''}{_card(e)}",
                fit,
            )
            for e in summary.waiting[: fit.shown]
        ]
        lines += _more(summary.waiting, f"{command} status:pending limit:50{scope}", fit)
        title = f"*Waiting for votes* · {len(summary.waiting)}, oldest first"
        blocks += _pack(sections, title, lines)
    blocks += _candidates(summary, config, sections, fit)
    return blocks


def _state(e: DigestEntry, config: Config, desk: Desk) -> str:
    """A decided card's votes; a veto or an unpublish says so (no names: a channel message
    would ping them)."""
    if e.post.status == states.UNPUBLISHING:
        return f" · to be unpublished{_card(e)}"
    if e.post.status == states.UNPUBLISHED:
        return f" · unpublished in {commit_text(e.post.commit_sha, config)}{_card(e)}"
    vetoed = " · vetoed" if e.tally.veto else ""
    return f"{vetoed} · {_votes(e, config, desk)}"


def _pack(sections: Sections, title: str, lines: Sequence[str]) -> list[Block]:
    """The list under its title; none of it (counted as omitted) when not even its first
    line would fit: a title alone says nothing."""
    first = length(title) + 1 + (length(lines[0]) if lines else 0)
    if sections.text_left is not None and first > sections.text_left:
        sections.omitted += len(lines)
        return []
    return sections.pack(title, lines, "\n")


def _text_budget(head: Sequence[Block]) -> int:
    """What the lists may hold in all: the posted limit, less the head and the closing tip."""
    return POSTED_TEXT_MAX - TIP_MAX - text_length([b.to_dict() for b in head])


TIP_MAX = 400  # the closing tip, with the count of lines that did not fit
TITLE_MAX = 150
CANDIDATE_TITLE_MAX = 120
CANDIDATE_MAX = 1_000  # one candidate in its topic's line: a long URL is shown as text


def _published(entries: Sequence[DigestEntry], config: Config, fit: Fit) -> list[str]:
    """Published cards grouped by the commit that published them."""
    lines: list[str] = []
    by_commit: dict[str | None, list[DigestEntry]] = {}
    for e in entries:
        by_commit.setdefault(e.post.commit_sha, []).append(e)
    shown = 0
    for sha, group in by_commit.items():
        if shown >= fit.shown:
            break
        lines.append(f"in {commit_text(sha, config)}:" if sha else "without a recorded commit:")
        for e in group[: fit.shown - shown]:
            lines.append(_line(e, _card(e), fit))
        shown += len(group)
    return lines


def _approved(e: DigestEntry, now: datetime, fit: Fit) -> str:
    held = ""
    if e.post.status == states.BLOCKED:
        reason = mrkdwn(e.hold, HOLD_MAX) or "publishing refused the file"
        held = f"\n    :warning: held back from publishing: {reason}"
    return _line(e, f" · approved {duration(now - e.post.changed_at)} ago{_card(e)}{held}", fit)


def _candidates(summary: Summary, config: Config, sections: Sections, fit: Fit) -> list[Block]:
    if not summary.candidates:
        return []
    n = sum(len(g.articles) for g in summary.candidates)
    if summary.posted_today:
        title = f"*Today's cards by topic* · {n}"
    else:
        at = _next_post(config, summary.now, config.desk(summary.desk))
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
        lines.append(head + join_fitting(items, fit.line_max - length(head), sep=" · "))
    return _pack(sections, title, lines)


def _next_post(config: Config, now: datetime, desk: Desk | None = None) -> datetime | None:
    """When the desk (the default desk) posts next, if it is scheduled, in the newsroom's
    time zone."""
    cron = (desk or config.default_desk).post
    if not cron:
        return None
    at = next_run(cron, now, config.zone)
    return None if at is None else at.astimezone(config.zone)


def _line(e: DigestEntry, rest: str, fit: Fit) -> str:
    """``• title (quality)`` and the rest of the line; the title's link gets what the rest
    leaves of the line (and shows as text when its URL would not fit)."""
    a = e.post.article
    tail = f" ({quality_text(a.quality)}){rest}"
    budget = fit.line_max - length(tail) - 2
    return f"• {link(a.url, title_of(a), budget, label_max=TITLE_MAX)}{tail}"


def _votes(e: DigestEntry, config: Config, desk: Desk) -> str:
    """The tally in the desk's emoji, without names: a mention in a channel message would
    notify every voter."""
    return votes_text(e.tally, config, names=False, desk=desk)


def _card(e: DigestEntry) -> str:
    return f" · {card_link(e.post.permalink)}" if e.post.permalink else ""


def _more(items: Sequence[object], command: str, fit: Fit) -> list[str]:
    rest = len(items) - fit.shown
    return [f"… and {rest} more: `{escape(command)}`"] if rest > 0 else []


def _days(summary: Summary) -> int:
    return max(1, -(-int((summary.now - summary.since).total_seconds()) // 86_400))
