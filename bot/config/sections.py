"""One function per section of curator.yml: read, check, and build its settings."""

from __future__ import annotations

import difflib
import string
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from bot.config.checker import (
    _AUTHOR,
    _BAD_REF,
    _CHANNEL_ID,
    _CHANNEL_NAME,
    _COMMAND,
    _DEFAULT_AUTHOR,
    _DEFAULT_CHECKOUT,
    _EMOJI,
    _FIELD_KEYS,
    _GROUP_ID,
    _MAX_PER_DAY,
    _MISSING,
    _SCP_LIKE,
    _SKIN_TONE,
    _SQLITE_URL,
    _USER_ID,
    _Checker,
    _resolve,
)
from bot.config.cron import _cron
from bot.config.settings import (
    _DEFAULT_GRACE,
    JOBS,
    CandidatesConfig,
    ContentConfig,
    ScheduleConfig,
    SlackConfig,
    VotesConfig,
)
from storage.db import DatabaseURLError, check_url
from storage.fields import FieldMap

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
