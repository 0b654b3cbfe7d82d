"""Where the top-level keys of the frontmatter are, found line by line without loading it."""

from __future__ import annotations

import functools
import re
from collections.abc import Collection
from dataclasses import dataclass

import yaml

from storage.frontmatter.flat import WORD, hidden_break
from storage.frontmatter.read import FrontmatterError, line_of, split

# --------------------------------------------------------------------------------------------
# A line scanner just good enough to find top-level keys without loading the YAML.
#
# Top-level keys are the column-0 lines that look like `key:`. That is only true if no
# multi-line construct (a quoted string or a flow collection spanning lines) is open at that
# line: PyYAML accepts continuation lines of such constructs at column 0. So the lines before
# a needed key are checked: the common ones by one regex ("simple" lines, which cannot open
# anything), the rest by a small tokenizer that follows quotes, flow brackets, block scalars,
# anchors and aliases.

PLAIN = (
    # First character: not an indicator; '-', '?', ':' only when glued to the next character.
    rb"(?:[^\s\-?:,\[\]{}#&*!|>'\"%@`]|[-?:](?=[^ \t\r\n]))"
    # Then anything but ': ' (a value indicator) and ' #' (a comment).
    rb"[^\r\n:#]*+(?:(?::(?![ \t\r\n]|\Z)|(?<![ \t])\#)[^\r\n:#]*+)*+"
)
DQ = rb'"[^"\\\r\n]*+(?:\\[^\r\n][^"\\\r\n]*+)*+"'
SQ = rb"'[^'\r\n]*+(?:''[^'\r\n]*+)*+'"
SCALAR = rb"(?:" + DQ + rb"|" + SQ + rb"|" + PLAIN + rb")"
_SIMPLE_RUN = re.compile(
    rb"(?:[ ]*+"  # indentation
    rb"(?:-(?:[ \t]++|(?=\r?\n)))*+"  # sequence entries
    rb"(?:" + SCALAR + rb"[ \t]*+(?::(?:[ \t]++|(?=\r?\n))(?:" + SCALAR + rb")?)?)?"
    rb"[ \t]*+(?:(?<![^ \t\n])\#[^\r\n]*+)?\r?\n)*+"
)
KEY = re.compile(
    rb"(?:\"(?P<dq>[^\"\\\r\n]*+)\"|'(?P<sq>[^'\r\n]*+(?:''[^'\r\n]*+)*+)'|(?P<plain>"
    + PLAIN
    + rb"))[ \t]*+:(?=[ \t\r\n]|\Z)"
)
_COL0 = re.compile(rb"\n(?=[^ \r\n])")  # a line that starts at column 0
BLANKS = re.compile(rb"(?:[ \t]*+(?:\#[^\n]*+)?\r?\n)*+")  # blank and comment lines
_DQ_REST = re.compile(rb'(?:[^"\\]++|\\.)*+"', re.DOTALL)
_SQ_REST = re.compile(rb"(?:[^']++|'')*+'")
_BLOCK_HEADER = re.compile(
    rb"(?P<ind>[1-9][+-]?|[+-][1-9]?)?(?:[ \t]++(?:\#[^\n]*+)?)?\r?(?:\n|\Z)"
)
_BLOCK_CONTENT: dict[int, re.Pattern[bytes]] = {}


@dataclass
class _Scan:
    """What :func:`scan_lines` found: anchor/alias offsets; column-0 lines inside constructs."""

    marks: list[int]
    inside: list[int]
    ok: bool = True


def scan_lines(text: bytes, end: int, *, strict: bool) -> _Scan:
    """Follow text[:end] line by line.

    strict: stop at the first thing not understood, or a column-0 line inside a construct
    (``ok`` becomes False). Otherwise skip what is not understood and record such lines.
    """
    result = _Scan([], [])
    pos = 0
    while pos < end:
        pos = _SIMPLE_RUN.match(text, pos, end).end()
        if pos >= end:
            break
        nxt = _hard_line(text, pos, end, result, strict)
        if nxt < 0:
            if strict:
                result.ok = False
                return result
            nxt = _line_end(text, pos, end) + 1
        pos = nxt
    return result


def _line_end(text: bytes, pos: int, end: int) -> int:
    i = text.find(b"\n", pos, end)
    return end if i < 0 else i


