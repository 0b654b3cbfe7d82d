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

import dataclasses
import difflib
import math
import os
import re
import string
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import yaml
from apscheduler.triggers.cron import CronTrigger

from storage.credentials import (
    URL_PASSWORD,
    URL_QUERY_PASSWORD,
    find_credential,
    find_credentials,
    scrub,
)
from storage.db import DatabaseURLError, check_url
from storage.fields import FieldMap
from storage.frontmatter import VALUE_ERRORS

__all__ = [
    "CandidatesConfig",
    "Config",
    "ConfigError",
    "ContentConfig",
    "ScheduleConfig",
    "SlackConfig",
    "VotesConfig",
    "config_from_mapping",
    "example_config",
    "example_path",
    "load_config",
    "write_example",
]


class ConfigError(Exception):
    """A config file that cannot be used; ``errors`` holds one line per problem.

    Each line names the file, the dotted key and what was expected, e.g.
    ``curator.yml: votes.quorum: expected an integer >= 1, got 'two'``.
    """

    def __init__(self, errors: str | Iterable[str]) -> None:
        self.errors: list[str] = [errors] if isinstance(errors, str) else list(errors)
        super().__init__("\n".join(self.errors))


# --------------------------------------------------------------------------- settings objects


@dataclass(frozen=True, kw_only=True)
class ContentConfig:
    """Where the articles live and how the bot commits to them.

    ``checkout`` is the bot's private clone: it is hard-reset before every publish, so nobody
    should work in it. ``set_on_publish`` maps extra frontmatter keys to value templates (e.g.
    ``"{approvers}"``) that the publisher fills in; it is read-only and left out of the hash.
    """

    remote: str
    checkout: Path
    branch: str = "main"
    include: tuple[str, ...] = ("**/*.md",)
    exclude: tuple[str, ...] = ()
    author_name: str = "Newsroom Curator"
    author_email: str = "curator@localhost"
    commit_url: str | None = None
    set_on_publish: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )

    def commit_link(self, sha: str) -> str | None:
        """The web link for a commit, or None when no ``commit_url`` is configured."""
        return None if self.commit_url is None else self.commit_url.format(sha=sha)


@dataclass(frozen=True, kw_only=True)
class SlackConfig:
    """Where candidates are posted and whose reactions count as votes.

    Votes count from ``editors`` (user IDs) and from members of ``editor_group`` (a user group
    ID); with neither, nobody's votes count (``Config.warnings`` says so).
    """

    channel: str
    editors: tuple[str, ...] = ()
    editor_group: str | None = None
    command: str = "/digest"


@dataclass(frozen=True, kw_only=True)
class VotesConfig:
    """Which reactions are votes, and how many decide a candidate.

    Emoji names are stored without colons, as Slack's reaction events spell them; the two sets
    never overlap, so one reaction can never mean both.
    """

    publish: tuple[str, ...] = ("white_check_mark",)
    reject: tuple[str, ...] = ("x",)
    quorum: int = 2
    window_days: int = 3


@dataclass(frozen=True, kw_only=True)
class CandidatesConfig:
    """Which articles are offered each day (the rule is ``bot.rules.candidates``); ``topics`` empty
    means every topic, ``min_quality`` None no minimum. An article without a quality score
    is offered (after every scored one) unless ``require_score``."""

    per_day: int = 10
    min_quality: float | None = None
    require_score: bool = False
    max_age_days: int = 7
    topics: tuple[str, ...] = ()


JOBS = ("refresh", "post", "publish", "summary", "reconcile", "expire")
_DEFAULT_GRACE = {
    "refresh": 10,
    "post": 180,
    "publish": 45,
    "summary": 180,
    "reconcile": 5,
    "expire": 720,
}


