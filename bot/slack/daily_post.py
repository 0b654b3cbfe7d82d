"""The daily post: the day's candidates go to the channel, each exactly once."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from sqlalchemy.engine import Engine

from bot.candidate_pool import todays_candidates
from bot.config import Config, Desk
from bot.house_rules import candidate_rules
from bot.outages import from_slack, slack_api_problem, slack_unreachable
from bot.rules.schedule import posting_day
from bot.slack.card_blocks import CardState, candidate_card
from bot.slack.card_message import emoji, render_post
from bot.slack.client import without_resend
from bot.slack.day_plan import plan_day, why_none_today
from bot.slack.limits import ensure_fits
from storage import posts
from storage.db import reading
from storage.db_errors import DatabaseError
from storage.installation import installation_id

log = logging.getLogger(__name__)
# Slack's answers that refuse this one message for what it holds, not Slack being down: the
# card is skipped and the day goes on (anything else stops the run, and the next resumes).
REFUSED = frozenset(
    {"invalid_blocks", "invalid_blocks_format", "msg_too_long", "msg_blocks_too_long", "no_text"}
)
# Slack message metadata marks our cards, so a resumed run can find what it already posted:
# the post id, its article and this database's installation id (storage/installation.py).
METADATA_TYPE = "curator_candidate"


@dataclass
class DayReport:
    day: str
    planned: int = 0
    posted: int = 0
    already: int = 0  # posted by an earlier run of the same day
    remaining: int = 0  # not posted because Slack kept failing; the next run resumes
    skipped: int = 0  # could not be built, or Slack refused them: see ``curator status``
    # Why posting stopped early: one line naming the fix (bot.outages), or None.
    error: str | None = None
    posts: list[int] = field(default_factory=list)
    # When the day has no candidate: why, with the counts (see bot.rules.candidates.describe).
    why_none: str | None = None


class CardError(Exception):
    """A card that cannot be built or that Slack's limits refuse; the message says why."""


def post_day(
    engine: Engine, client: WebClient, config: Config, now: datetime, desk: Desk | None = None
) -> DayReport:
    """Post the desk's candidates of the day in its channel (no desk: the default desk); a
    rerun, a restart or a rate limit resumes where it stopped."""
    desk = desk or config.default_desk
    channel = resolve_channel(client, desk.channel)
    _release_earlier(engine, client, desk, channel, posting_day(now, config.zone), now)
    ids, fresh = plan_day(engine, config, now, channel, desk)
    report = _post_pending(engine, client, config, desk, now, channel, ids, fresh=fresh)
    if not ids:
        report.why_none = why_none_today(engine, config, now, desk)
    return report


def _release_earlier(
    engine: Engine, client: WebClient, desk: Desk, channel: str, day: str, now: datetime
) -> None:
    """Cards of an earlier day that never reached Slack: adopt any that did (a crash after
    posting), give the others' articles back to the pool so a later day can offer them.

    A skipped card stays skipped (its article is not offered again as it is), until its
    article changes in the content repo: then the article goes back to the pool too (an
    unpublished card's is given back by the plan itself, bot/slack/day_plan.py).
    """
    _release_changed_skips(engine, day)
    stale = posts.unposted_before(engine, day=day, desk=desk.name)
    if not stale:
        return
    _adopt_posted(engine, client, channel, stale, now, days=7)
    dropped = posts.drop_unposted(engine, post_ids=stale)
    if dropped:
        log.info("%d planned cards of earlier days never reached Slack; back in the pool", dropped)


def _release_changed_skips(engine: Engine, day: str) -> None:
    released = posts.release_changed_skips(engine, before_day=day)
    if released:
        log.info("%d skipped cards' articles changed since; back in the pool", released)


def resume_day(engine: Engine, client: WebClient, config: Config, now: datetime) -> int:
    """Post what each desk's plan of today still lacks (after a crash or Slack trouble);
    never plans. How many cards it posted."""
    return sum(_resume_desk(engine, client, config, desk, now) for desk in config.desks)


def _resume_desk(
    engine: Engine, client: WebClient, config: Config, desk: Desk, now: datetime
) -> int:
    with reading(engine) as tx:
        ids = posts.day_post_ids(tx, day=posting_day(now, config.zone), desk=desk.name)
        if not ids or not posts.any_unposted(tx, post_ids=ids):
            return 0
        channel = posts.channel_of(tx, post_id=ids[0])
    assert channel is not None
    return _post_pending(engine, client, config, desk, now, channel, ids, fresh=False).posted


