"""The Slack app manifest, filled in for this deployment."""

from __future__ import annotations

from typing import Any

import yaml

from bot.slack.env import MANIFEST


def load_manifest() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def render_manifest(*, command: str, base_url: str | None) -> str:
    """The manifest as YAML; with ``base_url``, for HTTP mode instead of Socket Mode."""
    manifest = load_manifest()
    for slash in manifest.get("features", {}).get("slash_commands", []):
        slash["command"] = command
        if base_url:
            slash["url"] = base_url.rstrip("/") + "/slack/events"
    if base_url:
        settings = manifest["settings"]
        settings["socket_mode_enabled"] = False
        settings["event_subscriptions"]["request_url"] = base_url.rstrip("/") + "/slack/events"
        # Button presses come to the same endpoint: Bolt tells them from events.
        settings["interactivity"]["request_url"] = base_url.rstrip("/") + "/slack/events"
    return yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True)


def manifest_scopes() -> set[str]:
    return set(load_manifest()["oauth_config"]["scopes"]["bot"])