@dataclass(frozen=True, kw_only=True)
class ScheduleConfig:
    """Five-field crontab lines per job, in the configured time zone; None disables a job.

    Weekday numbers follow crontab (0 and 7 are Sunday). APScheduler 3 counts from Monday, so
    the loader rewrites numeric weekdays into names (``1-5`` -> ``mon-fri``): every stored line
    means the same to ``CronTrigger.from_crontab(line, timezone=...)`` as it does to cron.
    """

    refresh: str | None = "*/15 * * * *"
    post: str | None = "0 9 * * mon-fri"
    publish: str | None = "0 * * * *"
    summary: str | None = "30 8 * * *"
    reconcile: str | None = "*/10 * * * *"
    expire: str | None = "5 0 * * *"
    # How late a slot missed while the bot was down may still run, in minutes: the day's
    # post at 09:30 after a 09:00 outage is useful, at 17:00 it is noise.
    grace: Mapping[str, int] = field(
        default_factory=lambda: MappingProxyType(dict(_DEFAULT_GRACE)), hash=False
    )
    # With several replicas, the one holding the lease runs the jobs; others take over
    # within this many seconds after it stops renewing.
    lease_seconds: int = 60

    def enabled(self) -> dict[str, str]:
        """Job name -> crontab line for every job that is not switched off, in job order."""
        return {name: getattr(self, name) for name in JOBS if getattr(self, name) is not None}

    def grace_minutes(self, job: str) -> int:
        return self.grace.get(job, _DEFAULT_GRACE[job])


