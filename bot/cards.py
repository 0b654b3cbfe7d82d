"""Block Kit for candidate cards: pure functions from an article and its votes to blocks.

Everything that comes from an article is escaped before it goes into mrkdwn, so a title can
never mention ``@channel`` or forge a link: ``&``, ``<`` and ``>`` are the only characters
Slack's mrkdwn treats as control characters.
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
    SectionBlock,
)

from bot.tally import Tally
from storage.models import PostStatus
from storage.queries import ArticleView

RELATED_SHOWN = 3
EXCERPT_MAX = 600


def escape(text: str) -> str:
    """Make article text inert in mrkdwn."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str | None, text: str) -> str:
    """``<url|text>`` for a web URL, else just the escaped text (never a forged link)."""
    shown = escape(text).replace("|", "¦")  # a "|" would end the link text early
    if not url or not url.startswith(("https://", "http://")) or any(c.isspace() for c in url):
        return shown
    safe_url = escape(url).replace("|", "%7C")
    return f"<{safe_url}|{shown}>"


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class CardState:
    """Where the vote on a card stands."""

    status: str = PostStatus.OPEN
    tally: Tally = field(default_factory=Tally)
    quorum: int = 2
    closes_at: datetime | None = None  # end of the voting window
    publish_at: datetime | None = None  # next scheduled publish run
    commit_sha: str | None = None
    commit_url: str | None = None
    note: str | None = None  # e.g. why publishing this article was refused


@dataclass(frozen=True)
class Emoji:
    publish: str
    reject: str


def candidate_card(
    article: ArticleView, state: CardState, emoji: Emoji, tz: ZoneInfo
) -> tuple[str, list[Block]]:
    """The message for one candidate: (fallback text, blocks)."""
    title = article.title or article.path
    headline = f"*{link(article.url, title)}*"
    if article.excerpt:
        headline += "\n" + escape(truncate(article.excerpt, EXCERPT_MAX))
    accessory = None
    if article.image_url and article.image_url.startswith("https://"):
        accessory = ImageElement(image_url=article.image_url, alt_text=truncate(title, 1900))
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=headline), accessory=accessory),
        SectionBlock(fields=[MarkdownTextObject(text=f) for f in _facts(article, tz)]),
    ]
    if article.related:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_related(article.related))]))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=status_line(state, emoji, tz))]))
    if state.status in (
        PostStatus.OPEN,
        PostStatus.APPROVED,
        PostStatus.REJECTED,
        PostStatus.BLOCKED,
    ):
        how = (
            f"React :{emoji.publish}: to publish or :{emoji.reject}: to reject. "
            "The bot's own reactions are one-click buttons, not votes."
        )
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=how)]))
    quality = _number(article.quality)
    text = f"Candidate ({quality}): {escape(truncate(title, 300))}"
    return text, blocks


def _facts(article: ArticleView, tz: ZoneInfo) -> list[str]:
    source = article.provider_name or article.provider_domain or "unknown"
    if article.provider_name and article.provider_domain:
        source = f"{article.provider_name} ({article.provider_domain})"
    facts = [
        f"*Quality*\n{_number(article.quality)}",
        f"*Heat*\n{_number(article.heat)}",
        f"*Source*\n{escape(truncate(source, 200))}",
    ]
    if article.dated:
        facts.append(f"*Published*\n{article.dated.astimezone(tz):%d %b %Y %H:%M}")
    facts.append(f"*Topics*\n{escape(truncate(', '.join(article.topics), 500)) or '—'}")
    return facts


def _related(related: Sequence[dict[str, Any]]) -> str:
    parts = []
    for item in related[:RELATED_SHOWN]:
        text = link(item.get("url"), truncate(item.get("title") or item.get("url") or "", 150))
        extra = [escape(truncate(item["provider"], 80))] if item.get("provider") else []
        if item.get("quality") is not None:
            extra.append(_number(item["quality"]))
        parts.append(text + (f" ({', '.join(extra)})" if extra else ""))
    more = len(related) - RELATED_SHOWN
    tail = f" · and {more} more" if more > 0 else ""
    return "Related: " + " · ".join(parts) + tail


def status_line(state: CardState, emoji: Emoji, tz: ZoneInfo) -> str:
    """One line saying where the vote stands, who voted what, and what happens next."""
    votes = (
        f":{emoji.publish}: {len(state.tally.publish)}{_who(state.tally.publish)} · "
        f":{emoji.reject}: {len(state.tally.reject)}{_who(state.tally.reject)}"
    )
    if state.status == PostStatus.PUBLISHED:
        sha = state.commit_sha or ""
        commit = link(state.commit_url, sha[:7]) if state.commit_url else f"`{sha[:7]}`"
        return f"*Published* in {commit} · {votes}"
    if state.status == PostStatus.EXPIRED:
        return f"*Expired* without a decision · {votes}"
    if state.status == PostStatus.BLOCKED:
        why = f": {escape(state.note)}" if state.note else ""
        return f"*Approved, not published*{why} · retried when the file changes · {votes}"
    if state.status == PostStatus.APPROVED:
        when = f" · to be published {_when(state.publish_at, tz)}" if state.publish_at else ""
        line = f"*Approved*{when} · {votes}"
    elif state.status == PostStatus.REJECTED:
        line = f"*Rejected* · {votes}"
    else:
        closes = f" · voting closes {_when(state.closes_at, tz)}" if state.closes_at else ""
        line = f"*Open* · {votes} · {state.quorum} needed{closes}"
    if state.note:
        line += f"\n:warning: {escape(state.note)}"
    return line


def _who(users: Sequence[str]) -> str:
    return f" ({', '.join(f'<@{u}>' for u in users)})" if users else ""


def _when(at: datetime | None, tz: ZoneInfo) -> str:
    return f"{at.astimezone(tz):%a %d %b %H:%M}" if at else ""


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"