def _hard_line(text: bytes, pos: int, end: int, scan: _Scan, strict: bool) -> int:
    """Tokenize one line the simple regex rejected; return where the next line starts, or -1."""
    line = pos
    eol = _line_end(text, pos, end)
    i = pos
    while i < eol and text[i] == 0x20:
        i += 1
    if i < eol and text[i] == 0x09:
        return -1  # a tab in the indentation
    parent = i - line  # column of the innermost block collection: bounds a block scalar
    node = parent
    expect = True  # a node may start here
    while True:
        while i < eol and text[i] in b" \t":
            i += 1
        if i >= eol or text[i] == 0x0D:
            return eol + 1
        c = text[i]
        glued = i + 1 < eol and text[i + 1] not in b" \t\r"
        if c == 0x23:  # '#'
            return eol + 1 if text[i - 1] in b" \t\n" else -1
        if not expect:
            if c == 0x3A and not glued:  # ':' after a quoted key or an alias
                parent, i, expect = node, i + 1, True
                continue
            return -1
        if c in b"-?" and not glued:
            parent, i = i - line, i + 1
            continue
        if c == 0x3A and not glued:
            i += 1
            continue
        if c in b"&*!":
            if c != 0x21:  # '!' is a tag: harmless here, the loader checks it
                scan.marks.append(i)
            node = i - line
            while i < eol and text[i] not in b" \t\r":
                i += 1
            expect = c != 0x2A  # an alias is a whole node
            continue
        if c in b"|>":
            return _skip_block_scalar(text, i + 1, end, parent)
        if c in b"\"'[{":
            node = i - line
            close = _quote_end(text, i, end) if c in b"\"'" else _flow_end(text, i, end, scan)
            if close < 0 or not _continuation_ok(text, i, close, scan, strict):
                return -1
            if close > eol:
                line = text.rfind(b"\n", 0, close) + 1
                eol = _line_end(text, close, end)
            i, expect = close, False
            continue
        # A plain scalar: it ends at ': ' (then it was a key) or ' #' or the end of the line.
        node = i - line
        while i < eol:
            c = text[i]
            if c == 0x3A and (i + 1 >= eol or text[i + 1] in b" \t\r"):
                break
            if c == 0x23 and text[i - 1] in b" \t":
                break
            i += 1
        if i < eol and text[i] == 0x3A:
            parent, i, expect = node, i + 1, True
            continue
        return eol + 1


def _quote_end(text: bytes, i: int, end: int) -> int:
    rest = _DQ_REST if text[i] == 0x22 else _SQ_REST
    m = rest.match(text, i + 1, end)
    return m.end() if m else -1


def _flow_end(text: bytes, i: int, end: int, scan: _Scan) -> int:
    """Index just past the flow collection opening at i, or -1 if it does not close."""
    depth = 0
    plain = False  # inside a plain scalar, where quotes and '&' are just text
    json_like = False  # right after a quoted scalar or a collection, where ':' is an indicator
    while i < end:
        c = text[i]
        if c in b" \t\r\n":
            i += 1
            continue
        if c == 0x23 and text[i - 1] in b" \t\r\n":  # a comment ends the line
            i = _line_end(text, i, end)
            plain = False
            continue
        nxt = text[i + 1] if i + 1 < end else 0x0A
        if c in b"[{":
            depth, i, plain, json_like = depth + 1, i + 1, False, False
            continue
        if c in b"]}":
            depth, i, plain, json_like = depth - 1, i + 1, False, True
            if depth == 0:
                return i
            continue
        if c == 0x2C:
            i, plain, json_like = i + 1, False, False
            continue
        if c == 0x3A and (json_like or nxt in b" \t\r\n,[]{}"):
            i, plain, json_like = i + 1, False, False
            continue
        json_like = False
        if plain:
            i += 1
            continue
        if c == 0x3F and nxt in b" \t\r\n":
            i += 1
            continue
        if c in b"\"'":
            i = _quote_end(text, i, end)
            if i < 0:
                return -1
            json_like = True
            continue
        if c in b"&*!":
            if c != 0x21:
                scan.marks.append(i)
            while i < end and text[i] not in b" \t\r\n,[]{}":
                i += 1
            continue
        plain = True
        i += 1
    return -1


def _continuation_ok(text: bytes, i: int, close: int, scan: _Scan, strict: bool) -> bool:
    """A construct spanning lines: are its continuation lines indented (not at column 0)?"""
    for m in _COL0.finditer(text, i, close):
        if strict:
            return False
        scan.inside.append(m.end())
    return True


def _skip_block_scalar(text: bytes, i: int, end: int, parent: int) -> int:
    """Skip a `|` or `>` scalar whose header ends at i; its lines are indented past `parent`."""
    header = _BLOCK_HEADER.match(text, i, end)
    if header is None:
        return -1
    pos = header.end()
    digits = [d for d in header["ind"] or b"" if 0x31 <= d <= 0x39]
    if digits:
        indent = parent + digits[0] - 0x30
    else:
        # The first non-blank line sets the indentation (at least parent + 1).
        first = pos
        while first < end:
            eol = _line_end(text, first, end)
            if text[first:eol].strip(b" \r"):
                break
            first = eol + 1
        indent = 0
        while first + indent < end and text[first + indent] == 0x20:
            indent += 1
        if indent <= parent:
            return pos
    content = _BLOCK_CONTENT.get(indent)
    if content is None:
        content = re.compile(rb"(?:[ ]*+\r?\n|[ ]{%d}[^\n]*+\n)*+" % indent)
        _BLOCK_CONTENT[indent] = content
    return content.match(text, pos, end).end()


