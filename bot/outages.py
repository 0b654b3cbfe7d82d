"""Known failures — the database, Slack, the content repo, the disk — told apart in one place.

An outage is an operator's problem, not a bug: a 138-line traceback for a database that is
down hides the one fact that matters (which host did not answer) and the fix. Three readers
ask the same rules:

- ``explain``: the command line and ``curator doctor``. Every known failure is one line
  naming the fix, and exit code 1 (the traceback is logged at debug, shown with ``-v``).
- ``outage``: a process that keeps running (a listener, a card refresh). Slack or the
  database away, or Slack saying a "no" it has a code for, is one line and the work goes on.
  Anything else — a full disk, a failing git, a bug — keeps its traceback.
- ``reason``: a word or two for ``/healthz``, which anyone can read: never a host, a user
  or a path (those stay in the log line).

An ``OSError`` means "Slack did not answer" only when it came out of a Slack call: where it
was raised decides, not its kind (a refused connection or a timeout from git, the database
driver or a file is not Slack's). Slack's error codes are in one table.
"""

from __future__ import annotations

import errno
import re
import socket
import ssl
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeGuard
from urllib.error import URLError
from urllib.parse import urlsplit

from bot.config import ConfigError
from bot.runtime import SchemaError
from storage.credentials import scrub
from storage.db import DatabaseURLError
from storage.db_errors import place_of, unreachable
from storage.git_command import GitError

if TYPE_CHECKING:
    from slack_sdk.errors import SlackApiError

DOCTOR = "'curator doctor' checks every part"


@dataclass(frozen=True)
class SlackCode:
    """What one of Slack's error codes means for the bot."""

    kind: str  # TOKEN, LATER or SETUP
    fix: str


# Slack is up, the bot's token is not: /healthz says Slack is down, startup does not wait.
TOKEN = "token"
# Slack is busy or unwell: startup waits it out, a running process says so in a line.
LATER = "later"
# The app or the channel needs a change an operator can make.
SETUP = "setup"

_SOON = "Slack is busy or unwell: try again in a few minutes"
# How slack_sdk begins the error it makes up for a body that is not JSON (a web page).
_NOT_JSON = "Received a response in a non-JSON format"
_CHECK = "run 'curator doctor' to check the setup"
SLACK_CODES = {
    "invalid_auth": SlackCode(TOKEN, "check SLACK_BOT_TOKEN"),
    "not_authed": SlackCode(TOKEN, "set SLACK_BOT_TOKEN"),
    "token_revoked": SlackCode(
        TOKEN, "the token was revoked: reinstall the app and update SLACK_BOT_TOKEN"
    ),
    "token_expired": SlackCode(
        TOKEN, "the token expired: reinstall the app and update SLACK_BOT_TOKEN"
    ),
    "account_inactive": SlackCode(TOKEN, "the app was removed or deactivated: reinstall it"),
    "not_allowed_token_type": SlackCode(
        TOKEN, "SLACK_BOT_TOKEN must be the app's bot token (xoxb-)"
    ),
    "missing_scope": SlackCode(
        SETUP, "add the scope to the app (`curator manifest` prints them) and reinstall it"
    ),
    "not_in_channel": SlackCode(SETUP, "invite the bot to the channel (/invite @Newsroom Curator)"),
    "channel_not_found": SlackCode(
        SETUP, "check the channel in slack.channel or desks[].channel and invite the bot to it"
    ),
    "is_archived": SlackCode(
        SETUP, "the channel is archived: set another in slack.channel or desks[].channel"
    ),
    "ratelimited": SlackCode(LATER, _SOON),
    "internal_error": SlackCode(LATER, _SOON),
    "fatal_error": SlackCode(LATER, _SOON),
    "service_unavailable": SlackCode(LATER, _SOON),
    "request_timeout": SlackCode(LATER, _SOON),
}

# Errors the operating system gives for a place the bot cannot write or read.
_DISK_ERRNOS = {
    errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.ENOTDIR, errno.ENOENT,
    errno.EEXIST,  # a file where a directory should be made
}  # fmt: skip


class Told(RuntimeError):
    """A failure already said in one line that names the fix (a desk's summary Slack refused,
    a post stopped by Slack): logged as it is, without a traceback."""


def explain(exc: BaseException, *, database_url: object, slack_api_url: str | None) -> str | None:
    """One line for a known failure, or None for anything else (a bug: keep the traceback)."""
    line = outage(exc, database_url=database_url, slack_api_url=slack_api_url)
    if line is not None:
        return line
    if isinstance(exc, ConfigError | SchemaError | GitError | Told):
        return str(exc)
    if isinstance(exc, DatabaseURLError):
        return f"{exc} (check DATABASE_URL, or database: in curator.yml)"
    if _slack_api_error(exc):  # a code we have no fix for: still Slack's answer
        return slack_api_problem(exc)
    if isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS and exc.filename:
        return (
            f"{exc.strerror}: {exc.filename}; check that path (content.checkout, the SQLite "
            "file) and that the bot's user may write there"
        )
    return None


