"""Read and validate ``curator.yml`` into frozen settings objects.

Typos are the most common operator error, so every key is checked: unknown keys are errors
(with a "did you mean ...?"), every value is type- and range-checked, and all problems are
collected and raised together in one :class:`ConfigError`, so an operator fixes the file in one
pass instead of one restart per mistake. Nothing is read at import time: call
:func:`load_config` (or :func:`config_from_mapping`) from the app factory and pass the result in.

Secrets never live in the file. Slack tokens come from ``SLACK_BOT_TOKEN``, ``SLACK_APP_TOKEN``
and ``SLACK_SIGNING_SECRET``, database credentials from ``DATABASE_URL``, git credentials from
the bot user's SSH key or credential helper. Every string in the file, keys and values at any
depth, is checked for credentials (:func:`storage.credentials.find_credentials`); one is an
error that names the key and the kind of credential, never the value, and no other message or
suggestion about that key is shown. A secret-looking key name is an error too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from bot.config.checker import _TOP_LEVEL, _Checker
from bot.config.errors import ConfigError, _describe
from bot.config.sections import (
    _candidates,
    _content,
    _database_url,
    _fields,
    _schedule,
    _slack,
    _timezone,
    _votes,
)
from bot.config.settings import Config
from storage.frontmatter import VALUE_ERRORS

# ---------------------------------------------------------------------------------- the public


def load_config(path: Path, env: Mapping[str, str] | None = None) -> Config:
    """Read, parse and validate the config file at ``path``.

    ``env`` defaults to ``os.environ``; only ``DATABASE_URL`` is read from it here, the Slack
    secrets are read where the app is built. Raises :class:`ConfigError` for a missing or
    unreadable file, a YAML syntax error, or any invalid setting (all of them at once).
    """
    path = Path(path)
    label = str(path)
    if env is None:
        env = os.environ
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{label}: not found; run 'curator init' to create one") from None
    except IsADirectoryError:
        raise ConfigError(f"{label}: is a directory, expected a YAML file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{label}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{label}: cannot read: {exc.strerror or exc}") from None
    data = _parse_yaml(text, label)
    return config_from_mapping(data, path=path, env=env)


def config_from_mapping(
    data: Mapping[str, Any], *, path: Path | None, env: Mapping[str, str]
) -> Config:
    """Validate already-parsed settings; relative paths resolve against ``path``'s directory.

    With ``path=None`` (tests, the demo) relative paths resolve against the working directory.
    Raises :class:`ConfigError` listing every problem found.
    """
    label = str(path) if path is not None else "<config>"
    base = path.resolve().parent if path is not None else Path.cwd()
    check = _Checker(label)
    if data is None:
        data = {}  # an empty file: report the missing required keys below
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{label}: expected a mapping of settings at the top level "
            f"(like 'content:', 'slack:'), got {_describe(data)}"
        )
    check.credentials(data)
    check.keys(data, "", _TOP_LEVEL)

    timezone = _timezone(check, data)
    fields_map = _fields(check, data)
    content = _content(check, data, base, fields_map)
    slack = _slack(check, data)
    votes = _votes(check, data, slack)
    candidates = _candidates(check, data)
    schedule = _schedule(check, data, timezone if check.zone_ok else "UTC")
    database_url = _database_url(check, data, base, env)

    if check.errors:
        raise ConfigError(check.errors)
    return Config(
        path=path.resolve() if path is not None else None,
        timezone=timezone,
        content=content,
        slack=slack,
        votes=votes,
        candidates=candidates,
        schedule=schedule,
        fields=fields_map,
        database_url=database_url,
        warnings=tuple(check.warnings),
    )


# ------------------------------------------------------------------------------------ parsing


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe loader that also notes duplicate keys, which PyYAML would silently collapse."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[str, int, int]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[tuple[str, str]] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue
            ident = (key_node.tag, key_node.value)
            if ident in seen:
                mark = key_node.start_mark
                self.duplicates.append((key_node.value, mark.line + 1, mark.column + 1))
            seen.add(ident)
        return super().construct_mapping(node, deep=deep)


def _parse_yaml(text: str, label: str) -> Any:
    """Parse YAML safely; syntax errors and duplicate keys become errors with line and column."""
    loader = _Loader(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{label}:{mark.line + 1}:{mark.column + 1}" if mark else label
        problem = exc.problem or "syntax error"
        if exc.context:
            problem = f"{problem} ({exc.context})"
        if exc.context and "alias" in exc.context:
            problem += "; values starting with '*' must be quoted, e.g. \"*/15 * * * *\""
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{label}: invalid YAML: {exc}") from None
    except VALUE_ERRORS as exc:  # a value shaped like a date or number that is not one
        raise ConfigError(f"{label}: invalid YAML value: {exc}") from None
    finally:
        loader.dispose()
    if loader.duplicates:
        raise ConfigError(
            f"{label}:{line}:{col}: duplicate key {key!r}; YAML would silently keep only the last"
            for key, line, col in loader.duplicates
        )
    return data
