"""Slack credentials from the environment, with a helpful message when they are missing."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

# manifests/slack-app.yml of the repo, shipped in the wheel as bot.manifests (pyproject.toml).
MANIFEST = resources.files("bot.manifests") / "slack-app.yml"


DEFAULT_API_URL = "https://slack.com/api/"


def api_url(env: Mapping[str, str] | None = None) -> str:
    """``SLACK_API_URL`` lets a stand-in (tests, a proxy) replace Slack's Web API."""
    url = (env if env is not None else os.environ).get("SLACK_API_URL") or DEFAULT_API_URL
    return url if url.endswith("/") else url + "/"


class MissingSecrets(RuntimeError):
    """Which variables to set, and where the app manifest is."""


@dataclass(frozen=True)
class SlackEnv:
    bot_token: str
    app_token: str | None
    signing_secret: str | None
    api_url: str


def slack_env(*, need: tuple[str, ...], env: Mapping[str, str] | None = None) -> SlackEnv:
    """Read the Slack secrets; ``need`` names the variables this mode cannot run without."""
    env = os.environ if env is None else env
    missing = [name for name in need if not env.get(name)]
    if missing:
        raise MissingSecrets(
            f"set {', '.join(missing)} in the environment. Create the Slack app from the "
            "manifest `curator manifest` prints (see the README, 'Create the Slack app'), "
            "install it to your workspace, then copy the bot token (xoxb-...), the app-level "
            "token with connections:write (xapp-..., Socket Mode) or the signing secret "
            "(HTTP mode)."
        )
    return SlackEnv(
        bot_token=env.get("SLACK_BOT_TOKEN", ""),
        app_token=env.get("SLACK_APP_TOKEN") or None,
        signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
        api_url=api_url(env),
    )
