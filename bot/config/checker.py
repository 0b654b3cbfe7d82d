"""The schema of curator.yml and the checker that collects every problem in it."""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.config.errors import _describe
from bot.config.settings import JOBS
from storage.credentials import (
    URL_PASSWORD,
    URL_QUERY_PASSWORD,
    find_credential,
    find_credentials,
    scrub,
)
from storage.fields import FieldMap

# --------------------------------------------------------------------------------- the schema

_TOP_LEVEL = (
    "timezone",
    "content",
    "slack",
    "votes",
    "candidates",
    "schedule",
    "fields",
    "database",
)
_FIELD_KEYS = tuple(f.name for f in dataclasses.fields(FieldMap))
_SECTIONS: dict[str, tuple[str, ...]] = {
    "content": (
        "remote",
        "branch",
        "checkout",
        "include",
        "exclude",
        "author",
        "commit_url",
        "set_on_publish",
    ),
    "slack": ("channel", "editors", "editor_group", "command"),
    "votes": ("publish", "reject", "quorum", "window_days"),
    "candidates": ("per_day", "min_quality", "require_score", "max_age_days", "topics"),
    "schedule": (*JOBS, "grace", "lease_seconds"),
    "fields": _FIELD_KEYS,
}

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

_DEFAULT_CHECKOUT = Path(".curator") / "content"
_DEFAULT_AUTHOR = "Newsroom Curator <curator@localhost>"
_MAX_PER_DAY = 50  # one Slack message per candidate: more than this floods the channel

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_CHANNEL_NAME = re.compile(r"^#[\w-]{1,80}$")
_COMMAND = re.compile(r"^/[\w.-]{1,31}$")
_EMOJI = re.compile(r"^[a-z0-9_+-]+$")
_SKIN_TONE = re.compile(r"::skin-tone-[2-6]$")
_AUTHOR = re.compile(r"^(?P<name>[^<>\n]*?)\s*<(?P<email>[^<>\s]+@[^<>\s]+)>$")
_SCP_LIKE = re.compile(r"^[^/]*:")  # git's rule: a colon before any slash means host:path
_SQLITE_URL = re.compile(r"^(?P<scheme>sqlite(?:\+\w+)?):///(?P<path>.*)$")
_BAD_REF = re.compile(r"[\s~^:?*\[\\]|\.\.|@\{|//|^[-/.]|[/.]$|\.lock$")

_MISSING: Any = object()


def _dotted(prefix: str, key: str) -> str:
    """``section.key`` as operators see it in errors (or just ``key`` at the top level)."""
    return f"{prefix}.{key}" if prefix else key


