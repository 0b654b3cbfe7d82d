"""What a credential looks like: one table to refuse it in curator.yml and to hide it in output.

The config's secret scan (:func:`find_credentials`) and the scrubber (:func:`scrub`) read the
same shapes, so a token the config would refuse is also one the output never shows. The scrubber
is the only one: behind the logs and every line the command prints (:class:`Scrubber`), in
Slack text (``bot.slack.text``), in git's error messages (``storage.git_command``) and wherever a
database URL is shown (``storage.db.redacted``). It lives in ``storage/`` so that storage can
use it too. The shapes follow the vendors' documented prefixes; a secret without a
recognisable shape (Slack's signing secret is 32 hex digits) is scrubbed by its value, taken
from the environment (:func:`environment_secrets`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

_GIT_HOME = "give git its credentials through a credential helper or an SSH deploy key"


@dataclass(frozen=True)
class Shape:
    kind: str  # what an operator calls it, for the error message
    home: str  # where it belongs instead
    pattern: re.Pattern[str]


def _shape(kind: str, home: str, pattern: str, *, in_words: bool = False) -> Shape:
    # Never in the middle of a word ('_' or punctuation before it is fine), so a digest or
    # a slug that happens to contain 'AKIA' is not taken for a credential. ``in_words``: a
    # prefix so distinctive (Slack's xoxb-) that a word glued in front (keyxoxb-…) is
    # still the token.
    return Shape(kind, home, re.compile(("" if in_words else r"(?<![A-Za-z0-9])") + pattern))


URL_PASSWORD = _shape(
    "a password or token in a URL ('user:password@')",
    _GIT_HOME,
    r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/@:]*:[^\s/@]*@",
)

URL_TOKEN_USER = _shape(
    "a token as a URL's user name ('https://TOKEN@host')",
    _GIT_HOME,
    r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/@:]{20,}@",
)

URL_QUERY_PASSWORD = _shape(
    "a password in a URL ('password=')", _GIT_HOME, r"(?<=[?&]password=)[^&\s#]+"
)

SHAPES: tuple[Shape, ...] = (
    URL_PASSWORD,  # first: its fix (take it out of the URL) is the one to read
    URL_TOKEN_USER,
    URL_QUERY_PASSWORD,  # libpq reads ?password= too
    _shape(
        "a Slack app-level token (xapp-)",
        "set SLACK_APP_TOKEN in the environment",
        r"xapp-[A-Za-z0-9-]+",
        in_words=True,
    ),
    _shape(
        "a Slack configuration or refresh token (xoxe)",
        "the bot needs only SLACK_BOT_TOKEN and SLACK_APP_TOKEN, from the environment",
        r"xoxe(?:\.xox[a-z])?-[A-Za-z0-9-]+",
        in_words=True,
    ),
    # xoxb bot, xoxp user, xoxa/xoxr/xoxs/xoxo legacy and workspace, xoxc/xoxd browser.
    _shape(
        "a Slack token (xoxb-, xoxp-, ...)",
        "set SLACK_BOT_TOKEN in the environment",
        r"xox[a-z]-[A-Za-z0-9-]+",
        in_words=True,
    ),
    _shape(
        "a Slack webhook URL",
        "the bot posts with SLACK_BOT_TOKEN, from the environment; remove the webhook",
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/\S+",
    ),
    _shape("a GitHub token", _GIT_HOME, r"(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_\w{16,})"),
    _shape(
        "a GitLab token",
        _GIT_HOME,
        r"(?:gl(?:pat|dt|ptt|rt|rtr|cbt|oas|ft|imt|agent|soat|ffct)-[\w.-]{16,}"
        r"|GR1348941[\w-]{16,})",
    ),
    _shape("a Bitbucket or Atlassian token", _GIT_HOME, r"AT(?:BB|ATT|CTT)[\w=.-]{16,}"),
    _shape(
        "an AWS access key",
        "keep cloud keys in the environment or the cloud's own credentials file",
        r"(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])",
    ),
    _shape(
        "an AWS secret access key",
        "keep cloud keys in the environment or the cloud's own credentials file",
        r"(?i:aws_secret_access_key)\s*[=:]\s*[\"']?[A-Za-z0-9/+=]{20,}",
    ),
    _shape("an npm token", "keep it in ~/.npmrc or the environment", r"npm_[A-Za-z0-9]{30,}"),
    _shape(
        "an API secret key (sk-, sk_live_, rk_live_)",
        "keep API keys in the environment",
        r"(?:sk-[A-Za-z0-9_-]{20,}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,})",
    ),
    _shape("a Google API key", "keep API keys in the environment", r"AIza[0-9A-Za-z_-]{35}"),
    _shape(
        "a signed token (JWT)",
        "keep tokens in the environment",
        r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    ),
    _shape(
        "a private key",
        "keep keys in files ssh or git reads (~/.ssh, a deploy key)",
        # The key itself is what must not show: hidden up to its END line, or to the end
        # of the text when that is cut off.
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)",
    ),
)

# Environment variables whose values are secrets by name (their values are hidden wherever
# they appear); DATABASE_URL is handled apart: only its password is secret.
_SECRET_NAME = re.compile(r"(?:TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|ACCESS_KEY)$")
_MIN_SECRET = 8  # shorter values ("true", "1") would blank out ordinary words
# The userinfo of a URL when it holds a password, or a user name long enough to be a token
# (https://<token>@host, https://<token>:x-oauth-basic@host). A shorter user name stays,
# it helps read a message: 'git@', 'postgres@', 'curator:***@'.
_USERINFO = re.compile(
    r"(?<=://)(?:(?P<user>[^\s/@:]{0,19}):(?!\*\*\*@)[^\s/@]*|[^\s/@:]{20,}(?::[^\s/@]*)?)@"
)


def _hide_userinfo(m: re.Match[str]) -> str:
    user = m.group("user")
    return "***@" if user is None else f"{user}:***@"


def find_credential(text: str) -> Shape | None:
    """The first credential shape found anywhere in ``text``, or None."""
    for shape in SHAPES:
        if shape.pattern.search(text):
            return shape
    return None


@dataclass(frozen=True)
class Finding:
    """A credential at ``path`` (dotted, with [i] for list items) of a settings mapping.

    ``in_key`` says the mapping key itself looked like a credential; then ``path`` is the
    mapping that holds it, since the key cannot be named without showing it.
    """

    path: str
    shape: Shape
    in_key: bool = False


def find_credentials(data: Any, path: str = "") -> list[Finding]:
    """Every credential in every string of ``data``: mapping keys and values at any depth,
    list items included. One pass, plain data in, so a validator can call it first."""
    return list(_walk(data, path))


def _walk(value: Any, path: str) -> Iterator[Finding]:
    if isinstance(value, str):
        shape = find_credential(value)
        if shape is not None:
            yield Finding(path or "(top level)", shape)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and (shape := find_credential(key)) is not None:
                yield Finding(path or "(top level)", shape, in_key=True)
                continue
            yield from _walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")


def environment_secrets(env: Mapping[str, str]) -> list[str]:
    """The values in ``env`` that are secrets, hidden wherever they appear: Slack's, git
    hosts' and any *_TOKEN, *_SECRET, *_PASSWORD, plus the password inside DATABASE_URL (the
    rest of that URL is useful); each of at least eight characters, as a shorter one would
    blank out ordinary words."""
    found = [
        value
        for name, value in env.items()
        if _SECRET_NAME.search(name.upper()) and len(value) >= _MIN_SECRET
    ]
    try:
        url = urlsplit(env.get("DATABASE_URL", "").strip())
        passwords = [url.password, *parse_qs(url.query).get("password", [])]
    except ValueError:
        passwords = []
    # A short password ("news") is hidden where a URL holds it (the shapes: userinfo and
    # '?password='), never as a word of its own: "newsroom" must stay readable.
    found += [p for p in passwords if p and len(p) >= _MIN_SECRET]
    # Longest first, so a secret that contains another is hidden whole.
    return sorted(set(found), key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with known secret values, credential shapes and the password (or token) part
    of any URL replaced by ***."""
    for secret in secrets:
        text = text.replace(secret, "***")
    if "@" in text:  # before the shapes: the host stays readable
        text = _USERINFO.sub(_hide_userinfo, text)
    if _ANY_HIDDEN.search(text):  # one pass tells: most text (every title on a card) has none
        for pattern in _HIDDEN:
            text = pattern.sub("***", text)
    return text


# The shapes scrub hides as ***, and all of them at once; _USERINFO does the URL ones.
_HIDDEN = tuple(s.pattern for s in SHAPES if s is not URL_PASSWORD and s is not URL_TOKEN_USER)
_ANY_HIDDEN = re.compile("|".join(f"(?:{p.pattern})" for p in _HIDDEN))


class Scrubber:
    """The secrets of one environment, applied by :func:`scrub`; the logs and the command's
    output share one, so they hide the same things."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.secrets = environment_secrets(env)

    def __call__(self, text: str) -> str:
        return scrub(text, self.secrets)
