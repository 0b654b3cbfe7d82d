"""The kinds of value curator.yml holds, as pydantic types: each checks one value and says
what it expected (``bot.config.errors.expected``) when it is wrong.

Strings are stripped; a list may be written as one string (a one-item list) or left empty
(``null``: every item commented out), and keeps each item once.
"""

from __future__ import annotations

import difflib
import re
import string
import zoneinfo
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, StringConstraints

from bot.config.errors import expected, problem
from bot.config.settings import DESK_NAME_MAX
from storage.db import DatabaseURLError, check_url

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_CHANNEL_NAME = re.compile(r"^#[\w-]{1,80}$")
_COMMAND = re.compile(r"^/[\w.-]{1,31}$")
_EMOJI = re.compile(r"^[a-z0-9_+-]+$")
_SKIN_TONE = re.compile(r"::skin-tone-[2-6]$")
AUTHOR = re.compile(r"^(?P<name>[^<>\n]*?)\s*<(?P<email>[^<>\s]+@[^<>\s]+)>$")
SCP_LIKE = re.compile(r"^[^/]*:")  # git's rule: a colon before any slash means host:path
_BAD_REF = re.compile(r"[\s~^:?*\[\\]|\.\.|@\{|//|^[-/.]|[/.]$|\.lock$")

_DESK_NAME = re.compile(r"^[^\W_][\w .&+-]*$")
DESK_NAME = f"a desk name of up to {DESK_NAME_MAX} letters, digits, spaces or - _ . & +"
CHANNEL = "a channel ID like 'C0123ABCD' or a quoted '#name'"
AUTHOR_FORMAT = "'Name <email>', e.g. 'Newsroom Curator <curator@example.org>'"
COMMIT_URL = "a URL containing {sha}, e.g. 'https://github.com/newsroom/content/commit/{sha}'"

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _one_or_many(value: Any) -> Any:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value) if isinstance(value, list) else value


def _each_once(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def texts(item: Any = Text) -> Any:
    """A list of ``item`` (Text unless given), each kept once, as a tuple."""
    return Annotated[tuple[item, ...], BeforeValidator(_one_or_many), AfterValidator(_each_once)]


def checked(test: Any) -> Any:
    """Text that ``test`` accepts (and may rewrite)."""
    return Annotated[Text, AfterValidator(test)]


# --------------------------------------------------------------------------------- checks


def slack_user_id(value: str) -> str:
    if not _USER_ID.match(value):
        raise expected("a Slack user ID like 'U0123ABCD' (profile > More > Copy member ID)", value)
    return value


def slack_group_id(value: str) -> str:
    if not _GROUP_ID.match(value):
        raise expected("a user group ID like 'S0123ABCD'", value)
    return value


def slash_command(value: str) -> str:
    if not _COMMAND.match(value) or value != value.lower():
        raise expected("a lower-case slash command like '/digest'", value)
    return value


def slack_channel(value: Any) -> str:
    """IDs, or a ``#name`` because that is what operators know (editors must be IDs: display
    names change and can be impersonated)."""
    if value is None:
        hint = ' (an unquoted #name is a YAML comment: write channel: "#curation")'
        raise problem(f"missing; expected {CHANNEL}{hint}")
    text = value.strip() if isinstance(value, str) else ""
    if _CHANNEL_ID.match(text) or (_CHANNEL_NAME.match(text) and value == value.lower()):
        return text
    hint = ""
    if text and _CHANNEL_NAME.match("#" + text):
        hint = f" (did you mean '#{text.lower()}'?)"
    raise expected(CHANNEL, value, hint)


def optional_channel(value: Any) -> str | None:
    return None if value is None else slack_channel(value)


def desk_name(value: str) -> str:
    """Shown in Slack, typed after ``desk:`` in /digest and keyed in the job table."""
    if len(value) > DESK_NAME_MAX or not _DESK_NAME.match(value):
        raise expected(DESK_NAME, value)
    if value.casefold() == "all":
        raise problem("'all' means every desk in /digest desk:all; name the desk otherwise")
    return value


def emoji_name(name: str) -> str:
    """An emoji name as reaction events spell it: no colons, lower case, no skin tone.

    A skin tone is dropped so that a vote counts whatever tone an editor's client adds; the
    vote tally strips it from reaction names the same way.
    """
    wrapped = len(name) > 2 and name.startswith(":") and name.endswith(":")
    bare = _SKIN_TONE.sub("", (name[1:-1] if wrapped else name).lower())
    if not _EMOJI.match(bare):
        raise expected("an emoji name like 'white_check_mark'", name)
    return bare


def branch_name(value: str) -> str:
    if _BAD_REF.search(value):
        raise expected("a git branch name", value)
    return value


def git_remote(value: str) -> str:
    """A URL, ``host:path`` or local path (made absolute by the loader)."""
    if value.startswith("-"):
        # git would read it as an option (e.g. --upload-pack=...), not as a repository
        raise problem("must not start with '-'")
    if "://" in value:
        try:
            urlsplit(value)
        except ValueError:
            raise problem("is not a valid URL") from None
    elif not SCP_LIKE.match(value):
        local_path(value)
    return value  # a password in it is refused with the other credentials


def local_path(value: str) -> str:
    """A path the loader can make absolute: no NUL byte, and a ``~user`` that exists."""
    if "\x00" in value:
        raise problem("must not contain a NUL byte")
    try:
        Path(value).expanduser()
    except RuntimeError:  # ~name of no user on this machine, or no home directory at all
        user = value.split("/", 1)[0]
        raise problem(f"{user!r} names no user with a home here: write the whole path") from None
    return value


def git_author(value: str) -> str:
    match = AUTHOR.match(value)
    if not match or not match.group("name").strip():
        raise expected(AUTHOR_FORMAT, value)
    return value


def commit_url_template(url: str) -> str:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(url) if name is not None}
    except ValueError:
        names = {"<unbalanced braces>"}
    if "sha" not in names:
        raise expected(COMMIT_URL, url)
    if names != {"sha"}:
        others = ", ".join(sorted(n or "{}" for n in names - {"sha"}))
        raise problem(f"only {{sha}} is filled in, found {others}")
    return url


def publish_template(value: Any) -> str:
    """A ``set_on_publish`` value: text the publisher fills in."""
    if isinstance(value, str):
        return value
    hint = ""
    if isinstance(value, dict):
        hint = " (quote templates: YAML reads {approvers} as a mapping, '{approvers}' not)"
    raise expected("a text template like '{approvers}' or '{date}'", value, hint)


def time_zone_name(value: Any) -> str:
    """An IANA zone name; a near-miss gets a suggestion (zone names are easy to misspell)."""
    what = "an IANA time zone name like 'Europe/Berlin'"
    if not isinstance(value, str) or not value.strip():
        raise expected(what, value)
    name = value.strip()
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        close = difflib.get_close_matches(name, zoneinfo.available_timezones(), n=1, cutoff=0.6)
        raise expected(what, name, f" (did you mean {close[0]!r}?)" if close else "") from None
    return name


def database_url(value: Any) -> str | None:
    """A database URL in the file (DATABASE_URL in the environment wins over it)."""
    if value is None:
        return None
    if not isinstance(value, str) or "://" not in value:
        raise expected("a database URL like 'sqlite:///curator.db'", value)
    try:
        check_url(value.strip())
    except DatabaseURLError as exc:
        raise problem(exc.problem) from None
    if value.startswith("sqlite"):
        local_path(value.split(":///", 1)[-1])  # the loader makes the file's path absolute
    return value.strip()