def _post_pending(
    engine: Engine, client: WebClient, config: Config, desk: Desk, now: datetime,
    channel: str, ids: list[int], *, fresh: bool,
) -> DayReport:  # fmt: skip
    report = DayReport(posting_day(now, config.zone), planned=len(ids), posts=ids)
    with reading(engine) as tx:
        pending = posts.unposted_among(tx, post_ids=ids)
        report.skipped = posts.count_skipped(tx, post_ids=ids)
    report.already = len(ids) - len(pending) - report.skipped
    if pending and not fresh:
        # A run of this day stopped early: it may have posted a card and died before saving
        # its ts. Slack remembers: adopt those messages instead of posting them again.
        report.already += _adopt_posted(engine, client, channel, pending, now)
        with reading(engine) as tx:
            pending = posts.unposted_among(tx, post_ids=ids)
    for i, post_id in enumerate(pending):
        try:
            _post_one(engine, client, config, desk, channel, post_id, now)
        except CardError as exc:
            _skip(engine, post_id, str(exc), now)
            report.skipped += 1
            continue
        except (SlackApiError, OSError) as exc:
            if isinstance(exc, OSError) and not from_slack(exc):
                raise  # not Slack's: a bug or the disk, with its traceback
            report.error = _slack_problem(exc, client)
            report.remaining = len(pending) - i
            log.warning(
                "posting stopped after %d of %d candidates: %s; the next run resumes",
                i, len(pending), report.error,
            )  # fmt: skip
            break
        report.posted += 1
    return report


def _slack_problem(exc: SlackApiError | OSError, client: WebClient) -> str:
    """One line naming what Slack said (or that it did not answer) and the fix."""
    if isinstance(exc, SlackApiError):
        return slack_api_problem(exc)
    return slack_unreachable(exc, client.base_url)


def _post_one(
    engine: Engine, client: WebClient, config: Config, desk: Desk, channel: str, post_id: int,
    now: datetime,
) -> None:  # fmt: skip
    """Post one card; CardError when it cannot be built or Slack refuses what it holds."""

    def render() -> tuple[str, list[Block]]:
        with reading(engine) as tx:
            return render_post(tx, posts.post_by_id(tx, post_id=post_id), config, now)

    text, blocks = build_card(render)
    payload = {
        "post_id": post_id,
        "article_id": posts.article_of(engine, post_id=post_id),
        "installation": installation_id(engine),
    }
    try:
        response = without_resend(client).chat_postMessage(
            channel=channel,
            text=text,
            blocks=blocks,
            unfurl_links=False,
            unfurl_media=False,
            metadata={"event_type": METADATA_TYPE, "event_payload": payload},
        )
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error in REFUSED:
            raise CardError(f"Slack refused the card: {error}") from None
        raise
    ts = response["ts"]
    posts.mark_posted(engine, post_id=post_id, ts=ts, now=now)
    _finish(engine, client, desk, channel, post_id, ts)


def build_card(render: Callable[[], tuple[str, list[Block]]]) -> tuple[str, list[Block]]:
    """(text, blocks) from ``render``, checked against Slack's limits; CardError (one line)
    when the card cannot be built or does not fit, whatever the article made it raise."""
    try:
        text, blocks = render()
        ensure_fits(text, blocks, posted=True)
    except DatabaseError:
        raise  # the database, not the card: the run stops and the next one resumes
    except Exception as exc:  # anything this one article causes must not stop the day
        log.debug("a card could not be built", exc_info=True)
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise CardError(reason) from None
    return text, blocks


def _skip(engine: Engine, post_id: int, reason: str, now: datetime) -> None:
    """Record the skip (``curator status`` lists it) and say it once in the log."""
    path = posts.mark_skipped(engine, post_id=post_id, reason=reason, now=now)
    log.warning("card for %s skipped: %s; the other cards are posted", path, reason)


def _finish(
    engine: Engine, client: WebClient, desk: Desk, channel: str, post_id: int, ts: str
) -> None:
    """Permalink and the bot's one-click reactions; neither is worth failing the post over."""
    try:
        permalink = client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"]
        posts.set_permalink(engine, post_id=post_id, permalink=permalink)
    except SlackApiError as exc:
        log.warning("no permalink for post %s: %s", post_id, exc.response.get("error"))
    marks = emoji(desk)
    for name in (marks.publish, marks.reject):
        try:
            client.reactions_add(channel=channel, timestamp=ts, name=name)
        except SlackApiError as exc:
            if exc.response.get("error") != "already_reacted":
                log.warning("could not add :%s: to post %s: %s", name, post_id, exc)