class _Checker:
    """Collects errors and warnings; every typed getter returns a usable value regardless."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.zone_ok = True
        self.failed: set[str] = set()  # dotted keys with errors, so checks don't cascade
        self.secrets: set[str] = set()  # keys holding a credential: nothing more is said

    def error(self, key: str, message: str) -> None:
        if key in self.secrets:
            return  # a "did you mean" or "got ..." would only repeat the credential
        self.errors.append(scrub(f"{self.label}: {key}: {message}"))
        self.failed.add(key.split("[")[0])

    def credentials(self, data: Mapping[str, Any]) -> None:
        """One error per credential anywhere in the file; the other checks then skip its key."""
        for found in find_credentials(data):
            home = found.shape.home
            if found.path == "database" and found.shape in (URL_PASSWORD, URL_QUERY_PASSWORD):
                home = "set DATABASE_URL in the environment"
            where = "a key here holds" if found.in_key else "holds"
            self.error(
                found.path,
                f"{where} {found.shape.kind} (not shown): secrets must not be stored in the "
                f"config file; remove it and {home}",
            )
            self.secrets.add(found.path)

    def ok(self, key: str) -> bool:
        """Whether ``key`` passed its own checks (checks across keys skip failed ones)."""
        return key not in self.failed

    def warn(self, key: str, message: str) -> None:
        self.warnings.append(scrub(f"{self.label}: {key}: {message}"))

    def expected(self, key: str, what: str, got: object, hint: str = "") -> None:
        self.error(key, f"expected {what}, got {_describe(got)}{hint}")

    def keys(self, raw: Mapping[Any, Any], prefix: str, known: tuple[str, ...]) -> None:
        """Flag non-string, secret-looking and unknown keys (with a suggestion when close)."""
        for key in raw:
            if not isinstance(key, str):
                hint = ""
                if isinstance(key, bool):
                    hint = " (YAML reads yes/no/on/off as true/false: quote the key)"
                self.error(
                    prefix or "(top level)", f"keys must be names, got {_describe(key)}{hint}"
                )
                continue
            if find_credential(key) is not None:
                continue  # reported by credentials(); naming the key would show it
            dotted = _dotted(prefix, key)
            if key.lower() in _SECRET_KEYS and key not in known:
                self.error(
                    dotted,
                    "secrets must not be stored in the config file; remove it and set "
                    f"{_SECRET_KEYS[key.lower()]} in the environment "
                    f"(secrets come only from {_SECRET_VARS} and git's own credentials)",
                )
            elif key not in known:
                self.error(dotted, f"unknown key{_suggest(key, prefix, known)}")

    def section(self, data: Mapping[str, Any], name: str) -> dict[str, Any]:
        """The mapping under a top-level key; absent or empty means all defaults."""
        raw = data.get(name)
        if raw is None:
            return {}
        if not isinstance(raw, Mapping):
            self.expected(name, "a mapping of settings", raw)  # its keys are then not reported
            return {}
        self.keys(raw, name, _SECTIONS[name])
        return {k: v for k, v in raw.items() if isinstance(k, str)}

    # --- typed getters; ``default`` _MISSING means the key is required

    def text(
        self,
        raw: Mapping[str, Any],
        prefix: str,
        key: str,
        default: Any = _MISSING,
        *,
        nullable: bool = False,
        what: str = "a non-empty string",
        hint: str = "",
    ) -> Any:
        dotted = _dotted(prefix, key)
        value = raw.get(key, _MISSING)
        if value is _MISSING:
            if default is _MISSING and self.ok(prefix):
                self.error(dotted, f"missing; expected {what}{hint}")
            return None if default is _MISSING else default
        if value is None and nullable:
            return None
        if not isinstance(value, str) or not value.strip():
            self.expected(dotted, what, value, hint)
            return None if default is _MISSING else default
        return value.strip()

    def integer(
        self,
        raw: Mapping[str, Any],
        prefix: str,
        key: str,
        default: int,
        *,
        low: int = 1,
        high: int | None = None,
    ) -> int:
        dotted = _dotted(prefix, key)
        value = raw.get(key, default)
        in_range = isinstance(value, int) and not isinstance(value, bool)
        in_range = in_range and value >= low and (high is None or value <= high)
        if not in_range:
            what = f"an integer >= {low}" if high is None else f"an integer from {low} to {high}"
            self.expected(dotted, what, value)
            return default
        return value

    def number(
        self,
        raw: Mapping[str, Any],
        prefix: str,
        key: str,
        default: Any,
        *,
        nullable: bool = False,
    ) -> Any:
        """A finite number as a float; with ``nullable``, null (or no key) gives None."""
        dotted = _dotted(prefix, key)
        value = raw.get(key, default)
        if value is None and nullable:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            self.expected(dotted, "a number or null" if nullable else "a number", value)
            return default
        return float(value)

    def boolean(self, raw: Mapping[str, Any], prefix: str, key: str, default: bool) -> bool:
        value = raw.get(key, default)
        if not isinstance(value, bool):
            self.expected(_dotted(prefix, key), "true or false", value)
            return default
        return value

    def strings(
        self,
        raw: Mapping[str, Any],
        prefix: str,
        key: str,
        default: tuple[str, ...],
        *,
        what: str,
        plural: str,
    ) -> tuple[str, ...] | None:
        """A list of strings (a single string is a one-item list); None after an error."""
        dotted = _dotted(prefix, key)
        value = raw.get(key, _MISSING)
        if value is _MISSING:
            return default
        if value is None:
            return ()  # every item commented out
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.expected(dotted, f"a list of {plural}", value)
            return None
        items: list[str] = []
        ok = True
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                hint = ""
                if isinstance(item, int) and not isinstance(item, bool):
                    hint = " (YAML reads +1 and -1 as numbers: quote them, e.g. '+1')"
                self.expected(f"{dotted}[{index}]", what, item, hint)
                ok = False
            elif item.strip() not in items:
                items.append(item.strip())
        return tuple(items) if ok else None


def _suggest(key: str, prefix: str, known: tuple[str, ...]) -> str:
    """' (did you mean X?)' for a near-miss here, else for the key in another section.

    A key in the wrong section (``quorum`` at the top level) is as common as a misspelling.
    """
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {_dotted(prefix, close[0])!r}?)"
    elsewhere: dict[str, list[str]] = {}  # leaf name -> dotted keys it exists as
    for section, names in _SECTIONS.items():
        for name in names:
            elsewhere.setdefault(name, []).append(f"{section}.{name}")
    for name in _TOP_LEVEL:
        elsewhere.setdefault(name, []).append(name)
    close = difflib.get_close_matches(key, list(elsewhere), n=1, cutoff=0.75)
    if close:
        return f" (did you mean {' or '.join(repr(d) for d in elsewhere[close[0]])}?)"
    return f" (expected one of: {', '.join(known)})"


def _resolve(base: Path, value: str) -> Path:
    """An absolute path: ``~`` expanded, relative paths taken from the config file's directory."""
    path = Path(value).expanduser()
    return (path if path.is_absolute() else base / path).resolve()
