"""Text from articles and Slack on its way into a commit message.

A commit message is lines, and its trailers (``Approved-by:``) are lines that reviewers and
``git log --grep`` trust. A path, a title or a display name may hold a newline, a carriage
return, an ESC sequence or a bidi control (U+202E makes a name read backwards); each is
written as a visible escape (``\\n``, ``\\x1b``, ``\\u202e``) by the same rule as the
terminal's (:func:`storage.controls.escape_controls`), so nothing from an article or Slack can
begin a line of its own, rewrite a terminal, read in another order, or cut a message short.
"""

from __future__ import annotations

from storage.controls import escape_controls


def one_line(text: str) -> str:
    """A title or a name for one line: runs of whitespace (line breaks too) become one
    space, and what control characters are left are escaped."""
    return escape_controls(" ".join(text.split()))


def escape_message(message: str) -> str:
    """A whole message whose line breaks are the caller's: everything else is escaped."""
    return escape_controls(message, keep="\n")
