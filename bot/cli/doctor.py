"""``curator doctor``: every part the bot needs, each line ok or a fix to apply."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine

from bot.candidate_pool import census
from bot.config import Config, ConfigError, Desk, load_config
from bot.house_rules import candidate_rules
from bot.outages import DOCTOR, explain, not_slack, not_slack_problem, slack_unreachable
from bot.rules.candidates import describe
from bot.slack.client import make_client
from bot.slack.daily_post import resolve_channel
from bot.slack.env import api_url
from bot.slack.manifest import manifest_scopes
from storage import migrate
from storage.db import open_kept, reading, redacted
from storage.git_command import GitError
from storage.git_remote import check_remote


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    # ok, but worth a look (no candidate under the current rules): shown, not a failure.
    warn: bool = False


def run_checks(config_path: Path) -> Iterator[Check]:
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        yield Check("config", False, str(exc).replace("\n", "; "))
        return
    yield Check("config", True, f"{config_path}" + "".join(f"; {w}" for w in config.warnings))

    try:
        engine = open_kept(config.database_url)
        current, head = migrate.current_revision(engine), migrate.head_revision()
        if current == head:
            yield Check("database", True, f"{redacted(config.database_url)} at schema {head}")
            yield from _candidates_check(engine, config)
        else:
            yield Check(
                "database", False, f"schema {current or 'empty'} < {head}: run 'curator db upgrade'"
            )
    except Exception as exc:  # any driver error is a finding here, not a crash
        detail = explain(exc, database_url=config.database_url, slack_api_url=api_url())
        yield Check(
            "database",
            False,
            (
                detail or f"{redacted(config.database_url)}: {type(exc).__name__}: {exc}"
            ).removesuffix(f"; {DOCTOR}"),
        )

    try:
        check_remote(config.content.remote, config.content.branch)
        yield Check("content repo", True, f"{config.content.branch} reachable")
    except GitError as exc:
        yield Check("content repo", False, str(exc).removesuffix(f"; {DOCTOR}"))

    token = os.environ.get("SLACK_BOT_TOKEN")
    if not token:
        yield Check("slack", False, "SLACK_BOT_TOKEN not set; Slack checks skipped")
        return
    yield from _slack_checks(make_client(token, api_url()), config)


def _candidates_check(engine: Engine, config: Config) -> Iterator[Check]:
    """Whether the current rules leave any candidate today, and if not, why: one line for
    each desk."""
    for desk in config.desks:
        rules = candidate_rules(config, desk)
        with reading(engine) as conn:
            counts = census(conn, rules, now=datetime.now(UTC))
        line = describe(counts, rules)
        if not desk.implicit:
            line = f"{desk.name} desk: {line}"
        if counts.qualify:
            yield Check("candidates", True, line)
        else:
            where = config.path or "curator.yml"
            yield Check("candidates", True, f"{line}; see candidates: in {where}", warn=True)


def _slack_checks(client: WebClient, config: Config) -> Iterator[Check]:

    try:
        auth = client.auth_test()
    except SlackApiError as exc:
        if not_slack(exc):
            detail = not_slack_problem(exc).removesuffix(f"; {DOCTOR}")
        else:
            detail = f"auth.test: {exc.response.get('error')}; check SLACK_BOT_TOKEN"
        yield Check("slack auth", False, detail)
        return
    except OSError as exc:  # URLError too: Slack, or the way to it, is down
        detail = slack_unreachable(exc, client.base_url).removesuffix(f"; {DOCTOR}")
        yield Check("slack auth", False, detail)
        return
    yield Check("slack auth", True, f"bot {auth['user']} in team {auth['team']}")
    headers = {k.lower(): v for k, v in (auth.headers or {}).items()}
    scopes = headers.get("x-oauth-scopes") or ""
    granted = {s.strip() for s in (scopes if isinstance(scopes, str) else scopes[0]).split(",")}
    missing = manifest_scopes() - granted
    if missing:
        yield Check(
            "slack scopes",
            False,
            f"missing {', '.join(sorted(missing))}: "
            "update the app from `curator manifest` and reinstall it",
        )
    else:
        yield Check("slack scopes", True, "every scope in the manifest is granted")
    # Each desk's channel, one line each; slack.channel, where failures are told, when it is
    # no desk's; and the newsroom summary's.
    channels = [
        (desk.channel, "" if desk.implicit else f"{desk.name} desk: ") for desk in config.desks
    ]
    if config.desk_in(config.slack.channel) is None:
        channels.append((config.slack.channel, "failure notices: "))
    if config.slack.summary_channel is not None:
        channels.append((config.slack.summary_channel, "newsroom summary: "))
    for channel, whose in channels:
        yield _channel_check(client, channel, whose)
    yield from _editor_checks(client, config)


def _channel_check(client: WebClient, channel: str, whose: str) -> Check:
    try:
        channel_id = resolve_channel(client, channel)
        info = client.conversations_info(channel=channel_id)["channel"]
    except LookupError as exc:  # names the channel
        return Check("slack channel", False, f"{whose}{exc}")
    except SlackApiError as exc:
        return Check("slack channel", False, f"{whose}{channel}: {exc}")
    if info.get("is_member"):
        return Check("slack channel", True, f"{whose}{channel} ({channel_id}), bot is a member")
    return Check(
        "slack channel", False, f"{whose}invite the bot: /invite @Newsroom Curator in {channel}"
    )


def _editor_checks(client: WebClient, config: Config) -> Iterator[Check]:
    """Every editor a desk lists by ID is a user of this workspace (users.info); one line
    for each that is not, naming the desk and the fix."""
    desks_of: dict[str, list[Desk]] = {}
    for desk in config.desks:
        for user in desk.editors:
            desks_of.setdefault(user, []).append(desk)
    if not desks_of:
        return
    missing = 0
    for user, desks in desks_of.items():
        try:
            found = client.users_info(user=user)["user"]
            problem = "is deactivated" if found.get("deleted") else None
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error != "user_not_found":
                yield Check("slack editors", False, f"users.info {user}: {error}")
                return
            problem = "is no user of this workspace"
        if problem is None:
            continue
        missing += 1
        for desk in desks:
            where = "slack.editors" if desk.implicit else f"the {desk.name} desk's editors"
            yield Check(
                "slack editors",
                False,
                f"{user} in {where} {problem}: fix the ID in {config.path or 'curator.yml'} "
                "(profile > More > Copy member ID)",
            )
    if not missing:
        yield Check("slack editors", True, f"{len(desks_of)} editor(s), each a user here")
