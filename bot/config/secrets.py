"""Secrets never live in curator.yml: every string in it, keys and values at any depth, is
checked for credentials, and secret-looking key names are refused.

Slack tokens come from ``SLACK_BOT_TOKEN``, ``SLACK_APP_TOKEN`` and ``SLACK_SIGNING_SECRET``,
database credentials from ``DATABASE_URL``, git credentials from the bot user's SSH key or
credential helper. A credential is an error that names the key and the kind of credential,
never the value, and nothing else is said about that key: a "did you mean" or "got ..."
would only repeat it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storage.credentials import URL_PASSWORD, URL_QUERY_PASSWORD, find_credential, find_credentials

# Secret-looking keys, and the environment variable that should hold the secret instead.
_SECRET_KEYS = {
    "token": "SLACK_BOT_TOKEN",
    "bot_token": "SLACK_BOT_TOKEN",
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "access_token": "SLACK_BOT_TOKEN",
    "app_token": "SLACK_APP_TOKEN",
    "slack_app_token": "SLACK_APP_TOKEN",
    "signing_secret": "SLACK_SIGNING_SECRET",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
    "secret": "SLACK_SIGNING_SECRET",
    "password": "DATABASE_URL",
    "database_password": "DATABASE_URL",
}
_SECRET_VARS = "SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SLACK_SIGNING_SECRET, DATABASE_URL"


def credentials_in(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(dotted key, message) for each credential anywhere in the file."""
    refused = []
    for found in find_credentials(data):
        home = found.shape.home
        if found.path == "database" and found.shape in (URL_PASSWORD, URL_QUERY_PASSWORD):
            home = "set DATABASE_URL in the environment"
        where = "a key here holds" if found.in_key else "holds"
        refused.append(
            (
                found.path,
                f"{where} {found.shape.kind} (not shown): secrets must not be stored in the "
                f"config file; remove it and {home}",
            )
        )
    return refused


def is_credential(key: object) -> bool:
    """A key that is itself a credential: reported by :func:`credentials_in`, never named."""
    return isinstance(key, str) and find_credential(key) is not None


def secret_key_problem(key: str) -> str | None:
    """The message for an unknown key whose name says it holds a secret, else None."""
    variable = _SECRET_KEYS.get(key.lower())
    if variable is None:
        return None
    return (
        f"secrets must not be stored in the config file; remove it and set {variable} in the "
        f"environment (secrets come only from {_SECRET_VARS} and git's own credentials)"
    )
