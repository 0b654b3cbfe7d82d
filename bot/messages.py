"""A post's Slack message, rendered from what the database knows right now."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from sqlalchemy import Connection, select

from bot.cards import CardState, Emoji, candidate_card
from bot.config import Config
from bot.tally import VoteRules, tally
from storage.models import Decision, Post, as_utc
from storage.queries import article_view
from storage.votes import reactions_of

log = logging.getLogger(__name__)


def vote_rules(config: Config) -> VoteRules:
    v = config.votes
    return VoteRules(frozenset(v.publish), frozenset(v.reject), v.quorum)


def emoji(config: Config) -> Emoji:
    return Emoji(config.votes.publish[0], config.votes.reject[0])


def next_publish_run(config: Config, now: datetime) -> datetime | None:
    if not config.schedule.publish:
        return None
    trigger = CronTrigger.from_crontab(config.schedule.publish, timezone=config.zone)
    return trigger.get_next_fire_time(None, now)


def render_post(
    conn: Connection, post_id: int, config: Config, now: datetime
) -> tuple[str, list[Block]]:
    """(fallback text, blocks) for a post as it stands."""
    post = conn.execute(select(Post.__table__).where(Post.__table__.c.id == post_id)).one()
    article = article_view(conn, post.article_id)
    assert article is not None, f"post {post_id} has no article"
    created = as_utc(post.created_at)
    assert created is not None
    state = CardState(
        status=post.status,
        tally=tally(reactions_of(conn, post_id), vote_rules(config)),
        quorum=config.votes.quorum,
        closes_at=created + timedelta(days=config.votes.window_days),
        publish_at=next_publish_run(config, now),
        commit_sha=post.commit_sha,
        commit_url=config.content.commit_link(post.commit_sha) if post.commit_sha else None,
        note=_latest_note(conn, post_id),
    )
    return candidate_card(article, state, emoji(config), config.zone)


def _latest_note(conn: Connection, post_id: int) -> str | None:
    """A warning recorded for the post (e.g. publishing refused), shown until it moves on."""
    d = Decision.__table__
    row = conn.execute(
        select(d.c.cause, d.c.to_status).where(d.c.post_id == post_id).order_by(d.c.id.desc())
    ).first()
    if row and row.cause.startswith("warning: "):
        return row.cause.removeprefix("warning: ")
    return None


def update_message(
    client: WebClient, *, channel: str, ts: str, text: str, blocks: list[Block]
) -> bool:
    """Refresh a card; a failure is logged, not raised: the next change or reconcile retries."""
    try:
        client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
    except SlackApiError as exc:
        log.warning("could not update message %s in %s: %s", ts, channel, exc.response["error"])
        return False
    except OSError as exc:  # Slack unreachable even after the client's retries
        log.warning("could not update message %s in %s: %s", ts, channel, exc)
        return False
    return True
