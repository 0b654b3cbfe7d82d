"""Everything the command prints passes the scrubber the logs use.

``curator`` prints article text, commit links, URLs and error messages that quote other
programs; any of them may carry a token. Rather than trusting every ``click.echo`` to remember,
``sys.stdout`` and ``sys.stderr`` are replaced by streams that scrub each line on its way out:
``--json``, ``--dry-run`` payloads, click's own error messages and a traceback alike.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from typing import TextIO


class ScrubbedStream(io.TextIOBase):
    """A text stream that scrubs whole lines before they reach ``stream``.

    Text is held until a newline or a flush, so a secret split over two writes is still seen
    whole. It has no ``buffer``: click then writes text to it instead of going around it.
    """

    def __init__(self, stream: TextIO, scrub: Callable[[str], str]) -> None:
        super().__init__()
        self.stream = stream
        self._scrub = scrub
        self._pending = ""

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self.stream, "errors", None)

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # click probes with b"" to tell text from binary
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        head, newline, self._pending = (self._pending + text).rpartition("\n")
        if newline:
            self.stream.write(self._scrub(head + newline))
        return len(text)

    def flush(self) -> None:
        if getattr(self.stream, "closed", False):
            return  # the stream under us is gone (a test runner's buffer); nothing to say
        if self._pending:
            pending, self._pending = self._pending, ""
            self.stream.write(self._scrub(pending))
        self.stream.flush()


def scrub_standard_streams(scrub: Callable[[str], str]) -> None:
    """Route ``sys.stdout`` and ``sys.stderr`` through ``scrub`` (once; again is a no-op)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, ScrubbedStream):
            setattr(sys, name, ScrubbedStream(stream, scrub))
