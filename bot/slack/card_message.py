"""A post's Slack message, rendered from what the database knows right now."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from sqlalchemy.engine import Engine

from bot.config import Config, Desk
from bot.house_rules import vote_rules
from bot.rules import states
from bot.rules.schedule import next_run
from bot.rules.tally import VoteRules, tally, voting_closes
from bot.slack.card_blocks import CardState, Emoji, candidate_card
from bot.slack.limits import message_problems
from storage import posts, publish_log
from storage.articles import ArticleView, article_view, article_views
from storage.db import Transaction, reading
from storage.models import as_utc
from storage.post_views import reactions_for
from storage.records import PostRecord
from storage.revotes import revote_note
from storage.unpublish import requested_by
from storage.votes import Reaction, earlier_reactions_of, reactions_of

log = logging.getLogger(__name__)


def emoji(desk: Desk) -> Emoji:
    """The reactions the bot adds to a desk's cards for one-click votes."""
    back = desk.votes.unpublish[0] if desk.votes.unpublish else None
    return Emoji(desk.votes.publish[0], desk.votes.reject[0], back)


# Every card shows the next publish run, the same for all until it passes; finding it walks
# the crontab (a good part of a card refresh's CPU). So the answer is kept with the time it
# was asked at: for any time from then until that run, the first run after it is the same.
_NEXT_RUN: dict[tuple[str, str], tuple[datetime, datetime | None]] = {}


def next_publish_run(config: Config, now: datetime) -> datetime | None:
    cron = config.schedule.publish
    if not cron:
        return None
    key = (cron, str(config.zone))
    kept = _NEXT_RUN.get(key)
    if kept is not None:
        asked, upcoming = kept
        if upcoming is not None and asked <= now < upcoming:
            return upcoming
    upcoming = next_run(cron, now, config.zone)
    _NEXT_RUN[key] = (now, upcoming)  # one tuple, replaced whole: safe across threads
    return upcoming


def render_post(
    tx: Transaction, post: PostRecord, config: Config, now: datetime
) -> tuple[str, list[Block]]:
    """(fallback text, blocks) for ``post`` as it stands (its row read on ``tx``)."""
    article = article_view(tx, article_id=post.article_id)
    assert article is not None, f"post {post.id} has no article"
    return _render(tx, post, article, reactions_of(tx, post_id=post.id), config, now)


def refresh_cards(
    engine: Engine, client: WebClient, config: Config, post_ids: list[int], now: datetime
) -> None:
    """Refresh the cards of ``post_ids`` (those due together: ``CardRefresher``): their
    posts, articles and votes read in one transaction, a statement each for all of them,
    then one ``chat.update`` per card. A card that cannot be rendered is logged and skipped."""
    rendered: list[tuple[PostRecord, str, list[Block]]] = []
    left: list[PostRecord] = []
    with reading(engine) as tx:
        found = {p.id: p for p in posts.posts_by_ids(tx, post_ids=post_ids)}
        cards = [found[i] for i in post_ids if i in found]  # in the order they came due
        articles = {a.id: a for a in article_views(tx, ids=sorted({p.article_id for p in cards}))}
        votes = reactions_for(tx, post_ids=[p.id for p in cards])
        for i, post in enumerate(cards):
            try:
                article = articles[post.article_id]
                text, blocks = _render(tx, post, article, votes[post.id], config, now)
            except Exception:  # one card failing must not stop the others
                log.exception("could not render the card of post %s", post.id)
                # A database error aborts the whole transaction on PostgreSQL: every later
                # card that reads anything would fail with it. The rest, one at a time.
                left = cards[i + 1 :]
                break
            rendered.append((post, text, blocks))
    for post in left:
        try:
            with reading(engine) as tx:
                rendered.append((post, *render_post(tx, post, config, now)))
        except Exception:
            log.exception("could not render the card of post %s", post.id)
    for post, text, blocks in rendered:
        update_message(client, channel=post.channel, ts=str(post.ts), text=text, blocks=blocks)


def _render(
    tx: Transaction, post: PostRecord, article: ArticleView, reactions: list[Reaction],
    config: Config, now: datetime,
) -> tuple[str, list[Block]]:  # fmt: skip
    """The card of ``post`` from its article and the reactions that count; ``tx`` reads
    what only a few cards show (a change after the votes, why it was blocked)."""
    opened = as_utc(post.voting_from)  # a card sent back to a vote closes a window after
    assert opened is not None
    desk = config.desk(post.desk)
    rules = vote_rules(desk)
    state = CardState(
        status=post.status,
        tally=tally(reactions, rules),
        quorum=rules.quorum,
        closes_at=voting_closes(opened, rules),
        publish_at=next_publish_run(config, now),
        commit_sha=post.commit_sha,
        commit_url=config.content.commit_link(post.commit_sha) if post.commit_sha else None,
        note=_latest_note(tx, post.id, post.status),
        **_changed(tx, post.id, post.votes_since, config, rules),
    )
    return candidate_card(article, state, emoji(desk), config.zone)


def _changed(
    tx: Transaction, post_id: int, since: str | None, config: Config, rules: VoteRules
) -> dict[str, Any]:
    """What the card says of a change after the votes (bot/slack/revote.py), if any: what
    changed until the first new vote, the votes from before it as long as they are there."""
    if since is None:
        return {}
    earlier = tally(earlier_reactions_of(tx, post_id=post_id), rules)
    note = revote_note(tx, post_id=post_id)
    if note is None or not note.keys:
        return {"earlier": earlier} if earlier.publish or earlier.reject else {}
    return {
        "changed": note.keys,
        "changed_sha": note.commit,
        "changed_url": config.content.commit_link(note.commit) if note.commit else None,
        "earlier": earlier,
    }


def _latest_note(tx: Transaction, post_id: int, status: str) -> str | None:
    """Why a blocked post was not published: the cause of its move to ``blocked``; who asked
    to unpublish a post (an operator's ``curator unpublish``)."""
    if status in (states.UNPUBLISHING, states.UNPUBLISHED):
        by = requested_by(tx, post_id=post_id)
        return f"{by} (curator unpublish)" if by else None
    if status != states.BLOCKED:
        return None
    return publish_log.block_cause(tx, post_id=post_id)


def update_message(
    client: WebClient, *, channel: str, ts: str, text: str, blocks: list[Block]
) -> bool:
    """Refresh a card; a failure is logged, not raised: the next change or reconcile retries."""
    problems = message_problems(text, blocks, posted=True)
    if problems:  # built to fit; never send what Slack would refuse
        log.warning("not updating message %s in %s: %s", ts, channel, problems[0])
        return False
    try:
        client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
    except SlackApiError as exc:
        log.warning("could not update message %s in %s: %s", ts, channel, exc.response["error"])
        return False
    except OSError as exc:  # Slack unreachable even after the client's retries
        log.warning("could not update message %s in %s: %s", ts, channel, exc)
        return False
    return True
