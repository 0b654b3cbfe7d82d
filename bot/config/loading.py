"""Read and validate ``curator.yml`` into frozen settings objects.

Typos are the most common operator error, so every key is checked: unknown keys are errors
(with a "did you mean ...?"), every value is type- and range-checked (``bot.config.models``),
and all problems are collected and raised together in one :class:`ConfigError`, so an
operator fixes the file in one pass instead of one restart per mistake. Nothing is read at
import time: call :func:`load_config` (or :func:`config_from_mapping`) from the app factory
and pass the result in. Secrets never live in the file (``bot.config.secrets``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError

from bot.config.cron import both_days_restricted
from bot.config.desk_checks import desk_problems
from bot.config.errors import ConfigError, describe
from bot.config.explain import translate
from bot.config.models import CANDIDATE_KEYS, VOTE_KEYS, DeskSection, File
from bot.config.reading import read_yaml
from bot.config.secrets import credentials_in
from bot.config.settings import (
    JOBS,
    CandidatesConfig,
    Config,
    ContentConfig,
    Desk,
    ScheduleConfig,
    SlackConfig,
    VotesConfig,
    implicit_desk,
)
from bot.config.values import AUTHOR, SCP_LIKE
from storage.credentials import scrub
from storage.fields import FieldMap

_DEFAULT_CHECKOUT = Path(".curator") / "content"
_SQLITE_URL = re.compile(r"^(?P<scheme>sqlite(?:\+\w+)?):///(?P<path>.*)$")


def load_config(path: Path, env: Mapping[str, str] | None = None) -> Config:
    """Read, parse and validate the config file at ``path``.

    ``env`` defaults to ``os.environ``; only ``DATABASE_URL`` is read from it here, the Slack
    secrets are read where the app is built. Raises :class:`ConfigError` for a missing or
    unreadable file, a YAML syntax error, or any invalid setting (all of them at once).
    """
    path = Path(path)
    data = read_yaml(path)
    return config_from_mapping(data, path=path, env=os.environ if env is None else env)


def config_from_mapping(
    data: Mapping[str, Any], *, path: Path | None, env: Mapping[str, str]
) -> Config:
    """Validate already-parsed settings; relative paths resolve against ``path``'s directory.

    With ``path=None`` (tests, the demo) relative paths resolve against the working directory.
    Raises :class:`ConfigError` listing every problem found.
    """
    label = str(path) if path is not None else "<config>"
    base = path.resolve().parent if path is not None else Path.cwd()
    if data is None:
        data = {}  # an empty file: report the missing required keys below
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{label}: expected a mapping of settings at the top level "
            f"(like 'content:', 'slack:'), got {describe(data)}"
        )
    problems = credentials_in(data)
    secret_keys = {key for key, _ in problems}
    try:
        file = File.model_validate(dict(data), context={"flag": _flag(data)})
    except ValidationError as exc:
        # Nothing more is said about a key holding a credential: it would only repeat it.
        problems += [(key, said) for key, said in translate(exc) if key not in secret_keys]
        file = None
    problems += desk_problems(dict(data), file)
    if problems:
        raise ConfigError(scrub(f"{label}: {key}: {said}") for key, said in problems)
    assert file is not None
    slack, votes = _slack(file), VotesConfig(**dict(file.votes))
    candidates, schedule = CandidatesConfig(**file.candidates.model_dump()), _schedule(file)
    desks = tuple(_desk(d, slack, votes, candidates, schedule) for d in file.desks)
    said = _warnings(file) + vote_warnings(
        desks or (implicit_desk(slack, votes, candidates, None),)
    )
    return Config(
        path=path.resolve() if path is not None else None,
        timezone=file.timezone,
        content=_content(file, base),
        slack=slack,
        votes=votes,
        candidates=candidates,
        schedule=schedule,
        desks=desks,
        fields=FieldMap(**file.fields.model_dump()),
        database_url=_database_url(file.database, base, env),
        warnings=tuple(scrub(f"{label}: {key}: {line}") for key, line in said),
    )


def _flag(data: Mapping[str, Any]) -> str:
    """The publish flag's key as the file names it, for the check that no template sets it."""
    fields = data.get("fields")
    flag = fields.get("flag") if isinstance(fields, Mapping) else None
    return flag.strip() if isinstance(flag, str) and flag.strip() else FieldMap().flag


def _content(file: File, base: Path) -> ContentConfig:
    """The content repo; local paths become absolute so the bot's cwd never matters."""
    content = file.content
    author = AUTHOR.match(content.author)
    assert author is not None  # checked by the model
    return ContentConfig(
        remote=_remote(content.remote, base),
        checkout=_resolve(base, content.checkout or str(_DEFAULT_CHECKOUT)),
        branch=content.branch,
        include=content.include,
        exclude=content.exclude,
        author_name=author.group("name").strip(),
        author_email=author.group("email"),
        commit_url=content.commit_url,
        set_on_publish=MappingProxyType(dict(content.set_on_publish)),
    )