def key_name(m: re.Match[bytes]) -> str | None:
    """The key of a `key:` line as PyYAML reads it; None if that is not a str (`true:`)."""
    if m["plain"] is not None:
        plain = m["plain"].rstrip(b" \t")
        return plain.decode("utf-8") if _plain_is_str(plain) else None
    if m["sq"] is not None:
        return m["sq"].replace(b"''", b"'").decode("utf-8")
    return m["dq"].decode("utf-8")


_RESOLVER = yaml.resolver.Resolver()


@functools.lru_cache(maxsize=4096)
def _plain_is_str(plain: bytes) -> bool:
    # Keys repeat across files (title, date...), so the cache makes this nearly free.
    tag = _RESOLVER.resolve(yaml.ScalarNode, plain.decode("utf-8"), (True, False))
    return tag == _RESOLVER.DEFAULT_SCALAR_TAG


def top_keys(
    text: bytes, *, strict: bool, skip: Collection[int] = ()
) -> list[tuple[int, str | None]] | None:
    """(offset, name) of every column-0 key line; name is None for a key that is not a str.

    Comment lines and `- ` entries (a sequence under the previous key) are fine; `skip` holds
    column-0 lines known to continue a construct. Any other column-0 line gives None when
    strict, and is passed over otherwise.
    """
    if not skip:
        found = _simple_top_keys(text, strict)
        if found is not False:
            return found
    keys: list[tuple[int, str | None]] = []
    starts = [m.end() for m in _COL0.finditer(text)]
    if text[:1] not in (b"", b" ", b"\r", b"\n"):
        starts.insert(0, 0)
    for pos in starts:
        if pos in skip:
            continue
        c = text[pos]
        if c == 0x23:  # '#'
            continue
        if c == 0x2D and text[pos + 1 : pos + 2] in (b"", b" ", b"\t", b"\r", b"\n"):
            if strict and not keys:
                return None  # the frontmatter is a list
            continue
        m = KEY.match(text, pos)
        # '<<' merges keys in from elsewhere; a '"..."' key with escapes is left to PyYAML.
        if m is None or (m["plain"] is not None and m["plain"].rstrip() == b"<<"):
            if strict:
                return None
            continue
        keys.append((pos, key_name(m)))
    return keys


# A column-0 line: a plain word key (the common case), a comment or `- ` entry, or other.
_TOP_LINE = re.compile(
    rb"\n(?=[^ \r\n])(?:(?P<key>" + WORD.encode() + rb")[ \t]*+:(?=[ \t\r\n]|\Z)"
    rb"|(?P<entry>-(?=[ \t\r\n]|\Z))|\#|(?P<other>))"
)


def _simple_top_keys(text: bytes, strict: bool) -> list[tuple[int, str | None]] | bool | None:
    """top_keys in one regex pass when every column-0 line is a word key, a comment or a
    `- ` entry; False when another line is there (top_keys then looks at each line)."""
    keys: list[tuple[int, str | None]] = []
    for m in _TOP_LINE.finditer(b"\n" + text):
        name = m["key"]
        if name is not None:
            keys.append((m.start(), _word_key(name)))
        elif m["other"] is not None:
            return False
        elif m["entry"] is not None and strict and not keys:
            return None  # the frontmatter is a list
    return keys


@functools.lru_cache(maxsize=4096)
def _word_key(name: bytes) -> str | None:
    return name.decode("ascii") if _plain_is_str(name) else None


def breaks_unseen(text: bytes) -> bool:
    """Whether YAML sees line breaks (or a BOM) where the line scanner does not."""
    if hidden_break(text):
        return True
    return b"\r" in text and text.count(b"\r") != text.count(b"\r\n")  # a lone CR


def key_blocks(text: bytes) -> dict[str, list[tuple[int, int]]]:
    """Every column-0 key: where its line starts and where its block (up to the next) ends."""
    scan = scan_lines(text, len(text), strict=False)
    keys = top_keys(text, strict=False, skip=frozenset(scan.inside)) or []
    blocks: dict[str, list[tuple[int, int]]] = {}
    for n, (pos, name) in enumerate(keys):
        end = keys[n + 1][0] if n + 1 < len(keys) else len(text)
        if name is not None:
            blocks.setdefault(name, []).append((pos, end))
    return blocks


def key_line(data: bytes, key: str) -> int | None:
    """The line of the file that top-level ``key`` is on (the first, if twice), for a message
    that sends an editor to it; None when the line scanner does not find it there."""
    try:
        where = split(data)
    except FrontmatterError:
        return None
    found = key_blocks(data[where.start : where.end]).get(key)
    return line_of(data, where.start + found[0][0]) if found else None
