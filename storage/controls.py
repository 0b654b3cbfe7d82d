"""Characters that must never reach a terminal, a log or a commit message raw, and how to
show them instead.

File names, frontmatter and Slack display names are written by others: an ESC sequence in a
file name can recolour or clear an operator's terminal, a newline can forge a line of output
or a commit trailer, and a bidi control can make a name read backwards. Such text is shown
with visible escapes (``\\x1b``, ``\\n``, ``\\u202e``), never as the character itself, and
nothing is removed: the terminal, the logs and commit messages (``storage.commit_text``) all
use :func:`escape_controls`. (Slack is different: there such characters are removed, by
``bot.slack.text.clean``.)
"""

from __future__ import annotations

import re

# C0 and DEL, C1 (NEL among them), the line and paragraph separators, the bidi controls
# (marks, embeddings, overrides, isolates), the invisible characters that can hide in a name
# (zero-width space, word joiner and the invisible operators, the BOM, the Mongolian vowel
# separator; not the joiners U+200C/U+200D, which shape scripts and emoji), and lone
# surrogates (a file name that is not UTF-8, decoded with surrogateescape), which no
# terminal encoding can write.
CONTROLS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u180e\u200b\u200e\u200f\u2028\u2029\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff\ud800-\udfff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(m: re.Match[str]) -> str:
    ch = m.group()
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str, *, keep: str = "") -> str:
    """``text`` with every control character written as a visible escape.

    ``keep`` names characters to leave alone (``"\\n"`` for text whose lines are layout,
    such as a rendered card).
    """
    if not keep:
        return CONTROLS.sub(_escape, text)
    return CONTROLS.sub(lambda m: m.group() if m.group() in keep else _escape(m), text)
