"""The morning summaries as they are sent: each desk's in its own channel and, when
``slack.summary_channel`` is set, the newsroom's there, every desk under a header of its own.

One summary that Slack refuses (the bot is not in that desk's channel, the channel is gone)
does not keep the others from theirs: every one is sent, and the refusals are told afterwards
in one line naming the fix (``SummaryReport.check``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, PlainTextObject
from sqlalchemy.engine import Engine

from bot.config import Config, Desk
from bot.outages import Told, slack_api_problem
from bot.slack.card_blocks import md
from bot.slack.daily_post import resolve_channel
from bot.slack.limits import (
    MESSAGE_BLOCKS_MAX,
    MESSAGE_TEXT_MAX,
    POSTED_TEXT_MAX,
    ensure_fits,
    text_length,
)
from bot.slack.sections import Sections
from bot.slack.summary import Summary, build_summary
from bot.slack.summary_message import (
    TIP_MAX,
    Fit,
    counts_of,
    summary_lists,
    summary_message,
    tip_block,
)
from bot.slack.text import escape, join_fitting
from bot.slack.time_words import format_when
from storage.db import reading

NEWSROOM = "newsroom"
QUIET_DESK = "Nothing was decided or published; no cards are waiting."
# Every desk's summary in one message: the first lines of each list, each line shorter (a
# long link shows as text); the rest is in the desk's own summary and one /digest away.
NEWSROOM_FIT = Fit(shown=3, line_max=600)


@dataclass(frozen=True)
class Outgoing:
    """One summary ready to send: whose (a desk's name, or ``NEWSROOM``), where, what."""

    where: str
    channel: str
    text: str
    blocks: list[Block]
    desk: Desk | None = None  # None: the newsroom's


@dataclass(frozen=True)
class Sent:
    """Where one summary went: its ts, or the one line saying why Slack refused it."""

    where: str
    channel: str
    ts: str | None = None
    problem: str | None = None


class SummaryError(Told):
    """Slack refused some of the summaries; the message says which, why, and what was sent."""


@dataclass(frozen=True)
class SummaryReport:
    sent: tuple[Sent, ...]

    @property
    def failed(self) -> list[Sent]:
        return [s for s in self.sent if s.problem]

    def detail(self) -> str:
        """``posted: AI, Policy, newsroom``, the refusals first (each naming its fix)."""
        posted = [s.where for s in self.sent if not s.problem]
        parts = [s.problem for s in self.failed if s.problem]
        if posted:
            parts.append("posted: " + ", ".join(posted))
        return "; ".join(parts)

    def check(self) -> SummaryReport:
        """Raise SummaryError when Slack refused any of them."""
        if self.failed:
            raise SummaryError(self.detail())
        return self


def summary_messages(
    engine: Engine, config: Config, *, since: datetime, now: datetime, desk: Desk | None = None,
    newsroom: bool = False,
) -> list[Outgoing]:  # fmt: skip
    """``desk``'s summary, or with ``newsroom`` the newsroom's alone; with neither, every
    desk's and the newsroom's (when ``slack.summary_channel`` is set), in that order."""
    desks = [desk] if desk is not None else list(config.desks)
    with reading(engine) as conn:
        summaries = [build_summary(conn, config, since=since, now=now, desk=d) for d in desks]
    out = [
        Outgoing(d.name, d.channel, *summary_message(s, config), desk=d)
        for d, s in zip(desks, summaries, strict=True)
        if not newsroom
    ]
    if desk is None and config.slack.summary_channel:
        text, blocks = newsroom_message(summaries, config)
        out.append(Outgoing(NEWSROOM, config.slack.summary_channel, text, blocks))
    return out


def post_summary(
    engine: Engine,
    client: WebClient,
    config: Config,
    *,
    since: datetime,
    now: datetime,
    desk: Desk | None = None,
    newsroom: bool = False,
) -> SummaryReport:
    """Post the summaries of everything since ``since`` (see :func:`summary_messages`).

    The scheduler passes the slot of the previous summary as ``since``; running it twice for
    one slot is the scheduler's to prevent (its job-run key), not this function's. A lone
    summary that Slack refuses raises Slack's error as it is; among several, each refusal is
    kept in the report and the others are still sent.
    """
    outgoing = summary_messages(engine, config, since=since, now=now, desk=desk, newsroom=newsroom)
    sent = []
    for o in outgoing:
        ensure_fits(o.text, o.blocks, posted=True)  # built to fit; the last look before it leaves
        try:
            channel = resolve_channel(client, o.channel)
            response = client.chat_postMessage(
                channel=channel, text=o.text, blocks=o.blocks, unfurl_links=False,
                unfurl_media=False,
            )  # fmt: skip
        except (SlackApiError, LookupError) as exc:
            if len(outgoing) == 1:
                raise
            sent.append(Sent(o.where, o.channel, problem=_refused(o, exc, config)))
            continue
        sent.append(Sent(o.where, o.channel, ts=str(response["ts"])))
    return SummaryReport(tuple(sent))


def _refused(o: Outgoing, exc: Exception, config: Config) -> str:
    """One line: whose summary, where (and the key that names it), what Slack said, the fix."""
    if o.desk is None:
        whose = f"the newsroom summary was not posted to {o.channel} (slack.summary_channel)"
    else:
        at = "slack.channel" if o.desk.implicit else f"desks[{config.desks.index(o.desk)}].channel"
        whose = f"the {o.desk.name} desk's summary was not posted to {o.channel} ({at})"
    problem = slack_api_problem(exc) if isinstance(exc, SlackApiError) else str(exc)
    return f"{whose}: {problem}"


# ------------------------------------------------------------------------ the newsroom's


def newsroom_message(summaries: Sequence[Summary], config: Config) -> tuple[str, list[Block]]:
    """(fallback text, blocks) for ``slack.summary_channel``: every desk's summary under a
    header of its own, in config order, sharing one message's blocks and text fairly."""
    first = summaries[0]
    tz, now = config.zone, first.now
    since = format_when(first.since, tz, now)
    totals = counts_of(_merged(summaries))
    n = len(summaries)
    said = " · ".join(totals) or "nothing was decided or published; no cards are waiting"
    top: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=f"Newsroom summary · {now.astimezone(tz):%A %d %B}")),
        ContextBlock(elements=[md(f"Since {since} · {n} desk{'' if n == 1 else 's'} · {said}")]),
    ]
    heads = [_desk_head(s, config) for s in summaries]
    blocks_left = MESSAGE_BLOCKS_MAX - len(top) - 1  # and the closing tip
    text_left = POSTED_TEXT_MAX - TIP_MAX - text_length([b.to_dict() for b in top])
    # Every desk shown gets its header first; what is left is shared among them.
    shown = 0
    for head in heads:
        cost = text_length([b.to_dict() for b in head])
        if blocks_left < len(head) or text_left < cost:
            break
        blocks_left, text_left, shown = blocks_left - len(head), text_left - cost, shown + 1
    blocks = list(top)
    omitted = 0
    for i, (summary, head) in enumerate(zip(summaries[:shown], heads, strict=False)):
        left = shown - i
        sections = Sections(blocks_left // left, text_left // left)
        share = (sections.blocks_left, sections.text_left or 0)
        blocks += head
        scope = _scope(config, summary)
        blocks += summary_lists(summary, config, sections, scope=scope, fit=NEWSROOM_FIT)
        blocks_left -= share[0] - sections.blocks_left
        text_left -= share[1] - (sections.text_left or 0)
        omitted += sections.omitted
    extra = ""
    if shown < n:
        names = join_fitting([escape(s.desk or "") for s in summaries[shown:]], 150)
        extra = f"{n - shown} more desks did not fit ({names}): see their channels. "
    blocks.append(tip_block(config, omitted, extra))
    parts = [
        f"{escape(s.desk or '')}: {', '.join(counts_of(s)) or 'nothing new'}" for s in summaries
    ]
    prefix = "Newsroom summary: "
    return prefix + join_fitting(parts, MESSAGE_TEXT_MAX - 100, sep="; "), blocks


def _desk_head(summary: Summary, config: Config) -> list[Block]:
    desk = config.desk(summary.desk)
    counts = counts_of(summary)
    said = " · ".join(counts) if counts else QUIET_DESK
    return [
        HeaderBlock(text=PlainTextObject(text=desk.name)),  # plain text: nothing to escape
        ContextBlock(elements=[md(f"{escape(desk.channel)} · {said}")]),
    ]


def _scope(config: Config, summary: Summary) -> str:
    """The /digest filter for the desk (quoted when its name has a space)."""
    name = config.desk(summary.desk).name
    return f' desk:"{name}"' if " " in name else f" desk:{name}"


def _merged(summaries: Sequence[Summary]) -> Summary:
    """Every desk's lists in one, to count them."""
    first = summaries[0]
    return Summary(
        since=first.since, now=first.now,
        published=[e for s in summaries for e in s.published],
        rejected=[e for s in summaries for e in s.rejected],
        expired=[e for s in summaries for e in s.expired],
        approved=[e for s in summaries for e in s.approved],
        waiting=[e for s in summaries for e in s.waiting],
        candidates=[], posted_today=False,
    )  # fmt: skip
