"""Text from articles and Slack on its way into a commit message.

A commit message is lines, and its trailers (``Approved-by:``) are lines that reviewers and
``git log --grep`` trust. A path, a title or a display name may hold a newline, a carriage
return or another control character; here each is written as a visible escape (``\\n``,
``\\x1b``), so nothing from an article or Slack can begin a line of its own, rewrite a
terminal, or cut a message short.
"""

from __future__ import annotations

import unicodedata

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Control characters (C0, DEL, C1) and Unicode's line and paragraph separators.
_ESCAPED = {"Cc", "Zl", "Zp"}


def escape_controls(text: str) -> str:
    """``text`` with every control character and line separator written as an escape."""
    if text.isprintable():  # the usual case, and the cheap test
        return text
    return "".join(_escape(ch) if unicodedata.category(ch) in _ESCAPED else ch for ch in text)


def one_line(text: str) -> str:
    """A title or a name for one line: runs of whitespace (line breaks too) become one
    space, and what control characters are left are escaped."""
    return escape_controls(" ".join(text.split()))


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_message(message: str) -> str:
    """A whole message whose line breaks are the caller's: everything else is escaped."""
    return "\n".join(escape_controls(line) for line in message.split("\n"))
