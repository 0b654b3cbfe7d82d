"""Reminders: each editor who has not voted on a card that closes soon gets one direct message
per run listing all such cards (the rule is ``bot.rules.reminders``).

Claim, then send. Every (card, editor) of a message is claimed in the database first
(``storage.reminders.claim``, a unique key with the card's voting round), so two replicas or
a restart never remind twice in a round; a message Slack does not take gives its claims back
for the next run. The one gap left is a process killed between the claim and Slack's
answer: its claims stay, so that editor is not reminded of those cards — never reminded twice
is the promise, and a reminder is a nicety while a duplicate is noise (a claim without
``sent_at`` or ``error`` shows what such a crash left).

A message Slack will never take for that editor (``CANNOT_DM``: no such user, deactivated,
a bot) keeps its claims with Slack's answer: retrying every run would fail and say so every
run. The run's report says it once, with the fix. An answer about the bot's token
(``account_inactive``, ``not_allowed_token_type``, ``invalid_auth``) is no editor's: every
DM fails alike, the run fails naming the fix, and the claims go back, so once the token is
fixed every editor is reminded. Anything else (rate limits, timeouts, Slack unwell) is
retried by the next run.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine

from bot.config import Config, Desk
from bot.house_rules import vote_rules
from bot.outages import SLACK_CODES, Told, slack_fix
from bot.rules.reminders import OpenCard, due_reminders, is_quiet, window_started_between
from bot.rules.tally import tally, voting_closes
from bot.slack.editors import DeskEditors
from bot.slack.reminder_message import RemindedCard, reminder_message
from storage import reminders
from storage.db import reading
from storage.post_views import reactions_for

log = logging.getLogger(__name__)


# Slack's answers to conversations.open or chat.postMessage that no retry changes for this
# editor, and what they mean.
CANNOT_DM = {
    "user_not_found": "no such user",
    "user_disabled": "deactivated",
    "cannot_dm_bot": "a bot",
    "user_not_visible": "hidden from the bot",
}


@dataclass
class ReminderReport:
    messages: int = 0  # direct messages sent, one per editor
    cards: int = 0  # (card, editor) reminders in them
    failed: list[str] = field(default_factory=list)  # "U123: ratelimited", retried
    unreachable: list[str] = field(default_factory=list)  # the fix for one editor, kept
    quiet: list[str] = field(default_factory=list)  # desks in their quiet hours
    fix: str | None = None  # the fix for the first retried failure, when an operator's

    def summary(self) -> str:
        line = f"{self.messages} message(s), {self.cards} card reminder(s)"
        if self.failed:
            line += f"; {len(self.failed)} not sent, retried next run ({self.failed[0]})"
        for fix in self.unreachable:
            line += f"; {fix}"
        if self.quiet:
            line += f"; quiet hours: {', '.join(self.quiet)}"
        return line


def send_reminders(
    engine: Engine, client: WebClient, config: Config, editors: DeskEditors, now: datetime
) -> ReminderReport:
    """Remind every editor of their cards closing soon, in one message each. Raises Told
    when no message could be sent at all (Slack refused each: a scope, a setting to fix)."""
    report = ReminderReport()
    due: dict[str, list[RemindedCard]] = {}
    for desk in config.desks:
        if desk.votes.remind_before is None:
            continue
        if is_quiet(now, desk.votes.quiet_hours, config.zone):
            report.quiet.append(desk.name)
            continue
        for user, cards in _due_in(engine, client, config, desk, editors, now).items():
            due.setdefault(user, []).extend(cards)
    for user in sorted(due):
        cards = sorted(due[user], key=lambda c: (c.closes, c.post_id))
        _remind(engine, client, config, user, cards, now, report)
    if report.failed and not report.messages:
        fix = f": {report.fix}" if report.fix else ""
        raise Told(f"no reminder could be sent{fix}; {report.summary()}")
    return report


def _due_in(
    engine: Engine, client: WebClient, config: Config, desk: Desk, editors: DeskEditors,
    now: datetime,
) -> dict[str, list[RemindedCard]]:  # fmt: skip
    """Editor -> the desk's cards to remind them of now."""
    rules, remind_before = vote_rules(desk), desk.votes.remind_before
    assert remind_before is not None
    after, until = window_started_between(now, window=rules.window, remind_before=remind_before)
    with reading(engine) as conn:
        rows = reminders.open_cards_window_started(conn, desk=desk.name, after=after, until=until)
        if not rows:
            return {}
        ids = [row.id for row in rows]
        votes, done = reactions_for(conn, post_ids=ids), reminders.reminded(conn, post_ids=ids)
    members = editors.of(desk).members(client)  # asked of Slack outside the transaction
    named = None if desk.implicit else desk.name
    shown, open_cards = {}, []
    for row in rows:
        t = tally(votes[row.id], rules)
        closes = voting_closes(row.window_from, rules)
        open_cards.append(OpenCard(row.id, closes, members, frozenset(t.publish + t.reject)))
        shown[row.id] = RemindedCard(row.id, row.title, row.path, row.permalink, named, closes)
    due = due_reminders(open_cards, now=now, remind_before=remind_before, reminded=done)
    return {user: [shown[c.post_id] for c in cards] for user, cards in due.items()}