@dataclass(frozen=True, kw_only=True)
class Config:
    """Everything the bot needs that is not a secret, validated.

    Build it with :func:`load_config` or :func:`config_from_mapping`; constructing it directly
    skips validation (handy in tests). ``warnings`` lists legal but probably unintended choices.
    """

    path: Path | None = None
    timezone: str = "UTC"
    content: ContentConfig
    slack: SlackConfig
    votes: VotesConfig = field(default_factory=VotesConfig)
    candidates: CandidatesConfig = field(default_factory=CandidatesConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    fields: FieldMap = field(default_factory=FieldMap)
    database_url: str
    warnings: tuple[str, ...] = ()

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The time zone as a tzinfo, for the scheduler and for "today"."""
        return zoneinfo.ZoneInfo(self.timezone)


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


def example_path() -> Path:
    """The commented example, ``manifests/curator.example.yml``, shipped as ``bot.manifests``."""
    # A file on disk either way: pip installs a wheel unpacked, and an editable install maps
    # bot.manifests onto the repo's manifests/ folder.
    return Path(str(resources.files("bot.manifests") / "curator.example.yml"))


def example_config() -> str:
    """The text of the commented example config, the single source for ``curator init``."""
    return example_path().read_text(encoding="utf-8")


def write_example(target: Path, *, force: bool = False) -> Path:
    """Write the example config to ``target`` and return it; never clobber an edited file.

    Refuses (ConfigError) when ``target`` exists unless ``force`` is true; missing parent
    directories are created.
    """
    target = Path(target)
    text = example_config()
    if target.is_dir():
        raise ConfigError(f"{target}: is a directory; give the path of the file to create")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        # "x" creates exclusively, so a file appearing after a check is never overwritten.
        with target.open("w" if force else "x", encoding="utf-8") as out:
            out.write(text)
    except FileExistsError:
        raise ConfigError(
            f"{target}: already exists; not overwriting it (use --force to replace it)"
        ) from None
    return target


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


# ---------------------------------------------------------------------------------- checking


def _describe(value: object) -> str:
    """A short, YAML-flavoured rendering of a bad value for an error message."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and (shape := find_credential(value)) is not None:
        return f"{shape.kind} (not shown; secrets belong in the environment)"
    text = scrub(repr(value))
    if len(text) > 60:
        text = text[:57] + "..."
    if isinstance(value, Mapping):
        return f"a mapping {text}"
    if isinstance(value, list | tuple):
        return f"a list {text}"
    return text


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


# ----------------------------------------------------------------------------------- sections


def _timezone(check: _Checker, data: Mapping[str, Any]) -> str:
    """The IANA zone name; a near-miss gets a suggestion (zone names are easy to misspell)."""
    value = data.get("timezone", "UTC")
    if not isinstance(value, str) or not value.strip():
        check.expected("timezone", "an IANA time zone name like 'Europe/Berlin'", value)
        check.zone_ok = False
        return "UTC"
    value = value.strip()
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        close = difflib.get_close_matches(value, zoneinfo.available_timezones(), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        check.expected("timezone", "an IANA time zone name like 'Europe/Berlin'", value, hint)
        check.zone_ok = False
        return "UTC"
    return value


def _fields(check: _Checker, data: Mapping[str, Any]) -> FieldMap:
    """The frontmatter key names; the flag must not share a key, or publishing would clobber it."""
    raw = check.section(data, "fields")
    defaults = FieldMap()
    values: dict[str, Any] = {}
    for name in _FIELD_KEYS:
        if name == "flag_style":
            style = raw.get(name, defaults.flag_style)
            if style not in ("published", "draft"):
                check.expected(
                    "fields.flag_style",
                    "'published' (true means live) or 'draft' (true means not live)",
                    style,
                )
                style = defaults.flag_style
            values[name] = style
        else:
            values[name] = check.text(
                raw, "fields", name, getattr(defaults, name), what="a frontmatter key name"
            )
    fields_map = FieldMap(**values)
    for name in _FIELD_KEYS:
        if name not in ("flag", "flag_style") and getattr(fields_map, name) == fields_map.flag:
            check.error(
                "fields.flag",
                f"{fields_map.flag!r} is also fields.{name}; the publish flag needs its own key",
            )
    return fields_map


def _content(
    check: _Checker, data: Mapping[str, Any], base: Path, fields_map: FieldMap
) -> ContentConfig:
    """The content repo; local paths become absolute so the bot's cwd never matters."""
    raw = check.section(data, "content")
    remote = check.text(raw, "content", "remote", what="the content repo's git URL or local path")
    remote = _remote(check, remote or "", base)

    branch = check.text(raw, "content", "branch", "main", what="a git branch name")
    if _BAD_REF.search(branch):
        check.expected("content.branch", "a git branch name", branch)
        branch = "main"

    checkout_text = check.text(raw, "content", "checkout", None, what="a directory path")
    checkout = _resolve(base, checkout_text or str(_DEFAULT_CHECKOUT))

    include = check.strings(
        raw, "content", "include", ("**/*.md",), what="a glob pattern", plural="glob patterns"
    )
    if include == ():
        check.error("content.include", "expected at least one glob pattern, e.g. '**/*.md'")
    exclude = check.strings(
        raw, "content", "exclude", (), what="a glob pattern", plural="glob patterns"
    )

    author_name, author_email = _author(check, raw)

    commit_url = check.text(
        raw, "content", "commit_url", None, nullable=True, what="a URL containing {sha}"
    )
    if commit_url is not None:
        commit_url = _commit_url(check, commit_url)

    return ContentConfig(
        remote=remote,
        checkout=checkout,
        branch=branch,
        include=include or ("**/*.md",),
        exclude=exclude or (),
        author_name=author_name,
        author_email=author_email,
        commit_url=commit_url,
        set_on_publish=_set_on_publish(check, raw, fields_map),
    )


def _remote(check: _Checker, remote: str, base: Path) -> str:
    """Keep URLs and ``host:path`` remotes as they are; make local paths absolute."""
    if not remote:
        return remote
    if remote.startswith("-"):
        # git would read it as an option (e.g. --upload-pack=...), not as a repository
        check.error("content.remote", "must not start with '-'")
        return remote
    if "://" in remote:
        try:
            urlsplit(remote)
        except ValueError:
            check.error("content.remote", "is not a valid URL")
        return remote  # a password in it is refused by _Checker.credentials
    if _SCP_LIKE.match(remote):
        return remote  # user@host:path, git's scp-like syntax
    return str(_resolve(base, remote))


def _author(check: _Checker, raw: Mapping[str, Any]) -> tuple[str, str]:
    what = "'Name <email>', e.g. 'Newsroom Curator <curator@example.org>'"
    author = check.text(raw, "content", "author", _DEFAULT_AUTHOR, what=what)
    match = _AUTHOR.match(author)
    if not match or not match.group("name").strip():
        check.expected("content.author", what, author)
        match = _AUTHOR.match(_DEFAULT_AUTHOR)
        assert match is not None
    return match.group("name").strip(), match.group("email")


def _commit_url(check: _Checker, url: str) -> str | None:
    what = "a URL containing {sha}, e.g. 'https://github.com/newsroom/content/commit/{sha}'"
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(url) if name is not None}
    except ValueError:
        names = {"<unbalanced braces>"}
    if "sha" not in names:
        check.expected("content.commit_url", what, url)
        return None
    if names != {"sha"}:
        others = ", ".join(sorted(n or "{}" for n in names - {"sha"}))
        check.error("content.commit_url", f"only {{sha}} is filled in, found {others}")
        return None
    return url


def _set_on_publish(
    check: _Checker, raw: Mapping[str, Any], fields_map: FieldMap
) -> Mapping[str, str]:
    value = raw.get("set_on_publish")
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, Mapping):
        check.expected("content.set_on_publish", "a mapping of frontmatter key to text", value)
        return MappingProxyType({})
    result: dict[str, str] = {}
    for key, template in value.items():
        if not isinstance(key, str) or not key.strip():
            check.expected("content.set_on_publish", "frontmatter key names", key)
            continue
        dotted = f"content.set_on_publish.{key}"
        if key == fields_map.flag:
            check.error(dotted, "the publish flag is set by the bot itself; remove this key")
        elif isinstance(template, str):
            result[key] = template
        else:
            hint = ""
            if isinstance(template, Mapping):
                hint = " (quote templates: YAML reads {approvers} as a mapping, '{approvers}' not)"
            check.expected(dotted, "a text template like '{approvers}' or '{date}'", template, hint)
    return MappingProxyType(result)


