"""Block Kit for candidate cards: pure functions from an article and its votes to blocks.

Article text goes through ``bot.slack.text`` (inert, escaped, within a budget) and every
part has a budget, so a card fits Slack's limits (``bot.slack.limits``) whatever the article
holds: the title links only when its URL is a web URL short enough to link, the excerpt is
``plain_text`` (shown exactly as typed), topics and related links are cut to fit with
"and N more", and an image URL Slack would refuse is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    ImageElement,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.rules import states
from bot.rules.tally import Tally
from bot.slack.card_facts import NAMES_SHOWN, vetoed_by, who
from bot.slack.limits import SECTION_TEXT_MAX, TEXT_OBJECT_MAX
from bot.slack.text import image_target, join_fitting, link, mrkdwn, plain, shown_items
from storage.articles import ArticleView

# What a card shows at most of each part, measured after escaping; the rest is cut with "…"
# or "and N more". Small enough that a card reads at a glance, and far inside the limits.
TITLE_MAX = 300
EXCERPT_MAX = 600
SOURCE_MAX = 200
TOPIC_MAX = 100  # one topic
TOPICS_MAX = 500  # the topics field
RELATED_SHOWN = 3
RELATED_TITLE_MAX = 150
RELATED_PROVIDER_MAX = 80
NOTE_MAX = 500  # why publishing refused the article
UNSCORED = "unscored"


@dataclass(frozen=True)
class CardState:
    """Where the vote on a card stands."""

    status: str = states.OPEN
    tally: Tally = field(default_factory=Tally)
    quorum: int = 2
    closes_at: datetime | None = None  # end of the voting window
    publish_at: datetime | None = None  # next scheduled publish run
    commit_sha: str | None = None
    commit_url: str | None = None
    note: str | None = None  # e.g. why publishing this article was refused
    # Changed after the votes (bot/slack/revote.py): what changed, the commit seen (with its
    # link when content.commit_url is set), and the votes from before, which no longer count.
    changed: tuple[str, ...] = ()
    changed_sha: str | None = None
    changed_url: str | None = None
    earlier: Tally | None = None


@dataclass(frozen=True)
class Emoji:
    publish: str
    reject: str
    unpublish: str | None = None  # None: the desk takes nothing back by vote


def candidate_card(
    article: ArticleView, state: CardState, emoji: Emoji, tz: ZoneInfo
) -> tuple[str, list[Block]]:
    """The message for one candidate: (fallback text, blocks)."""
    title = title_of(article)
    headline = f"*{link(article.url, title, SECTION_TEXT_MAX - 2, label_max=TITLE_MAX)}*"
    image = _image(article.image_url, title)
    excerpt = plain(article.excerpt, EXCERPT_MAX)
    # The excerpt needs no link, so it is plain_text: shown exactly as typed, never parsed.
    # The image sits beside it (or beside the title when there is no excerpt).
    blocks: list[Block] = [SectionBlock(text=md(headline), accessory=None if excerpt else image)]
    if excerpt:
        blocks.append(
            SectionBlock(text=PlainTextObject(text=excerpt, emoji=False), accessory=image)
        )
    blocks.append(SectionBlock(fields=[md(f) for f in _facts(article, tz)]))
    if article.related:
        blocks.append(ContextBlock(elements=[md(_related(article.related))]))
    blocks.append(ContextBlock(elements=[md(status_line(state, emoji, tz))]))
    if state.status in (
        states.OPEN,
        states.APPROVED,
        states.REJECTED,
        states.BLOCKED,
    ):
        how = (
            f"React :{emoji.publish}: to publish or :{emoji.reject}: to reject. "
            "The bot's own reactions are one-click buttons, not votes."
        )
        blocks.append(ContextBlock(elements=[md(how)]))
    text = f"Candidate ({quality_text(article.quality)}): {mrkdwn(title, TITLE_MAX)}"
    return text, blocks


def md(text: str) -> MarkdownTextObject:
    """A mrkdwn object that Slack does not auto-link or auto-mention (``verbatim``): what it
    shows is what the bot wrote, article text inert through ``bot.slack.text``."""
    return MarkdownTextObject(text=text, verbatim=True)


def title_of(article: ArticleView) -> str:
    """The article's title, or its path when the title is empty once cleaned."""
    return article.title if mrkdwn(article.title, 1) else article.path  # 1: is there any


def quality_text(value: float | None) -> str:
    """The quality score as shown: a number, or "unscored" when the article has none."""
    return UNSCORED if value is None else f"{value:g}"


def _image(url: str | None, title: str) -> ImageElement | None:
    """The article's image beside the card, when Slack would take its URL; else none."""
    target = image_target(url)
    if target is None:
        return None
    return ImageElement(image_url=target, alt_text=plain(title, TITLE_MAX) or "article image")


