"""Logging set up once in main(), with secrets scrubbed from every record and control
characters in messages escaped."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from storage.controls import escape_controls
from storage.credentials import Scrubber


class RedactingFilter(logging.Filter):
    """Scrubs the final message, traceback included, with the command output's scrubber:
    known secret values from the environment, credential shapes and URL userinfo."""

    def __init__(self, scrub: Callable[[str], str]) -> None:
        super().__init__()
        self.scrub = scrub

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


def setup_logging(level: int = logging.INFO, scrub: Callable[[str], str] | None = None) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(scrub or Scrubber(os.environ)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic narrates every migration step at INFO; ``db upgrade`` prints its own summary.
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))
    # slack_sdk logs every failed request and retry; the error that finally comes out of the
    # call is reported once, in one line, by whoever made it.
    logging.getLogger("slack_sdk.web.base_client").setLevel(
        level if level <= logging.DEBUG else logging.CRITICAL
    )