def _slack_api_error(exc: BaseException) -> TypeGuard[SlackApiError]:
    """Whether Slack's Web API answered with an error. Without slack_sdk loaded nothing could
    have called Slack, and a command that never does (status, scan) need not load it."""
    errors = sys.modules.get("slack_sdk.errors")
    return errors is not None and isinstance(exc, errors.SlackApiError)


def outage(
    exc: BaseException, *, database_url: object = None, slack_api_url: str | None = None
) -> str | None:
    """One line when ``exc`` means Slack or the database did not answer, or Slack said a "no"
    it has a code for; None for anything else, which keeps its traceback."""
    if _slack_api_error(exc):
        status, code = _status_and_code(exc)
        known = status >= 500 or status == 429 or code in SLACK_CODES or not_slack(exc)
        return slack_api_problem(exc) if known else None
    if from_slack(exc):
        return slack_unreachable(exc, slack_api_url)
    cause = unreachable(exc)  # None for a statement's own error (a bug)
    return None if cause is None else database_problem(cause, database_url)


def from_slack(exc: BaseException) -> bool:
    """Whether ``exc`` is Slack (or the way to it) not answering: an ``OSError`` (URLError
    too) raised inside a Slack call. The deepest frame outside Python's own library tells:
    slack_sdk's for a refused connection to Slack; ours, or a driver's, for a disk, git or
    a database."""
    if not isinstance(exc, OSError) or getattr(exc, "filename", None):
        return False
    deepest = ""
    tb = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        if module.partition(".")[0] not in sys.stdlib_module_names:
            deepest = module
        tb = tb.tb_next
    return deepest.startswith(SLACK_CALLERS)


# The modules a Slack call runs in: slack_sdk's and Bolt's, and the keep-alive step that
# sends slack_sdk's requests (bot.slack.keep_alive), named here, not imported: a command
# that never calls Slack does not load it.
SLACK_CALLERS = ("slack_sdk.", "slack_bolt.", "bot.slack.keep_alive")


def slack_kind(code: object) -> str | None:
    """TOKEN, LATER or SETUP for one of Slack's error codes; None for a code not in the table."""
    known = SLACK_CODES.get(code) if isinstance(code, str) else None
    return known.kind if known else None


def slack_fix(code: object, default: str = _CHECK) -> str:
    """How an operator fixes Slack's error ``code`` (``default`` when it is not theirs to fix)."""
    known = SLACK_CODES.get(code) if isinstance(code, str) else None
    return known.fix if known else default


def not_slack(exc: SlackApiError) -> bool:
    """Whether what answered is not Slack's Web API (a wrong ``SLACK_API_URL``): a 4xx, or
    any answer but a 5xx or a 429, that is not JSON (a web page, a proxy's error) or is JSON
    without Slack's ``ok``. Slack answers its own errors as JSON with ``ok: false``."""
    status, data = exc.response.status_code, exc.response.data
    if status >= 500 or status == 429:  # Slack, or a proxy in front of it, unwell: it passes
        return False
    if not isinstance(data, dict) or "ok" not in data:
        return True
    error = data.get("error")
    return isinstance(error, str) and error.startswith(_NOT_JSON)


def not_slack_problem(exc: SlackApiError) -> str:
    """One line for an answer that is not Slack's: where it came from, and the fix."""
    method_url = exc.response.api_url or ""
    data = exc.response.data
    shape = "not JSON" if not isinstance(data, dict) or "ok" in data else "no 'ok' in its JSON"
    return not_slack_line(method_url, f"HTTP {exc.response.status_code}, {shape}")


def not_slack_line(method_url: str, answer: str) -> str:
    """``method_url`` (``…/api/auth.test``) answered ``answer``, not as Slack's Web API does."""
    base, _, method = method_url.rpartition("/")
    return (
        f"{scrub(base)}/ does not answer like Slack's Web API ({method}: {answer}): "
        f"check SLACK_API_URL, or unset it to use Slack's own; {DOCTOR}"
    )


def slack_api_problem(exc: SlackApiError) -> str:
    """What Slack answered and, for the codes an operator can fix, the fix."""
    if not_slack(exc):
        return not_slack_problem(exc)
    status, code = _status_and_code(exc)
    if status == 200:
        said = f"Slack said {code or 'an error'}"
    else:
        said = f"Slack answered HTTP {status}" + (f" ({code})" if code else "")
    fix = slack_fix(code, _SOON if status >= 500 or status == 429 else _CHECK)
    if code == "missing_scope" and exc.response.get("needed"):
        fix = f"{exc.response['needed']} is missing: {fix}"
    return f"{said}; {fix}"