def _adopt_posted(
    engine: Engine, client: WebClient, channel: str, pending: list[int], now: datetime,
    *, days: int = 1,
) -> int:  # fmt: skip
    """Find cards an interrupted run posted but did not record, by their metadata.

    Only this database's cards, posted by this bot: the author, the installation id and the
    article must match as well as the post id (another app can post any metadata, and can
    read our installation id off any card). A card without an installation id (posted
    before the bot carried one) is never adopted: it may be another database's, and binding
    a post to another article's card would count its votes for the wrong article; the worst
    the other way is one card posted twice, by a run interrupted across the upgrade.
    """
    start = datetime.combine(now.date(), time(), tzinfo=UTC).timestamp() - 86_400 * days
    me = installation_id(engine)
    articles = posts.articles_of(engine, post_ids=pending)
    found: dict[int, str] = {}
    foreign = 0
    cursor = None
    bot_user: str | None = None
    while True:
        page = client.conversations_history(
            channel=channel, oldest=str(start), include_all_metadata=True, limit=200,
            cursor=cursor,
        )  # fmt: skip
        for message in page.get("messages", []):
            payload = _card_payload(message)
            if payload is None or payload["post_id"] not in articles:
                continue
            if bot_user is None:  # asked once, only when there is something to adopt
                bot_user = client.auth_test()["user_id"]
            mine = message.get("user") == bot_user and payload.get("installation") == me
            if mine and payload.get("article_id") == articles[payload["post_id"]]:
                found[payload["post_id"]] = message["ts"]
            else:
                foreign += 1
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    if foreign:
        log.info(
            "%d card(s) in %s carry one of our post ids but were not posted from this "
            "database (another installation, or an older version); not adopted",
            foreign, channel,
        )  # fmt: skip
    for post_id, ts in found.items():
        posts.mark_posted(engine, post_id=post_id, ts=ts, now=now)
        log.info("post %s was already in Slack (ts %s); not posting it again", post_id, ts)
    return len(found)


def _card_payload(message: dict[str, Any]) -> dict[str, Any] | None:
    """The metadata of what looks like one of our cards, or None. Any app can post metadata
    of any shape under our event type: a payload that is not as we write it is not ours."""
    meta = message.get("metadata")
    if not isinstance(meta, dict) or meta.get("event_type") != METADATA_TYPE:
        return None
    payload = meta.get("event_payload")
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            return None
    if not isinstance(payload, dict) or not isinstance(message.get("ts"), str):
        return None
    post_id = payload.get("post_id")
    if not isinstance(post_id, int) or isinstance(post_id, bool):
        return None
    return payload


def resolve_channel(client: WebClient, channel: str) -> str:
    """Events name channels by ID; config may say ``#name``. Slack answers with the ID."""
    if not channel.startswith("#"):
        return channel
    name = channel[1:]
    cursor = None
    while True:
        page = client.conversations_list(
            exclude_archived=True, limit=1000, cursor=cursor, types="public_channel,private_channel"
        )
        for ch in page.get("channels", []):
            if ch.get("name") == name:
                return str(ch["id"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            raise LookupError(
                f"{channel}: no such channel visible to the bot; invite the bot there, or "
                "fix the channel in the config"
            )


def dry_run(engine: Engine, config: Config, now: datetime, desk: Desk | None = None) -> list[dict]:
    """The Block Kit the desk's post would send, without writing or sending anything; a card
    that would be skipped is ``{"path": ..., "skipped": reason}``."""
    desk = desk or config.default_desk

    with reading(engine) as tx:
        chosen = todays_candidates(tx, candidate_rules(config, desk), now=now)
    state = CardState(quorum=desk.votes.quorum)
    out: list[dict] = []
    for article in chosen:
        try:
            text, blocks = build_card(
                lambda a=article: candidate_card(a, state, emoji(desk), config.zone)
            )
        except CardError as exc:
            log.warning("card for %s would be skipped: %s", article.path, exc)
            out.append({"path": article.path, "skipped": str(exc)})
            continue
        out.append({"text": text, "blocks": [b.to_dict() for b in blocks], "path": article.path})
    return out