def _slack(check: _Checker, data: Mapping[str, Any]) -> SlackConfig:
    """Channel, editors and command, checked against Slack's ID formats.

    IDs rather than names are required for editors because display names change and can be
    impersonated; the channel may be a ``#name`` because that is what operators know.
    """
    raw = check.section(data, "slack")
    what = "a channel ID like 'C0123ABCD' or a quoted '#name'"
    channel = raw.get("channel", _MISSING)
    if channel is _MISSING or channel is None:
        hint = ""
        if channel is None:
            hint = ' (an unquoted #name is a YAML comment: write channel: "#curation")'
        if check.ok("slack"):
            check.error("slack.channel", f"missing; expected {what}{hint}")
        channel = ""
    elif not isinstance(channel, str) or not (
        _CHANNEL_ID.match(channel.strip())
        or (_CHANNEL_NAME.match(channel.strip()) and channel == channel.lower())
    ):
        hint = ""
        if isinstance(channel, str) and _CHANNEL_NAME.match("#" + channel.strip()):
            hint = f" (did you mean '#{channel.strip().lower()}'?)"
        check.expected("slack.channel", what, channel, hint)
        channel = ""
    else:
        channel = channel.strip()

    editors = check.strings(
        raw,
        "slack",
        "editors",
        (),
        what="a Slack user ID",
        plural="Slack user IDs like 'U0123ABCD'",
    )
    for index, user in enumerate(editors or ()):
        if not _USER_ID.match(user):
            check.expected(
                f"slack.editors[{index}]",
                "a Slack user ID like 'U0123ABCD' (profile > More > Copy member ID)",
                user,
            )
    group = check.text(
        raw, "slack", "editor_group", None, nullable=True, what="a user group ID like 'S0123ABCD'"
    )
    if group is not None and not _GROUP_ID.match(group):
        check.expected("slack.editor_group", "a user group ID like 'S0123ABCD'", group)
        group = None

    command = check.text(raw, "slack", "command", "/digest", what="a slash command like '/digest'")
    if not _COMMAND.match(command) or command != command.lower():
        check.expected("slack.command", "a lower-case slash command like '/digest'", command)
        command = "/digest"

    if (
        not editors
        and raw.get("editor_group") is None
        and check.ok("slack")
        and check.ok("slack.editors")
    ):
        check.warn(
            "slack",
            "neither slack.editors nor slack.editor_group is set: votes will count from nobody, "
            "so nothing can be approved",
        )
    return SlackConfig(channel=channel, editors=editors or (), editor_group=group, command=command)


def _emoji(
    check: _Checker, raw: Mapping[str, Any], key: str, default: tuple[str, ...]
) -> tuple[str, ...] | None:
    """Emoji names as reaction events spell them: no colons, lower case, no skin tone.

    A skin tone is dropped so that a vote counts whatever tone an editor's client adds; the
    vote tally strips it from reaction names the same way.
    """
    names = check.strings(
        raw,
        "votes",
        key,
        default,
        what="an emoji name",
        plural="emoji names like 'white_check_mark'",
    )
    if names is None:
        return None
    result: list[str] = []
    for index, name in enumerate(names):
        wrapped = len(name) > 2 and name.startswith(":") and name.endswith(":")
        bare = _SKIN_TONE.sub("", (name[1:-1] if wrapped else name).lower())
        if not _EMOJI.match(bare):
            check.expected(f"votes.{key}[{index}]", "an emoji name like 'white_check_mark'", name)
            return None
        if bare not in result:
            result.append(bare)
    return tuple(result)


