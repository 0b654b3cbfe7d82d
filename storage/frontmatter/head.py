"""A few top-level keys read from the first lines of the frontmatter, or None to look further.

A collector writes the keys every article has first, one `key: scalar` line each, and the
blocks (provider, topics, related stories) after them. The keys the scan needs of a live
article (its flag, title and URL) are among those first lines, so they can be read without
following the rest line by line: that costs most of a live article's reading, and nine
articles in ten are live.

:func:`read` reads lines from the top while each is a column-0 `key: scalar` line (blank and
comment lines between them are fine), building each scalar as ``flat`` does, until every
wanted key is found. The rest of the text can then only change what PyYAML makes of those
keys by naming one of them again at column 0, or through a column-0 line that is not a plain
`key:`, a `- ` entry or a comment (a quoted, complex, tagged, aliased or merge key), or a
character YAML reads as a line break where a line scanner does not: one search over the rest
finds any of these, and then the caller goes the long way. As with :func:`fast_path.parse_keys`,
a YAML error on a line no wanted key is read from may go unnoticed.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from storage.frontmatter.flat import WORD, Unusual, hidden_break, plain, scalar, usual
from storage.frontmatter.read import CLOSING_LINE

# The head: `key: value` lines whose value ends on its line, and blank and comment lines.
# A value ends on its line when it is plain (not starting with an indicator, see flat), or
# quoted and closed with at most a comment after. Anything else (a flow collection, a block
# scalar, an anchor, alias or tag, an empty value with its block below) ends the head.
_VALUE = (
    rb"(?:(?:[^-?:,\[\]{}#&*!|>'\"%@` \n]|[-?:](?=[^ \n]))[^\n]*+"
    rb'|(?:"[^"\\\n]*+(?:\\.[^"\\\n]*+)*+"' + rb"|'[^'\n]*+(?:''[^'\n]*+)*+')(?: +#[^\n]*+)? *+)"
)
_WORD_KEY = WORD.encode()
_HEAD = re.compile(rb"(?:[ ]*+(?:#[^\n]*+)?\n|" + _WORD_KEY + rb": ++" + _VALUE + rb"\n)*+")
_WORD = re.compile(WORD + r"\Z")
# After the head: blank and comment lines, then the end or a line at column 0 that is not a
# `- ` entry (indented, or an entry, the line would go on with the head's last value).
_ENDS_THERE = re.compile(rb"(?:[ ]*+(?:#[^\n]*+)?\n)*+(?:\Z|[^ -]|-(?![ \t\n]|\Z))")


@functools.lru_cache(maxsize=64)
def _rest_check(wanted: frozenset[str]) -> re.Pattern[bytes] | None:
    """A search over the text after the head that stops at the frontmatter's closing line
    (group ``close``), or before it at a column-0 line that could name a wanted key again
    or that is not a plain `key:`, `- ` entry or comment; None when a wanted key is not a
    plain word that reads as itself (it is never found in a head)."""
    if not wanted or not all(_WORD.match(k) and plain(k) == k for k in wanted):
        return None
    names = b"|".join(re.escape(k.encode()) for k in sorted(wanted))
    # Most lines are indented (a block's): the lookahead first passes each of them over in
    # one step, where trying every alternative on it cost 40% more.
    return re.compile(
        rb"\n(?=[^ ])(?:(?P<close>" + CLOSING_LINE + rb")"
        rb"|(?:" + names + rb")[ \t]*+:"  # a wanted key again
        rb"|(?![\n#]|-(?:[ \t\n]|\Z)|" + _WORD_KEY + rb"[ \t]*+:(?:[ \t\n]|\Z)))"
    )


def read(data: bytes, start: int, wanted: frozenset[str]) -> tuple[dict[str, Any], int] | None:
    """The wanted keys as PyYAML reads them from the frontmatter of ``data`` (valid UTF-8,
    its YAML starting at ``start``, after the opening line), and where the YAML ends (as
    read.split says); None when the keys are not all in its first `key: scalar` lines, the
    rest might change them, or there is no closing line. The search for anything below that
    could change the keys is the one that finds the closing line."""
    rest_check = _rest_check(wanted)
    if rest_check is None:
        return None
    end = _HEAD.match(data, start).end()
    # The wanted values first (cheap, and where a key is not in the head, as in a repo that
    # writes its flag elsewhere or not at all, nothing more is looked at).
    head = data[start - 1 : end]  # from the line break that ends the opening line
    raw: dict[str, bytes] = {}
    for key in wanted:
        needle = _needle(key)
        at = head.find(needle)
        if at < 0 or head.find(needle, at + 1) >= 0:
            return None  # not there (perhaps below), or twice: the long way says which
        at += len(needle)
        raw[key] = head[at : head.index(b"\n", at)]
    # After the head: blank and comment lines, then the end or a line at column 0 (else the
    # head's last value goes on there), and nothing below names a wanted key again.
    if _ENDS_THERE.match(data, end) is None:
        return None
    stop = rest_check.search(data, end - 1)
    if stop is None or stop.lastgroup != "close":
        return None
    # Lines as YAML sees them only if no CR (a CRLF file, or a lone CR: a line break to
    # YAML) and no NEL, LS, PS or BOM comes before the closing line.
    close = stop.start() + 1
    if data.find(b"\r", 0, close) >= 0 or hidden_break(data, close):
        return None
    found: dict[str, Any] = {}
    for key, value in raw.items():
        text = value.decode("utf-8")
        if not usual(value, text):
            return None  # a tab, or a character YAML refuses (a control, U+FFFE...)
        try:
            found[key] = scalar(text.strip(" "))
        except Unusual:
            return None
    return found, close


@functools.lru_cache(maxsize=64)
def _needle(key: str) -> bytes:
    return b"\n" + key.encode() + b":"