def _facts(article: ArticleView, tz: ZoneInfo) -> list[str]:
    name = mrkdwn(article.provider_name, SOURCE_MAX)
    domain = mrkdwn(article.provider_domain, SOURCE_MAX)
    source = f"{name} ({domain})" if name and domain else name or domain or "unknown"
    facts = [
        f"*Quality*\n{quality_text(article.quality)}",
        f"*Heat*\n{_number(article.heat)}",
        f"*Source*\n{source}",
    ]
    if article.dated:
        facts.append(f"*Published*\n{article.dated.astimezone(tz):%d %b %Y %H:%M}")
    topics = shown_items(article.topics, lambda t: mrkdwn(t, TOPIC_MAX), TOPICS_MAX)
    facts.append(f"*Topics*\n{topics or '—'}")
    return facts


def _related(related: Sequence[dict[str, Any]]) -> str:
    """Up to three related links with their source and score, as many as fit in one
    context element; the rest are counted ("and N more")."""
    parts = []
    for item in related[:RELATED_SHOWN]:
        text = link(
            item.get("url"), item.get("title"), TEXT_OBJECT_MAX // 2,
            label_max=RELATED_TITLE_MAX,
        )  # fmt: skip
        extra = [mrkdwn(item.get("provider"), RELATED_PROVIDER_MAX)]
        if item.get("quality") is not None:
            extra.append(_number(item["quality"]))
        extra = [e for e in extra if e]
        parts.append((text or "untitled") + (f" ({', '.join(extra)})" if extra else ""))
    head = "Related: "
    return head + join_fitting(parts, TEXT_OBJECT_MAX - len(head), sep=" · ", total=len(related))


def status_line(state: CardState, emoji: Emoji, tz: ZoneInfo) -> str:
    """One line saying where the vote stands, who voted what, and what happens next."""
    votes = (
        f":{emoji.publish}: {len(state.tally.publish)}{who(state.tally.publish)} · "
        f":{emoji.reject}: {len(state.tally.reject)}{who(state.tally.reject)}"
    )
    sha = state.commit_sha or ""
    commit = link(state.commit_url, sha[:7], 500) if state.commit_url else f"`{sha[:7]}`"
    if state.status == states.PUBLISHED:
        back = (
            f" · :{emoji.unpublish}: {len(state.tally.unpublish)}{who(state.tally.unpublish)} "
            f"of {state.quorum} to unpublish"
            if emoji.unpublish
            else ""
        )
        return f"*Published* in {commit} · {votes}{back}"
    if state.status in (states.UNPUBLISHING, states.UNPUBLISHED):
        asked = [f"<@{u}>" for u in state.tally.unpublish[:NAMES_SHOWN]]
        asked += [mrkdwn(state.note, NOTE_MAX)] if state.note else []
        by = f" · asked by {', '.join(asked)}" if asked else ""
        if state.status == states.UNPUBLISHED:
            return f"*Unpublished* in {commit}{by}"
        when = f" {_when(state.publish_at, tz)}" if state.publish_at else ""
        return f"*Unpublishing* · the flag is flipped back by the next publish run{when}{by}"
    if state.status == states.EXPIRED:
        return f"*Expired* without a decision · {votes}"
    note = mrkdwn(state.note, NOTE_MAX)
    if state.status == states.BLOCKED:
        why = f": {note}" if note else ""
        return f"*Approved, not published*{why} · retried when the file changes · {votes}"
    if state.status == states.APPROVED:
        when = f" · to be published {_when(state.publish_at, tz)}" if state.publish_at else ""
        line = f"*Approved*{when} · {votes}"
    elif state.status == states.REJECTED and state.tally.veto:
        line = f"*Vetoed* by {vetoed_by(state.tally)} · {votes}"
    elif state.status == states.REJECTED:
        line = f"*Rejected* · {votes}"
    else:
        closes = f" · voting closes {_when(state.closes_at, tz)}" if state.closes_at else ""
        line = f"*Open* · {votes} · {state.quorum} needed{closes}"
    if note:
        line += f"\n:warning: {note}"
    if state.changed or state.earlier:
        line += "\n" + changed_line(state, emoji)
    return line


def changed_line(state: CardState, emoji: Emoji) -> str:
    """``:pencil2: Changed since the votes: title, body in <commit> · earlier votes: ✅ 2 ·
    ❌ 0, no longer counted``: the keys are config names, the commit a sha or its link. What
    changed goes at the first new vote; the earlier votes stay while they are on the card."""
    earlier = state.earlier or Tally()
    votes = (
        f"votes: :{emoji.publish}: {len(earlier.publish)} · "
        f":{emoji.reject}: {len(earlier.reject)}, no longer counted: vote again "
        "(take your reaction off and put it back)"
    )
    if not state.changed:  # voted on again since: only the earlier votes still there
        return f":pencil2: Earlier {votes}"
    sha = (state.changed_sha or "")[:7]
    commit = ""
    if sha:
        commit = " in " + (link(state.changed_url, sha, 500) if state.changed_url else f"`{sha}`")
    return (
        f":pencil2: *Changed since the votes:* {', '.join(state.changed)}{commit} · earlier {votes}"
    )


def _when(at: datetime | None, tz: ZoneInfo) -> str:
    return f"{at.astimezone(tz):%a %d %b %H:%M}" if at else ""


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"
