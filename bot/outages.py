"""Known failures — the database, Slack, the content repo, the disk — as one line naming the fix.

An outage is an operator's problem, not a bug: a 138-line traceback for a database that is
down hides the one fact that matters (which host did not answer) and the fix. The command line
turns these into one line and exit code 1 (the traceback is logged at debug, shown with
``-v``); ``curator doctor`` shows the same lines as findings. Anything not recognised here is
a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
import re
from urllib.error import URLError
from urllib.parse import urlsplit

from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DatabaseError, DBAPIError, InterfaceError, OperationalError

from bot.config import ConfigError
from bot.runtime import SchemaError
from bot.slack_env import MissingSecrets
from storage.db import DatabaseURLError, normalize_url
from storage.gitrepo import GitError

DOCTOR = "'curator doctor' checks every part"

# Slack's error codes an operator can fix, and how.
_SLACK_FIXES = {
    "invalid_auth": "check SLACK_BOT_TOKEN",
    "not_authed": "set SLACK_BOT_TOKEN",
    "token_revoked": "the token was revoked: reinstall the app and update SLACK_BOT_TOKEN",
    "token_expired": "the token expired: reinstall the app and update SLACK_BOT_TOKEN",
    "account_inactive": "the app was removed or deactivated: reinstall it",
    "missing_scope": "add the scope to the app (manifests/slack-app.yml) and reinstall it",
    "not_in_channel": "invite the bot to the channel (/invite @Newsroom Curator)",
    "channel_not_found": "check slack.channel and invite the bot to it",
    "is_archived": "the channel is archived: set another slack.channel",
}
# Errors the operating system gives for a place the bot cannot write or read.
_DISK_ERRNOS = {
    errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.ENOTDIR, errno.ENOENT,
    errno.EEXIST,  # a file where a directory should be made
}  # fmt: skip


def explain(exc: BaseException, *, database_url: str | None, slack_api_url: str) -> str | None:
    """One line for a known failure, or None for anything else (a bug: keep the traceback)."""
    if isinstance(exc, ConfigError | SchemaError | GitError | MissingSecrets):
        return str(exc)
    if isinstance(exc, DatabaseURLError):
        return f"{exc} (check DATABASE_URL, or database: in curator.yml)"
    if isinstance(exc, DBAPIError):
        return database_problem(exc, database_url)
    if isinstance(exc, SlackApiError):
        return slack_api_problem(exc)
    if isinstance(exc, URLError | OSError) and _raised_in_slack_sdk(exc):
        return slack_unreachable(exc, slack_api_url)
    if isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS and exc.filename:
        return (
            f"{exc.strerror}: {exc.filename}; check that path (content.checkout, the SQLite "
            "file) and that the bot's user may write there"
        )
    return None


def database_problem(exc: DBAPIError, url: str | None) -> str | None:
    """What the database said and where; None for a statement's own error (a bug)."""
    # Not IntegrityError, ProgrammingError and the like: those are the statement's fault.
    if not (isinstance(exc, OperationalError | InterfaceError) or type(exc) is DatabaseError):
        return None
    reason = _first_line(exc.orig)
    parsed = _parse(url)
    if parsed is not None and parsed.get_backend_name() == "sqlite":
        path = parsed.database or ":memory:"
        folder = path.rsplit("/", 1)[0] or "/"
        if "unable to open" in reason or "readonly" in reason:
            return (
                f"cannot open the SQLite database {path} ({reason}): check that {folder} "
                "exists and the bot's user may write there, or set DATABASE_URL"
            )
        if "not a database" in reason:
            return f"{path} is not a SQLite database: point DATABASE_URL at another file"
        if "locked" in reason:
            return f"the SQLite database {path} is locked by another process: try again"
        return f"SQLite database {path}: {reason}"
    if parsed is not None:
        where = f"{parsed.host}:{parsed.port or 5432}" if parsed.host else "the local socket"
        target = f"database at {where}"
    else:
        target = "database"
    # psycopg says "connection failed: connection to server at ..., port N failed: WHY"
    reason = reason.rsplit(" failed: ", 1)[-1]
    if reason.startswith("FATAL"):  # it answered, and said no: a wrong name or password
        return f"{target} refused the connection ({reason}): check DATABASE_URL; {DOCTOR}"
    return f"{target} did not answer ({reason}): is it running? check DATABASE_URL; {DOCTOR}"


def slack_fix(code: str, default: str = "run 'curator doctor' to check the setup") -> str:
    """How an operator fixes Slack's error ``code`` (``default`` when it is not theirs to fix)."""
    return _SLACK_FIXES.get(code, default)


def slack_api_problem(exc: SlackApiError) -> str:
    """Slack's error code and, for the ones an operator can fix, the fix."""
    code = str(exc.response.get("error") or "an error")
    fix = slack_fix(code)
    if code == "missing_scope" and exc.response.get("needed"):
        fix = f"{exc.response['needed']} is missing: {fix}"
    return f"Slack said {code}; {fix}"


def slack_unreachable(exc: BaseException, api_url: str) -> str:
    host = urlsplit(api_url).netloc.rsplit("@", 1)[-1] or api_url
    reason = exc.reason if isinstance(exc, URLError) else exc
    text = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
    return (
        f"Slack did not answer at {host} ({text}): check the network, or SLACK_API_URL if it "
        f"is set; {DOCTOR}"
    )


def _raised_in_slack_sdk(exc: BaseException) -> bool:
    """Whether the error came out of a Slack call (and not, say, a file being written)."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__", "").startswith(("slack_sdk", "slack_bolt")):
            return True
        tb = tb.tb_next
    return False


def _parse(url: str | None) -> URL | None:
    if not url:
        return None
    try:
        return make_url(normalize_url(url.strip()))
    except Exception:
        return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return re.sub(r"\s+", " ", text)
