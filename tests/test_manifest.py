"""The Slack app manifest asks for exactly what the code uses: scopes, events, commands."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml
from click.testing import CliRunner

from bot.cli.main import cli
from bot.slack.manifest import load_manifest
from tests.conftest import REPO_ROOT

# Slack's documented scope for each Web API method the bot may call.
METHOD_SCOPES: dict[str, set[str]] = {
    "auth.test": set(),
    "chat.getPermalink": set(),
    "chat.postMessage": {"chat:write"},
    "chat.update": {"chat:write"},
    "conversations.history": {"channels:history"},
    "conversations.info": {"channels:read"},
    "conversations.list": {"channels:read"},
    "conversations.open": {"im:write"},
    "reactions.add": {"reactions:write"},
    "reactions.get": {"reactions:read"},
    "usergroups.users.list": {"usergroups:read"},
    "users.info": {"users:read"},
    "views.publish": set(),  # the Home tab; Slack asks no scope for it
}
EVENT_SCOPES: dict[str, set[str]] = {
    "app_home_opened": set(),
    "reaction_added": {"reactions:read"},
    "reaction_removed": {"reactions:read"},
}
SLACK_SDK_HELPERS = {"api_call", "retry_handlers"}


def _sources() -> list[ast.AST]:
    return [ast.parse(p.read_text(), str(p)) for p in sorted((REPO_ROOT / "bot").rglob("*.py"))]


def _name(node: ast.AST) -> str:
    """``client`` for ``client``, ``_client`` for ``self._client``; else empty."""
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else ""


def used_methods() -> set[str]:
    """Web API methods called as ``client.<method>(...)`` anywhere in bot/."""
    methods = set()
    for tree in _sources():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and _name(node.func.value).endswith("client")
                and node.func.attr not in SLACK_SDK_HELPERS
            ):
                methods.add(node.func.attr.replace("_", "."))
    return methods


def registered(kind: str) -> set[str]:
    """Names passed to ``app.event(...)`` / ``app.command(...)`` in bot/."""
    found = set()
    for tree in _sources():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == kind
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "app"
            ):
                arg = node.args[0] if node.args else None
                found.add(arg.value if isinstance(arg, ast.Constant) else "<configured>")
    return found


def test_every_called_method_has_a_known_scope():
    unknown = used_methods() - set(METHOD_SCOPES)
    assert not unknown, f"add these methods and their scopes to METHOD_SCOPES: {unknown}"
    assert {"chat.postMessage", "reactions.get", "chat.update"} <= used_methods()


def test_scopes_are_exactly_what_the_code_needs():
    needed = set().union(*(METHOD_SCOPES[m] for m in used_methods()))
    needed |= set().union(*(EVENT_SCOPES[e] for e in registered("event")))
    if registered("command"):
        needed.add("commands")
    granted = set(load_manifest()["oauth_config"]["scopes"]["bot"])
    assert granted - needed == set(), "manifest asks for scopes the code never uses"
    assert needed - granted == set(), "code needs scopes the manifest does not ask for"


def test_events_and_commands_match_the_listeners():
    manifest = load_manifest()
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == registered("event")
    slash = manifest.get("features", {}).get("slash_commands", [])
    assert len(slash) == len(registered("command"))


def test_home_tab_and_interactivity_match_the_listeners():
    """The Home tab is on exactly when the bot publishes one (``app_home_opened``), and
    interactivity exactly when it has buttons to answer (``app.action``)."""
    manifest = load_manifest()
    home = manifest["features"].get("app_home", {})
    assert home.get("home_tab_enabled", False) is ("app_home_opened" in registered("event"))
    assert "views.publish" in used_methods()
    actions = registered("action")
    assert actions, "the Home tab's buttons have listeners"
    assert manifest["settings"]["interactivity"]["is_enabled"] is bool(actions)
    # The bot writes direct messages (the reminders): the Messages tab where they are read
    # must be on; read-only, since the bot answers nothing written to it.
    assert "conversations.open" in used_methods()
    assert home.get("messages_tab_enabled") is True
    assert home.get("messages_tab_read_only_enabled") is True


def test_socket_mode_matches_the_worker():
    uses_socket_mode = any(
        "SocketModeHandler" in p.read_text() for p in (REPO_ROOT / "bot").rglob("*.py")
    )
    assert load_manifest()["settings"]["socket_mode_enabled"] is uses_socket_mode


def test_manifest_shape():
    manifest = load_manifest()
    assert manifest["_metadata"]["major_version"] == 1
    assert manifest["display_information"]["name"]
    assert manifest["features"]["bot_user"]["display_name"]
    assert set(manifest["settings"]) <= {
        "event_subscriptions", "interactivity", "org_deploy_enabled", "socket_mode_enabled",
        "token_rotation_enabled", "allowed_ip_address_ranges", "is_hosted",
    }  # fmt: skip


def test_curator_manifest_fills_in_http_mode(tmp_path: Path):
    result = CliRunner().invoke(
        cli, ["-c", str(tmp_path / "none.yml"), "manifest", "--url", "https://curator.example.org/"]
    )
    assert result.exit_code == 0, result.output
    printed = yaml.safe_load(result.output)
    assert printed["settings"]["socket_mode_enabled"] is False
    events = printed["settings"]["event_subscriptions"]
    assert events["request_url"] == "https://curator.example.org/slack/events"
    interactivity = printed["settings"]["interactivity"]
    assert interactivity == {
        "is_enabled": True,
        "request_url": "https://curator.example.org/slack/events",
    }
    assert printed["features"]["app_home"]["home_tab_enabled"] is True
    plain = yaml.safe_load(CliRunner().invoke(cli, ["-c", "none.yml", "manifest"]).output)
    assert plain == load_manifest()
