"""The Home tab: a reader's queue when they open it, and its Publish / Reject (and, for a
desk's chiefs, Veto) buttons."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.rules.tally import PUBLISH, REJECT, VETO
from bot.slack.button_votes import CLOSED, COUNTED, NO_VETO, REFUSED, UNKNOWN, apply_button
from bot.slack.home_view import PUBLISH_ACTION, REJECT_ACTION, VETO_ACTION

if TYPE_CHECKING:
    from bot.slack.curator import Curator

log = logging.getLogger(__name__)

# ASCII digits only (str.isdigit takes "²", which int() does not), and not too many for the
# integer column.
POST_ID = re.compile(r"[0-9]{1,12}")
ACTION_TS = re.compile(r"[0-9]{1,12}\.[0-9]{1,9}")


def register(app: App, curator: Curator) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any]) -> None:
        """An editor opens the bot's Home tab: their queue is published (off this path)."""
        if event.get("tab") == "home" and event.get("user"):
            curator.home.opened(str(event["user"]))

    @app.action(PUBLISH_ACTION)
    def publish_button(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """**Publish** on a waiting card: a vote, as the card's publish reaction is."""
        ack()
        _vote(curator, body, client, PUBLISH)

    @app.action(REJECT_ACTION)
    def reject_button(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """**Reject** on a waiting card: a vote, as the card's reject reaction is."""
        ack()
        _vote(curator, body, client, REJECT)

    @app.action(VETO_ACTION)
    def veto_button(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """**Veto** on a waiting card (shown to the desk's chiefs): as the veto reaction is."""
        ack()
        _vote(curator, body, client, VETO)


def _vote(curator: Curator, body: dict[str, Any], client: WebClient, choice: str) -> None:
    user = str((body.get("user") or {}).get("id") or "")
    action = (body.get("actions") or [{}])[0]
    value = str(action.get("value") or "")
    action_ts = str(action.get("action_ts") or "")
    if not user:
        return
    # What the bot put in the button, and a Slack timestamp (the tally orders votes by it):
    # anything else was never ours to count, and is not stored.
    if not (POST_ID.fullmatch(value) and ACTION_TS.fullmatch(action_ts)):
        log.warning(
            "refused a Home tab press by %s: not a button of ours (value %r, action_ts %r)",
            user, value[:40], action_ts[:40],
        )  # fmt: skip
        return
    vote = apply_button(
        curator.engine, curator.config, post_id=int(value), user=user, choice=choice,
        action_ts=action_ts,
        is_editor=lambda desk, who: curator.editors.contains(desk, who, client),
    )  # fmt: skip
    notice = None
    if vote.outcome == COUNTED and vote.post_id is not None:
        curator.cards.mark(vote.post_id)  # the card in the channel shows the vote
        curator.home.poke()  # and every Home tab showing the card
    elif vote.outcome == CLOSED:
        notice = f"That card closed ({vote.status}) before your vote; nothing was counted."
    elif vote.outcome == NO_VETO:
        notice = f"The {vote.desk} desk has no veto (votes.veto); nothing was counted."
    elif vote.outcome == REFUSED:
        if choice == VETO:
            log.warning("refused a Home tab veto by %s on post %s: not a chief", user, value)
            notice = f"Only the {vote.desk} desk's chiefs veto its cards; nothing was counted."
        else:
            log.warning("refused a Home tab vote by %s on post %s: not an editor", user, value)
            notice = f"Only the {vote.desk} desk's editors vote on that card; nothing was counted."
    elif vote.outcome == UNKNOWN:
        notice = "That card is no longer in curation; nothing was counted."
    curator.home.opened(user, notice)  # a press means they are looking at it