def _votes(check: _Checker, data: Mapping[str, Any], slack: SlackConfig) -> VotesConfig:
    """Vote emoji and thresholds.

    A quorum larger than the editor list is only a warning, like having no editors at all: the
    file is valid, but the operator should know nothing can be decided yet.
    """
    raw = check.section(data, "votes")
    publish = _emoji(check, raw, "publish", ("white_check_mark",))
    reject = _emoji(check, raw, "reject", ("x",))
    if publish == ():
        check.error("votes.publish", "expected at least one emoji name, e.g. 'white_check_mark'")
    if publish and reject:
        both = [name for name in publish if name in reject]
        if both:
            check.error(
                "votes",
                f"{', '.join(both)} is in both votes.publish and votes.reject; "
                "one reaction cannot mean both",
            )
    quorum = check.integer(raw, "votes", "quorum", 2)
    if (
        check.ok("slack.editors")
        and check.ok("slack.editor_group")
        and slack.editors
        and not slack.editor_group
        and quorum > len(slack.editors)
    ):
        check.warn(
            "votes.quorum",
            f"is {quorum} but slack.editors lists only {len(slack.editors)}: "
            "no candidate can reach it until more editors are listed",
        )
    return VotesConfig(
        publish=publish or ("white_check_mark",),
        reject=reject if reject is not None else ("x",),
        quorum=quorum,
        window_days=check.integer(raw, "votes", "window_days", 3),
    )


def _candidates(check: _Checker, data: Mapping[str, Any]) -> CandidatesConfig:
    """Selection limits; per_day is capped because each candidate is its own Slack message."""
    raw = check.section(data, "candidates")
    return CandidatesConfig(
        per_day=check.integer(raw, "candidates", "per_day", 10, high=_MAX_PER_DAY),
        min_quality=check.number(raw, "candidates", "min_quality", None, nullable=True),
        require_score=check.boolean(raw, "candidates", "require_score", False),
        max_age_days=check.integer(raw, "candidates", "max_age_days", 7),
        topics=check.strings(
            raw, "candidates", "topics", (), what="a topic name", plural="topic names"
        )
        or (),
    )


def _schedule(check: _Checker, data: Mapping[str, Any], timezone: str) -> ScheduleConfig:
    """Crontab lines per job; keys left out keep their defaults, null/off switch a job off."""
    raw = check.section(data, "schedule")
    defaults = ScheduleConfig()
    values: dict[str, Any] = {
        name: _cron(check, f"schedule.{name}", raw[name], timezone)
        if name in raw
        else getattr(defaults, name)
        for name in JOBS
    }
    grace = dict(_DEFAULT_GRACE)
    raw_grace = raw.get("grace")
    if raw_grace is not None and not isinstance(raw_grace, Mapping):
        check.expected("schedule.grace", "a mapping of job name to minutes", raw_grace)
    elif raw_grace:
        check.keys(raw_grace, "schedule.grace", JOBS)
        for job in JOBS:
            if job in raw_grace:
                grace[job] = check.integer(raw_grace, "schedule.grace", job, grace[job], low=0)
    values["grace"] = MappingProxyType(grace)
    values["lease_seconds"] = check.integer(
        raw, "schedule", "lease_seconds", defaults.lease_seconds, low=2
    )
    return ScheduleConfig(**values)


def _database_url(
    check: _Checker, data: Mapping[str, Any], base: Path, env: Mapping[str, str]
) -> str:
    """DATABASE_URL from the environment, else ``database:``, else SQLite next to the file.

    A password in the file is refused (by :meth:`_Checker.credentials`) even when the
    environment overrides it: the file is likely committed or shared, and the secret must
    leave it. DATABASE_URL itself is checked where the engine is made (``curator db upgrade``
    runs without a config file).
    """
    from_env = (env.get("DATABASE_URL") or "").strip()
    value = data.get("database", _MISSING)
    if value is not _MISSING and value is not None:
        if not isinstance(value, str) or "://" not in value:
            check.expected("database", "a database URL like 'sqlite:///curator.db'", value)
        else:
            try:
                check_url(value.strip())
            except DatabaseURLError as exc:
                check.error("database", exc.problem)
            else:
                if not from_env and check.ok("database"):
                    return _sqlite_relative(value.strip(), base)
    if from_env:
        return from_env
    return f"sqlite:///{(base / 'curator.db').resolve()}"