def slack_unreachable(exc: BaseException, api_url: str | None) -> str:
    at = ""
    if api_url:
        at = f" at {urlsplit(api_url).netloc.rsplit('@', 1)[-1] or api_url}"
    return (
        f"Slack did not answer{at} ({network_reason(exc)}): check the network, or SLACK_API_URL "
        f"if it is set; {DOCTOR}"
    )


def network_reason(exc: BaseException) -> str:
    """What went wrong on the wire, in a few words: "Connection refused", "timed out"."""
    inner = exc.reason if isinstance(exc, URLError) else None  # URLError wraps the socket's
    shown = inner if isinstance(inner, BaseException) else exc
    text = str(getattr(shown, "strerror", None) or shown).strip() or type(shown).__name__
    return text.splitlines()[0][:200]


def database_problem(cause: BaseException, url: object) -> str:
    """What the database said (``cause``, the driver's error) and where."""
    said = first_line(cause)
    parsed = place_of(url)
    if parsed is not None and parsed.backend == "sqlite":
        path = parsed.database or ":memory:"
        folder = path.rsplit("/", 1)[0] or "/"
        if "unable to open" in said or "readonly" in said:
            return (
                f"cannot open the SQLite database {path} ({said}): check that {folder} "
                "exists and the bot's user may write there, or set DATABASE_URL"
            )
        if "not a database" in said:
            return f"{path} is not a SQLite database: point DATABASE_URL at another file"
        if "locked" in said:
            return f"the SQLite database {path} is locked by another process: try again"
        return f"SQLite database {path}: {said}"
    if parsed is not None:
        where = f"{parsed.host}:{parsed.port or 5432}" if parsed.host else "the local socket"
        target = f"database at {where}"
    else:
        target = "database"
    # psycopg says "connection failed: connection to server at ..., port N failed: WHY"
    said = said.rsplit(" failed: ", 1)[-1]
    if said.startswith("FATAL"):  # it answered, and said no: a wrong name or password
        return f"{target} refused the connection ({said}): check DATABASE_URL; {DOCTOR}"
    return f"{target} did not answer ({said}): is it running? check DATABASE_URL; {DOCTOR}"


# What a failure's text says, for drivers that say it only in words (psycopg, sqlite3).
_REASON_WORDS = [
    ("timeout", ("timeout expired", "timed out", "timeout")),
    ("refused", ("connection refused",)),
    ("unknown host", ("could not translate host", "name or service not known",
                      "nodename nor servname", "temporary failure in name resolution")),
    ("unreachable", ("no route to host", "network is unreachable")),
    ("dropped", ("server closed the connection", "connection reset", "terminating connection",
                 "connection is closed", "remote end closed", "eof detected")),
    ("rejected", ("fatal:", "password authentication failed", "does not exist")),
    ("locked", ("database is locked",)),
    ("tls", ("ssl", "certificate")),
]  # fmt: skip


def reason(exc: BaseException) -> str:
    """A short class of why a part did not answer — "refused", "timeout", "unknown host",
    "unreachable", "dropped", "rejected", "locked", "tls" or "unavailable" — safe to show
    anyone: it never carries a host, a port, a user or a path."""
    seen = _chain(exc)
    for err in seen:
        if isinstance(err, TimeoutError):
            return "timeout"
        if isinstance(err, ConnectionRefusedError):
            return "refused"
        if isinstance(err, socket.gaierror):
            return "unknown host"
        if isinstance(err, ConnectionError):  # reset, aborted, broken pipe
            return "dropped"
        if isinstance(err, ssl.SSLError):
            return "tls"
    text = " ".join(str(err) for err in seen).lower()
    for name, words in _REASON_WORDS:
        if any(word in text for word in words):
            return name
    return "unavailable"


def first_line(exc: BaseException) -> str:
    """The first line of what ``exc`` says (its type when it says nothing), spaces collapsed."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return re.sub(r"\s+", " ", text)


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps: the driver's error, URLError's reason, causes."""
    out: list[BaseException] = []
    todo: list[object] = [exc]
    while todo and len(out) < 8:
        err = todo.pop(0)
        if isinstance(err, BaseException) and err not in out:
            out.append(err)
            todo += [getattr(err, "orig", None), getattr(err, "reason", None)]
            todo += [err.__cause__, err.__context__]
    return out


def _status_and_code(exc: SlackApiError) -> tuple[int, str]:
    return exc.response.status_code, slack_code(exc)


def slack_code(exc: SlackApiError) -> str:
    """Slack's error code, or "" (none, or slack_sdk's words for a body that is not JSON,
    which quote the start of the page)."""
    data = exc.response.data
    code = data.get("error") if isinstance(data, dict) else None
    return code if isinstance(code, str) and not code.startswith(_NOT_JSON) else ""
