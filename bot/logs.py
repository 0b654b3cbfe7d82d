"""Logging set up once in main(), with secrets scrubbed from every record and control
characters in messages escaped."""

from __future__ import annotations

import logging
import os
import re

from storage.controls import escape_controls
from storage.gitrepo import redact

SECRET_VARS = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DATABASE_URL")
# Slack token shapes, in case one arrives from somewhere other than our environment.
_TOKEN = re.compile(r"\bx(?:ox[abposr]|app)-[A-Za-z0-9-]+")


class RedactingFilter(logging.Filter):
    """Replaces known secret values and token-shaped strings in the final message."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if len(s) >= 6]

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return redact(_TOKEN.sub("***", text))

    def filter(self, record: logging.LogRecord) -> bool:
        # A file name or title in a message must neither forge a log line nor reach a
        # terminal raw; the traceback's own lines stay lines.
        message = escape_controls(record.getMessage())
        if record.exc_info:
            # Format the traceback now so the scrub covers it too.
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg, record.args = self.scrub(message), ()
        return True


def setup_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter([os.environ.get(v, "") for v in SECRET_VARS]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic narrates every migration step at INFO; ``db upgrade`` prints its own summary.
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))