def _sqlite_relative(url: str, base: Path) -> str:
    """Resolve a relative SQLite file against the config dir, like every other path here."""
    match = _SQLITE_URL.match(url)
    if not match:
        return url
    file = match.group("path")
    if not file or file.startswith((":memory:", "file:")) or file.startswith("/"):
        return url
    query = ""
    if "?" in file:
        file, query = file.split("?", 1)
        query = "?" + query
    return f"{match.group('scheme')}:///{_resolve(base, file)}{query}"


# --------------------------------------------------------------------------------------- cron

_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_MONDAY_FIRST = (1, 2, 3, 4, 5, 6, 0)  # crontab day numbers in APScheduler's order
_CRON_MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * sun",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_CRON_FORMAT = "a crontab line 'minute hour day month day_of_week' like '0 9 * * mon-fri', or off"


def _cron(check: _Checker, key: str, value: Any, timezone: str) -> str | None:
    """A validated crontab line in APScheduler-safe form, or None for a switched-off job."""
    if value is None or value is False:
        return None  # `off` unquoted is YAML for false
    if not isinstance(value, str):
        check.expected(key, _CRON_FORMAT, value)
        return None
    line = " ".join(value.split())
    if line.lower() == "off":
        return None
    line = _CRON_MACROS.get(line.lower(), line)
    parts = line.split()
    if len(parts) != 5:
        check.expected(key, _CRON_FORMAT, value, f" ({len(parts)} fields instead of 5)")
        return None
    try:
        parts[4] = _crontab_weekdays(parts[4])
        line = " ".join(parts)
        CronTrigger.from_crontab(line, timezone=timezone)
    except (ValueError, TypeError) as exc:
        check.expected(key, _CRON_FORMAT, value, f" ({exc})")
        return None
    if parts[2] != "*" and parts[4] != "*":
        check.warn(
            key,
            f"{value!r} restricts both day of month and day of week: the scheduler runs it only "
            "when both match (classic cron runs it when either does)",
        )
    return line


def _crontab_weekdays(field_text: str) -> str:
    """Rewrite a crontab day-of-week field so APScheduler 3 reads it as cron does.

    APScheduler 3 numbers weekdays from Monday = 0 where crontab has Sunday = 0 (APScheduler
    issue 286), so ``1-5`` would silently run Tuesday to Saturday. Names mean the same to both,
    so numeric fields (and ranges starting on Sunday) are expanded and written as names.
    """
    low = field_text.lower()
    if not re.search(r"\d|sun-", low):
        return field_text
    days: set[int] = set()
    for part in low.split(","):
        match = re.fullmatch(r"(\*|[a-z]{3}|\d+)(?:-([a-z]{3}|\d+))?(?:/(\d+))?", part)
        if not match:
            raise ValueError(f"cannot read day of week {part!r}")
        first, last, step = match.groups()
        if first == "*":
            if last:
                raise ValueError(f"cannot read day of week {part!r}")
            low_day, high_day = 0, 6
        else:
            low_day = _cron_day(first, end=False)
            high_day = _cron_day(last, end=True) if last else (6 if step else low_day)
        if high_day < low_day:
            raise ValueError(f"day-of-week range {part!r} runs backwards")
        stride = int(step) if step else 1
        if stride < 1:
            raise ValueError(f"step in {part!r} must be at least 1")
        days.update(day % 7 for day in range(low_day, high_day + 1, stride))
    return _weekday_names(days)


def _cron_day(token: str, *, end: bool) -> int:
    """A crontab weekday number (0-7, 0 and 7 Sunday); 'sun' closing a range is 7."""
    if token.isdigit():
        number = int(token)
        if number > 7:
            raise ValueError(f"day of week {number} is not 0-7 (0 and 7 are Sunday) or mon-sun")
        return number
    if token not in _CRON_DAYS:
        raise ValueError(f"unknown day of week {token!r}")
    return 7 if end and token == "sun" else _CRON_DAYS.index(token)


def _weekday_names(days: set[int]) -> str:
    """Crontab day numbers as Monday-first name ranges, e.g. {1,2,3,4,5} -> 'mon-fri'."""
    if len(days) == 7:
        return "*"
    runs: list[list[int]] = []
    for day in _MONDAY_FIRST:
        if day not in days:
            continue
        if runs and _MONDAY_FIRST.index(runs[-1][-1]) + 1 == _MONDAY_FIRST.index(day):
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(
        _CRON_DAYS[run[0]] if len(run) == 1 else f"{_CRON_DAYS[run[0]]}-{_CRON_DAYS[run[-1]]}"
        for run in runs
    )