def _remind(
    engine: Engine, client: WebClient, config: Config, user: str, cards: list[RemindedCard],
    now: datetime, report: ReminderReport,
) -> None:  # fmt: skip
    """Claim ``user``'s reminders of ``cards``, send the one message, keep or give back the
    claims as Slack answers."""
    claimed = set(reminders.claim(engine, user=user, post_ids=[c.post_id for c in cards], now=now))
    mine = [c for c in cards if c.post_id in claimed]  # another run may have claimed some
    if not mine:
        return
    ids = [c.post_id for c in mine]
    posting = False
    try:
        text, blocks = reminder_message(mine, now=now, tz=config.zone, command=config.slack.command)
        channel = client.conversations_open(users=user)["channel"]["id"]
        posting = True
        client.chat_postMessage(channel=channel, text=text, blocks=blocks)
    except SlackApiError as exc:  # Slack answered no: nothing was sent
        error = str(exc.response.get("error") if exc.response is not None else exc)
        if error in CANNOT_DM:  # never: the claims stay, the fix is said once
            reminders.keep_undeliverable(engine, user=user, post_ids=ids, error=error)
            fix = _cannot_dm(config, user, error, [c.desk for c in mine])
            log.warning("%s", fix)
            report.unreachable.append(fix)
            return
        reminders.release(engine, user=user, post_ids=ids)  # the next run retries
        log.warning("could not remind %s of %d card(s): %s", user, len(ids), error)
        report.failed.append(f"{user}: {error}")
        if report.fix is None and error in SLACK_CODES:
            report.fix = slack_fix(error)
        return
    except BaseException as exc:
        # Before the message left, or Slack was never reached: the next run retries. An
        # answer lost on the way back may mean Slack took it: the claim stays (never twice).
        if not posting or _never_reached(exc):
            reminders.release(engine, user=user, post_ids=ids)
        raise
    reminders.mark_sent(engine, user=user, post_ids=ids, now=now)
    report.messages += 1
    report.cards += len(ids)


def _cannot_dm(config: Config, user: str, error: str, desks: list[str | None]) -> str:
    """``reminders: Slack cannot DM U123 (user_not_found: no such user): remove them from
    slack.editors`` — where the config lists them, for the desks of the cards."""
    listed, groups = [], []
    for desk in (config.desk(name) for name in dict.fromkeys(desks)):
        if user not in desk.editors and desk.editor_group:
            groups.append(f"the user group {desk.editor_group}")
        elif not desk.implicit:
            listed.append(desk.name)
    # A desk that names no editors takes slack.editors: the config says which.
    places = ["slack.editors"] if not listed and not groups else []
    if listed:
        noun = "desk" if len(listed) == 1 else "desks"
        places.append(
            f"the editors of {noun} {', '.join(listed)} (desks[].editors or slack.editors)"
        )
    where = " and ".join(places + list(dict.fromkeys(groups)))
    return (
        f"reminders: Slack cannot DM {user} ({error}: {CANNOT_DM[error]}): remove them from {where}"
    )


def _never_reached(exc: BaseException) -> bool:
    """Whether the request surely never reached Slack: refused, or no such host."""
    reason = getattr(exc, "reason", exc)  # urllib's URLError wraps the socket's error
    return isinstance(reason, ConnectionRefusedError | socket.gaierror)