def _slack(file: File) -> SlackConfig:
    """``slack.channel`` is where a failing job is told; with desks it may be left out, and
    the first desk's channel hears it."""
    values = file.slack.model_dump()
    if values["channel"] is None:
        values["channel"] = file.desks[0].channel
    return SlackConfig(**values)


def _desk(
    desk: DeskSection, slack: SlackConfig, votes: VotesConfig, candidates: CandidatesConfig,
    schedule: ScheduleConfig,
) -> Desk:  # fmt: skip
    """A desk, taking what it does not set from the sections every desk shares."""
    editors, group = desk.voters(slack.editors, slack.editor_group)
    return Desk(
        name=desk.name,
        channel=desk.channel,
        topics=desk.topics,
        editors=editors,
        editor_group=group,
        chiefs=desk.chiefs if "chiefs" in desk.model_fields_set else slack.chiefs,
        votes=replace(votes, **desk.own(VOTE_KEYS)),
        candidates=replace(candidates, **desk.own(CANDIDATE_KEYS)),
        post=desk.post if "post" in desk.model_fields_set else schedule.post,
    )


def _schedule(file: File) -> ScheduleConfig:
    schedule = file.schedule
    return ScheduleConfig(
        **{name: getattr(schedule, name) for name in JOBS},
        grace=MappingProxyType(schedule.grace.model_dump()),
        lease_seconds=schedule.lease_seconds,
    )


def _warnings(file: File) -> list[tuple[str, str]]:
    """Legal but probably unintended choices: the file is valid, the operator should know."""
    warnings = []
    slack, votes = file.slack, file.votes
    if not slack.editors and slack.editor_group is None and not file.desks:
        warnings.append(
            (
                "slack",
                "neither slack.editors nor slack.editor_group is set: votes will count from "
                "nobody, so nothing can be approved",
            )
        )
    if slack.editors and not slack.editor_group and votes.quorum > len(slack.editors):
        warnings.append(
            (
                "votes.quorum",
                f"is {votes.quorum} but slack.editors lists only {len(slack.editors)}: "
                "no candidate can reach it until more editors are listed",
            )
        )
    for i, desk in enumerate(file.desks):
        editors, group = desk.voters(slack.editors, slack.editor_group)
        quorum = desk.own(("quorum",)).get("quorum", votes.quorum)
        if editors and not group and quorum > len(editors):
            warnings.append(
                (
                    f"desks[{i}]",
                    f"the {desk.name} desk needs {quorum} votes but has {len(editors)} "
                    "editor(s): none of its cards can be approved until more are listed",
                )
            )
    for name in JOBS:
        line = getattr(file.schedule, name)
        if line is not None and both_days_restricted(line):
            warnings.append(
                (
                    f"schedule.{name}",
                    f"{line!r} restricts both day of month and day of week: the scheduler runs "
                    "it only when both match (classic cron runs it when either does)",
                )
            )
    return warnings


def vote_warnings(desks: Sequence[Desk]) -> list[tuple[str, str]]:
    """Vote settings that load but cannot do what they say, desk by desk (the one desk of a
    config without desks is told as ``votes``)."""
    warnings = []
    for i, desk in enumerate(desks):
        at = "votes" if desk.implicit else f"desks[{i}]"
        whose = "" if desk.implicit else f"the {desk.name} desk's "
        v = desk.votes
        if v.veto and not desk.chiefs:
            warnings.append((f"{at}.veto" if desk.implicit else at,
                             f"{whose}veto emoji count from nobody: no chiefs are listed "
                             "(slack.chiefs, or the desk's chiefs)"))  # fmt: skip
        window = timedelta(days=v.window_days)
        if v.remind_before is not None and v.remind_before >= window:
            warnings.append((f"{at}.remind_before" if desk.implicit else at,
                             f"{whose}reminders ({_hours(v.remind_before)} before a card "
                             f"closes) are as long as its voting window ({v.window_days} "
                             "days): every card is reminded as soon as it is posted"))  # fmt: skip
    return warnings


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} h"


def _remote(remote: str, base: Path) -> str:
    """Keep URLs and ``host:path`` remotes as they are; make local paths absolute."""
    if "://" in remote or SCP_LIKE.match(remote):
        return remote  # user@host:path is git's scp-like syntax
    return str(_resolve(base, remote))


def _resolve(base: Path, value: str) -> Path:
    """An absolute path: ``~`` expanded, relative paths taken from the config file's directory."""
    path = Path(value).expanduser()
    return (path if path.is_absolute() else base / path).resolve()


def _database_url(in_file: str | None, base: Path, env: Mapping[str, str]) -> str:
    """DATABASE_URL from the environment, else ``database:``, else SQLite next to the file.

    A password in the file is refused (``bot.config.secrets``) even when the environment
    overrides it: the file is likely committed or shared, and the secret must leave it.
    DATABASE_URL itself is checked where the engine is made (``curator db upgrade`` runs
    without a config file).
    """
    from_env = (env.get("DATABASE_URL") or "").strip()
    if from_env:
        return from_env
    if in_file is not None:
        return _sqlite_relative(in_file, base)
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
