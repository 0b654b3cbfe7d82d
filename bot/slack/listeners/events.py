"""Events API: editors vote by reacting to candidate cards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.slack.voting import reaction_of, record_votes

if TYPE_CHECKING:
    from bot.slack.curator import Curator


@dataclass(frozen=True)
class ReactionEvent:
    """A reaction event, acked, waiting on ``curator.events`` for its vote to be recorded."""

    event: dict[str, Any]
    present: bool
    bot_user: str | None
    client: WebClient  # Bolt's, for this request: asks Slack who is in a user group


def register(app: App, curator: Curator) -> None:
    @app.event("reaction_added")
    def reaction_added(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        """An editor's ✅ or ❌ on a card counts as their vote."""
        _handle(curator, event, client, context, present=True)

    @app.event("reaction_removed")
    def reaction_removed(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        """Taking the reaction back withdraws the vote."""
        _handle(curator, event, client, context, present=False)


def _handle(
    curator: Curator, event: dict[str, Any], client: WebClient, context: BoltContext, *,
    present: bool,
) -> None:  # fmt: skip
    """Acked already; the vote is recorded on ``curator.events``, after the acks in flight
    (``bot.slack.acks_first``)."""
    item = ReactionEvent(event, present, context.bot_user_id, client)
    curator.events.submit(str(event.get("type") or "reaction"), item)


def record_reactions(curator: Curator, events: list[ReactionEvent]) -> None:
    """Record the votes among ``events``, in order, in one transaction; their cards and the
    Home tabs showing them follow. Who is an editor is asked first, before any card is locked."""
    votes = []
    for e in events:

        def is_editor(desk: Any, user: str, client: WebClient = e.client) -> bool:
            return bool(curator.editors.contains(desk, user, client))

        vote = reaction_of(
            curator.config, e.event, present=e.present, bot_user=e.bot_user, is_editor=is_editor
        )
        if vote is not None:
            votes.append(vote)
    if not votes:
        return
    changes = record_votes(curator.engine, curator.config, votes)
    for change in changes:
        curator.cards.mark(change.post_id)
    if changes:
        curator.home.poke()  # the Home tabs showing the cards follow
