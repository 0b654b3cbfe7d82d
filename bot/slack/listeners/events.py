"""Events API: editors vote by reacting to candidate cards."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.slack.voting import apply_reaction

if TYPE_CHECKING:
    from bot.slack.curator import Curator


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
    """Acked already; the vote is recorded on ``curator.events``, after the acks in flight."""
    bot_user = context.bot_user_id

    def work() -> None:
        change = apply_reaction(
            curator.engine,
            curator.config,
            event,
            present=present,
            bot_user=bot_user,
            is_editor=lambda desk, user: curator.editors.contains(desk, user, client),
        )
        if change is not None:
            curator.cards.mark(change.post_id)
            curator.home.poke()  # the Home tabs showing the card follow

    curator.events.submit(str(event.get("type") or "reaction"), work)
