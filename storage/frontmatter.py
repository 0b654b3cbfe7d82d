"""Read and edit the YAML frontmatter of an article, as pure functions over its bytes.

A file with frontmatter starts with a ``---`` line (after an optional UTF-8 BOM) and the YAML
runs up to the next ``---`` or ``...`` line. Only PyYAML's safe loader is used, the C one when
it is installed. Reading has a full path (:func:`parse`) and a fast path for a few top-level
keys (:func:`parse_keys`); :func:`set_keys` rewrites the value of top-level scalar keys and
keeps every other byte of the file.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

__all__ = [
    "GONE",
    "LOADER",
    "MAX_BYTES",
    "VALUE_ERRORS",
    "EditError",
    "FrontmatterError",
    "Split",
    "changed_values",
    "key_line",
    "parse",
    "parse_keys",
    "set_keys",
    "split",
]

#: Files larger than this are refused (an article is a few kB; this bounds the work per file).
MAX_BYTES = 1_000_000

#: The safe loader in use: libyaml's when PyYAML was built with it (about 10x faster).
LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_BOM = b"\xef\xbb\xbf"


class FrontmatterError(ValueError):
    """The file has no usable frontmatter; ``reason`` says why in one line.

    ``line`` is the 1-based line of the file the problem is on, when known.
    """

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


class EditError(ValueError):
    """:func:`set_keys` refused an edit; the message names the key (also in ``key``)."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Split:
    """Where the YAML text sits in the file: ``data[start:end]``, between the delimiter lines."""

    start: int
    end: int
    newline: bytes  # b"\n" or b"\r\n", as the opening '---' line ends
    bom: bool


# --------------------------------------------------------------------------------------------
# split

_OPEN = re.compile(rb"---[ \t]*(\r?\n)")
# Jekyll's rule: the first later line that is exactly '---' or '...' (trailing blanks allowed).
# Searched as '\n---' rather than '^---' with MULTILINE, which is several times slower.
_CLOSE = re.compile(rb"\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\r?\Z)")


def split(data: bytes, *, max_bytes: int | None = None) -> Split:
    """Locate the frontmatter of a file.

    Raises FrontmatterError for a file over ``max_bytes`` (default MAX_BYTES), a binary or
    non-UTF-8 file, one that does not start with a ``---`` line, or one with no closing line.
    """
    limit = MAX_BYTES if max_bytes is None else max_bytes
    if len(data) > limit:
        raise FrontmatterError(f"file too large ({_size(len(data))} > {_size(limit)} limit)")
    nul = data.find(b"\0")
    if nul >= 0:
        raise FrontmatterError(f"file is binary (NUL byte at byte {nul})", _line_of(data, nul))
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FrontmatterError(
                f"not UTF-8 at byte {exc.start}", _line_of(data, exc.start)
            ) from None
    bom = data.startswith(_BOM)
    pos = len(_BOM) if bom else 0
    opening = _OPEN.match(data, pos)
    if opening is None:
        raise FrontmatterError(_no_frontmatter(data, pos), 1)
    start = opening.end()
    closing = _CLOSE.search(data, start - 1)  # from the '\n' ending the opening line
    if closing is None:
        raise FrontmatterError(
            "unterminated frontmatter: no closing '---' line after the opening one on line 1", 1
        )
    return Split(start, closing.start() + 1, opening.group(1), bom)


def _no_frontmatter(data: bytes, pos: int) -> str:
    rest = data[pos:]
    if not rest.strip():
        return "no frontmatter: file is empty"
    if rest.rstrip() == b"---":
        return "unterminated frontmatter: the file is only a '---' line"
    if rest.startswith(b"---"):
        first = rest.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", "replace")
        return f"no frontmatter: the first line is {first[:40]!r}, not '---'"
    if rest.startswith(b"+++"):
        return "no frontmatter: TOML frontmatter ('+++') is not supported"
    stripped = rest.lstrip(b" \t\r\n")
    if _OPEN.match(stripped):
        # Hugo skips leading blank lines; Jekyll and this module do not.
        blank = rest.count(b"\n", 0, len(rest) - len(stripped))
        what = f"{blank} blank line{'s' if blank != 1 else ''}" if blank else "spaces"
        return f"no frontmatter: file does not start with '---' (it comes after {what})"
    return "no frontmatter: file does not start with '---'"


def _size(n: int) -> str:
    if n < 1000:
        return f"{n} bytes"
    if n < 1_000_000:
        return f"{n / 1000:.3g} kB"
    return f"{n / 1_000_000:.3g} MB"


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


# --------------------------------------------------------------------------------------------
# parse


def parse(
    data: bytes, *, max_bytes: int | None = None, unique: Collection[str] = ()
) -> dict[str, Any]:
    """The whole frontmatter mapping (empty frontmatter gives ``{}``).

    ``unique`` names top-level keys that must not be there twice: PyYAML keeps the last one
    silently, so `published: true` ... `published: false` would read as unpublished while
    the line an editor sees says published. Such a file raises FrontmatterError naming the
    key and its lines. Keys nobody reads may repeat (real repos have harmless ones).
    """
    where = split(data, max_bytes=max_bytes)
    return _load_mapping(data, where, unique)


# PyYAML's constructors raise these, not YAMLError, for a value that looks like a type but is
# not one: the date 2021-02-30, or `!!int "zz"`.
VALUE_ERRORS = (ValueError, TypeError, AttributeError, OverflowError)


def _load_mapping(data: bytes, where: Split, unique: Collection[str] = ()) -> dict[str, Any]:
    # libyaml reads bytes about twice as fast as str, and the text is known to be UTF-8.
    try:
        doc = _load(data, where, unique)
    except FrontmatterError:
        raise  # a repeated key: already one line with its place
    except yaml.YAMLError as exc:
        reason, line = _yaml_reason(exc, data, where.start)
        raise FrontmatterError(reason, line) from None
    except VALUE_ERRORS as exc:
        reason, line = _value_reason(exc, data, where)
        raise FrontmatterError(reason, line) from None
    except RecursionError:
        raise FrontmatterError("frontmatter is nested too deeply", 2) from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise FrontmatterError(f"frontmatter is {_kind(doc)}, not a mapping", 2)
    return doc


def _load(data: bytes, where: Split, unique: Collection[str]) -> Any:
    """yaml.load, with a look at the top-level keys between composing and constructing."""
    loader = LOADER(data[where.start : where.end])
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if unique and isinstance(node, yaml.MappingNode):
            _refuse_repeats(node, unique, data, where)
        return loader.construct_document(node)
    finally:
        loader.dispose()


_STR_TAG = "tag:yaml.org,2002:str"


def _refuse_repeats(
    node: yaml.MappingNode, unique: Collection[str], data: bytes, where: Split
) -> None:
    """Raise FrontmatterError when a key of ``unique`` is a top-level key more than once."""
    lines: dict[str, list[int]] = {}
    for key, _ in node.value:
        if isinstance(key, yaml.ScalarNode) and key.tag == _STR_TAG and key.value in unique:
            lines.setdefault(key.value, []).append(key.start_mark.line)
    for name, found in lines.items():
        if len(found) > 1:
            before = data.count(b"\n", 0, where.start)
            numbers = [str(line + before + 1) for line in found]
            listed = ", ".join(numbers[:-1]) + " and " + numbers[-1]
            raise FrontmatterError(
                f"duplicate key {name!r} on lines {listed}: keep one "
                "(YAML would silently use the last)",
                int(numbers[0]),
            )


_TAG = re.compile(
    r"constructor for the tag '(?:tag:yaml\.org,2002:(?P<std>[^']*)|(?P<other>[^']*))'"
)


def _yaml_reason(exc: yaml.YAMLError, data: bytes, start: int) -> tuple[str, int | None]:
    """One line naming the problem and where it is in the *file*, so an editor can jump."""
    before = data.count(b"\n", 0, start)  # lines of the file before the YAML text
    if isinstance(exc, yaml.MarkedYAMLError):
        problem = exc.problem or exc.context or "invalid YAML"
        tag = _TAG.search(problem)
        if tag:
            problem = f"unsupported YAML tag {'!!' + tag['std'] if tag['std'] else tag['other']}"
        elif exc.context and exc.problem:
            where = f" at line {exc.context_mark.line + before + 1}" if exc.context_mark else ""
            problem = f"{problem} ({exc.context}{where})"
        problem = " ".join(problem.split())
        mark = exc.problem_mark or exc.context_mark
        if mark is None:
            return f"YAML error: {problem}", None
        line = mark.line + before + 1
        return f"YAML error at line {line}, column {mark.column + 1}: {problem}", line
    if isinstance(exc, yaml.reader.ReaderError):
        # libyaml reports a byte offset into the YAML text.
        line = _line_of(data, start + exc.position)
        return f"YAML error at line {line}: {' '.join(exc.reason.split())}", line
    return f"YAML error: {' '.join(str(exc).split())}", None


_REASON_NODES = 100_000  # enough for any article; bounds the search for a hostile one


def _value_reason(exc: Exception, data: bytes, where: Split) -> tuple[str, int | None]:
    """Name the scalar a constructor refused, with its line: the error itself has neither."""
    problem = " ".join(str(exc).split()) or type(exc).__name__
    before = data.count(b"\n", 0, where.start)
    constructor = yaml.constructor.SafeConstructor()
    try:
        stack = [yaml.compose(data[where.start : where.end], Loader=LOADER)]
    except yaml.YAMLError:
        stack = []
    seen: set[int] = set()  # aliases make the node graph cyclic, or exponential as a tree
    while stack and len(seen) < _REASON_NODES:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            try:
                constructor.construct_object(node, deep=True)
            except yaml.YAMLError:
                continue  # fine in its place (a `<<` merge key), not on its own
            except VALUE_ERRORS as own:
                line = node.start_mark.line + before + 1
                shown = node.value if len(node.value) <= 40 else node.value[:39] + "…"
                kind = node.tag.rpartition(":")[2]
                # PyYAML's own words help for a date (day out of range); not for a crash.
                why = "" if isinstance(own, AttributeError) else f" ({problem})"
                return f"value {shown!r} at line {line} is not a valid {kind}{why}", line
        elif isinstance(node, yaml.MappingNode):
            stack.extend(part for pair in reversed(node.value) for part in reversed(pair))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
    return f"a value cannot be read: {problem}", None


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return f"a {type(value).__name__}"


# --------------------------------------------------------------------------------------------
# A line scanner just good enough to find top-level keys without loading the YAML.
#
# Top-level keys are the column-0 lines that look like `key:`. That is only true if no
# multi-line construct (a quoted string or a flow collection spanning lines) is open at that
# line: PyYAML accepts continuation lines of such constructs at column 0. So the lines before
# a needed key are checked: the common ones by one regex ("simple" lines, which cannot open
# anything), the rest by a small tokenizer that follows quotes, flow brackets, block scalars,
# anchors and aliases.

_PLAIN = (
    # First character: not an indicator; '-', '?', ':' only when glued to the next character.
    rb"(?:[^\s\-?:,\[\]{}#&*!|>'\"%@`]|[-?:](?=[^ \t\r\n]))"
    # Then anything but ': ' (a value indicator) and ' #' (a comment).
    rb"[^\r\n:#]*+(?:(?::(?![ \t\r\n]|\Z)|(?<![ \t])\#)[^\r\n:#]*+)*+"
)
_DQ = rb'"[^"\\\r\n]*+(?:\\[^\r\n][^"\\\r\n]*+)*+"'
_SQ = rb"'[^'\r\n]*+(?:''[^'\r\n]*+)*+'"
_SCALAR = rb"(?:" + _DQ + rb"|" + _SQ + rb"|" + _PLAIN + rb")"
_SIMPLE_RUN = re.compile(
    rb"(?:[ ]*+"  # indentation
    rb"(?:-(?:[ \t]++|(?=\r?\n)))*+"  # sequence entries
    rb"(?:" + _SCALAR + rb"[ \t]*+(?::(?:[ \t]++|(?=\r?\n))(?:" + _SCALAR + rb")?)?)?"
    rb"[ \t]*+(?:(?<![^ \t\n])\#[^\r\n]*+)?\r?\n)*+"
)
_KEY = re.compile(
    rb"(?:\"(?P<dq>[^\"\\\r\n]*+)\"|'(?P<sq>[^'\r\n]*+(?:''[^'\r\n]*+)*+)'|(?P<plain>"
    + _PLAIN
    + rb"))[ \t]*+:(?=[ \t\r\n]|\Z)"
)
_COL0 = re.compile(rb"\n(?=[^ \r\n])")  # a line that starts at column 0
_BLANKS = re.compile(rb"(?:[ \t]*+(?:\#[^\n]*+)?\r?\n)*+")  # blank and comment lines
_DQ_REST = re.compile(rb'(?:[^"\\]++|\\.)*+"', re.DOTALL)
_SQ_REST = re.compile(rb"(?:[^']++|'')*+'")
_BLOCK_HEADER = re.compile(
    rb"(?P<ind>[1-9][+-]?|[+-][1-9]?)?(?:[ \t]++(?:\#[^\n]*+)?)?\r?(?:\n|\Z)"
)
# Line breaks to YAML that are not to this scanner (NEL, LS, PS), and a BOM, which libyaml
# skips at the start of any line.
_ODD_CHARS = ("\x85", "\u2028", "\u2029", "\ufeff")
_BLOCK_CONTENT: dict[int, re.Pattern[bytes]] = {}
# When the fast path is worth it (tests turn these off to run it on small documents).
_FAST_PATH_MIN_BYTES = 2048
_FAST_PATH_MAX_SHARE = 0.5


@dataclass
class _Scan:
    """What :func:`_scan` found: anchor/alias offsets; column-0 lines inside constructs."""

    marks: list[int]
    inside: list[int]
    ok: bool = True


def _scan(text: bytes, end: int, *, strict: bool) -> _Scan:
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


def _key_name(m: re.Match[bytes]) -> str | None:
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


def _top_keys(
    text: bytes, *, strict: bool, skip: Collection[int] = ()
) -> list[tuple[int, str | None]] | None:
    """(offset, name) of every column-0 key line; name is None for a key that is not a str.

    Comment lines and `- ` entries (a sequence under the previous key) are fine; `skip` holds
    column-0 lines known to continue a construct. Any other column-0 line gives None when
    strict, and is passed over otherwise.
    """
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
        m = _KEY.match(text, pos)
        # '<<' merges keys in from elsewhere; a '"..."' key with escapes is left to PyYAML.
        if m is None or (m["plain"] is not None and m["plain"].rstrip() == b"<<"):
            if strict:
                return None
            continue
        keys.append((pos, _key_name(m)))
    return keys


def _breaks_unseen(text: bytes) -> bool:
    """Whether YAML sees line breaks (or a BOM) where this module's line scanner does not."""
    if not text.isascii():
        decoded = text.decode("utf-8")  # a str finds one character far faster than bytes do
        if any(odd in decoded for odd in _ODD_CHARS):
            return True
    return b"\r" in text and text.count(b"\r") != text.count(b"\r\n")  # a lone CR


def _plan(text: bytes, wanted: Collection[str]) -> list[tuple[int, int, str]] | None:
    """The (start, end, key) blocks to load for the wanted keys, or None to do a full parse."""
    if _breaks_unseen(text):
        return None
    keys = _top_keys(text, strict=True)
    if keys is None:
        return None
    first = keys[0][0] if keys else len(text)
    blanks = _BLANKS.match(text, 0, first)
    if blanks.end() != first:
        return None  # something other than comments before the first key
    spans = []
    for n, (pos, name) in enumerate(keys):
        if name in wanted:
            spans.append((pos, keys[n + 1][0] if n + 1 < len(keys) else len(text), name))
    if not spans:
        return spans
    if sum(b - a for a, b, _ in spans) > _FAST_PATH_MAX_SHARE * len(text):
        return None  # loading most of the text piecewise costs more than loading all of it
    if len({name for _, _, name in spans}) != len(spans):
        return None  # a wanted key twice: the full parse refuses the file
    scan = _scan(text, spans[-1][1], strict=True)
    if not scan.ok:
        return None
    for mark in scan.marks:
        if any(a <= mark < b for a, b, _ in spans):
            return None  # an anchor or alias may tie this block to another one
    return spans


def parse_keys(
    data: bytes, keys: Collection[str], *, max_bytes: int | None = None
) -> dict[str, Any]:
    """The requested top-level keys that are present, without building the rest.

    Otherwise equal to ``{k: v for k, v in parse(data, unique=keys).items() if k in keys}``,
    raising FrontmatterError as parse does (a requested key twice among them), with one
    exception: a YAML error in a block that was not
    requested may go unnoticed here. Callers that need the whole document to be valid (a
    candidate about to be edited, say) call :func:`parse`.

    Only the blocks of the requested column-0 keys are loaded (one load of them side by
    side). Anything the line scanner does not fully understand falls back to the full parse:
    a column-0 line that is not a key, comment, blank or `- ` entry (a directive, a complex
    or merge key, a tab, a quoted string continued at column 0); an anchor or alias in a
    requested block; a requested key twice; a load that does not give exactly the expected
    keys; any YAML error.
    """
    where = split(data, max_bytes=max_bytes)
    if not isinstance(keys, (set, frozenset, dict)):
        keys = frozenset(keys)
    text = data[where.start : where.end]
    # Below a couple of kB the scanner costs about what it saves: parse the whole thing.
    spans = _plan(text, keys) if len(text) >= _FAST_PATH_MIN_BYTES else None
    if spans is not None:
        if not spans:
            return {}
        # One load of the wanted blocks side by side: each starts at column 0, ends with '\n'.
        chunk = b"".join([text[a:b] for a, b, _ in spans])
        try:
            got = yaml.load(chunk, Loader=LOADER)
        except (yaml.YAMLError, RecursionError, *VALUE_ERRORS):
            got = None  # the full parse below reports it
        # Exactly the expected keys, or the blocks were not what the scanner thought.
        if type(got) is dict and len(got) == len(spans) and all(k in got for *_, k in spans):
            return got
    full = _load_mapping(data, where, keys)
    return {k: v for k, v in full.items() if k in keys}


def key_line(data: bytes, key: str) -> int | None:
    """The line of the file that top-level ``key`` is on (the first, if twice), for a message
    that sends an editor to it; None when the line scanner does not find it there."""
    try:
        where = split(data)
    except FrontmatterError:
        return None
    found = _blocks(data[where.start : where.end]).get(key)
    return _line_of(data, where.start + found[0][0]) if found else None


# --------------------------------------------------------------------------------------------
# changed_values


class _Gone:
    def __repr__(self) -> str:
        return "GONE"


#: In what :func:`changed_values` returns: the new version no longer has this key.
GONE: Any = _Gone()

# A whole top-level `key: scalar` line (or `key:` alone): one that cannot open anything. The
# value cannot start with an anchor, alias or tag (the plain scalar's first character rules
# them out), nor be a block scalar or a flow collection.
_ENTRY = re.compile(
    rb"(?:"
    + _KEY.pattern
    + rb")(?:[ \t]++"
    + _SCALAR
    + rb")?[ \t]*+(?:(?<=[ \t])\#[^\r\n]*+)?\r?\n"
)
_QUIET = re.compile(rb"(?:\#[^\r\n]*+|[ \t]*+)\r?\n")  # a column-0 comment, or a blank line


def changed_values(old: bytes, new: bytes) -> dict[str, Any] | None:
    """The top-level keys whose lines differ between two versions of a file, with their new
    values (:data:`GONE` for a key the new version dropped) — without loading the rest.

    ``old`` must be known to parse whole. When every changed line is a whole top-level
    ``key: scalar`` line (or a blank or comment line), the new document is the old one with
    those values replaced, so it parses too, and its mapping is the old one updated with the
    result. Otherwise (a change inside a block, a multi-line value, a key that is also
    elsewhere, anything the line scanner does not follow) this returns None, and the caller
    parses the new file whole. A change outside the frontmatter gives ``{}``.
    """
    try:
        was, now = split(old), split(new)
    except FrontmatterError:
        return None
    if old[: was.start] != new[: now.start]:
        return None  # the BOM or the opening line changed
    old_text, new_text = old[was.start : was.end], new[now.start : now.end]
    if old_text == new_text:
        return {}
    if _breaks_unseen(new_text):
        return None  # a key after such a break is one the scanner cannot see
    old_lines = old_text.splitlines(keepends=True)
    new_lines = new_text.splitlines(keepends=True)
    shorter = min(len(old_lines), len(new_lines))
    head = 0
    while head < shorter and old_lines[head] == new_lines[head]:
        head += 1
    tail = 0
    while tail < shorter - head and old_lines[-1 - tail] == new_lines[-1 - tail]:
        tail += 1
    gone = old_lines[head : len(old_lines) - tail]
    came = new_lines[head : len(new_lines) - tail]
    after = new_lines[len(new_lines) - tail :]
    gone_keys, came_keys = _entry_keys(gone), _entry_keys(came)
    if gone_keys is None or came_keys is None:
        return None
    # Blank lines belong to the construct before them when it keeps them (a `|+` scalar): the
    # line right after the unchanged head must not be blank in either version, or an insert
    # or a delete there would hand blank lines from one value to another.
    for first in ((gone or after)[:1], (came or after)[:1]):
        if first and not first[0].strip():
            return None
    # Nor may what follows continue the last changed line: an indented line would belong to
    # its value, and so would a column-0 `- ` entry after a bare `key:`.
    for line in after:
        if line.lstrip(b" \t")[:1] in (b"\r", b"\n", b"#"):
            continue  # blank and comment lines are nobody's
        if line[:1] in (b" ", b"\t", b"-"):
            return None
        break
    # The changed lines must be top-level lines, not the inside of a quoted string or flow
    # collection opened above them, which PyYAML lets continue at column 0.
    end = sum(map(len, new_lines[: len(new_lines) - tail]))
    if not _scan(new_text, end, strict=True).ok:
        return None
    # Each changed key once in the new document (none if dropped), so no other line wins.
    top = _top_keys(new_text, strict=True)
    if not top or _BLANKS.match(new_text, 0, top[0][0]).end() != top[0][0]:
        return None  # not a mapping at column 0 (an indented one ends at a column-0 line)
    counts: dict[str | None, int] = {}
    for _, name in top:
        counts[name] = counts.get(name, 0) + 1
    if any(counts.get(k, 0) != 1 for k in came_keys) or any(
        counts.get(k) for k in gone_keys if k not in came_keys
    ):
        return None
    values = dict.fromkeys(gone_keys, GONE)
    if came_keys:
        chunk = b"".join(came)
        try:
            loaded = yaml.load(chunk, Loader=LOADER)
        except (yaml.YAMLError, RecursionError, *VALUE_ERRORS):
            return None  # the full parse reports it
        if (
            type(loaded) is not dict
            or len(loaded) != len(came_keys)
            or set(loaded) != set(came_keys)
        ):
            return None
        values.update(loaded)
    return values


def _entry_keys(lines: list[bytes]) -> list[str] | None:
    """The keys of whole `key: scalar` lines, skipping blank and comment lines; None if a line
    is anything else, a key repeats, or a key is not a plain string."""
    keys: list[str] = []
    for line in lines:
        if _QUIET.fullmatch(line):
            continue
        m = _ENTRY.fullmatch(line)
        if m is None:
            return None
        name = _key_name(m)
        if name is None or name == "<<" or name in keys:
            return None
        keys.append(name)
    return keys


# --------------------------------------------------------------------------------------------
# set_keys

_VALUE = re.compile(
    rb"(?P<ws>[ \t]*+)(?P<val>" + _DQ + rb"|" + _SQ + rb"|" + _PLAIN + rb")?"
    rb"(?P<rest>[ \t]*+(?:\#[^\r\n]*+)?)\r?(?:\n|\Z)"
)
_PLAIN_FULL = re.compile(_PLAIN)
# What YAML cannot hold raw in a quoted scalar, or would read as a line break.
_UNPRINTABLE = (
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff"
)
_RAW_UNSAFE = re.compile(f"[{_UNPRINTABLE}\t\n\r\x85]")
_DQ_ESCAPE = re.compile(f'[{_UNPRINTABLE}\t\n\r\x85"\\\\]')
_SHORT_ESCAPES = {"\0": "\\0", "\t": "\\t", "\n": "\\n", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def set_keys(
    data: bytes,
    changes: Mapping[str, bool | int | float | str | None],
    *,
    max_bytes: int | None = None,
) -> bytes:
    """Set top-level scalar keys by rewriting only their value tokens; add missing keys.

    ``published: false  # later`` becomes ``published: true  # later``: the spacing, the
    comment, the line ending and, for a str, the quote style stay, and so does every other
    byte of the file (BOM, CRLF, comments, key order, the body). A missing key becomes one
    ``key: value`` line at the end of the frontmatter; a key already equal is left alone.

    Raises EditError when a key's value is not a single-line scalar on the key's own line,
    when the key is at the top level twice, or when re-parsing the result does not give the
    old mapping updated with ``changes`` with every other line unchanged. Raises
    FrontmatterError when the file does not parse to begin with.
    """
    wanted = {key: _normalized(key, value) for key, value in changes.items()}
    limit = MAX_BYTES if max_bytes is None else max_bytes
    where = split(data, max_bytes=limit)
    old = _load_mapping(data, where)
    todo = {k: v for k, v in wanted.items() if not (k in old and _same(old[k], v, set()))}
    if not todo:
        return data
    text = data[where.start : where.end]
    blocks = _blocks(text)
    edits: list[tuple[int, int, bytes]] = []  # (start, end, replacement), offsets in text
    added: list[bytes] = []
    for key, value in todo.items():
        found = blocks.get(key, [])
        if len(found) > 1:
            lines = " and ".join(str(_line_of(data, where.start + a)) for a, _ in found)
            raise EditError(
                f"cannot edit {key!r}: it is a top-level key twice (lines {lines})", key
            )
        if found:
            edits.append(_value_edit(data, where, text, *found[0], key, value))
        elif key in old:
            raise EditError(
                f"cannot edit {key!r}: PyYAML sees it, but not on a 'key: value' line at column 0",
                key,
            )
        else:
            added.append(_render_key(key) + b": " + _render(value, b"") + where.newline)
    edits.sort()
    parts = []
    cursor = 0
    for a, b, replacement in edits:
        parts += [text[cursor:a], replacement]
        cursor = b
    parts += [text[cursor:], *added]
    new = data[: where.start] + b"".join(parts) + data[where.end :]
    _verify(data, new, where, old, wanted, edits, added, limit)
    return new


def _blocks(text: bytes) -> dict[str, list[tuple[int, int]]]:
    """Every column-0 key: where its line starts and where its block (up to the next) ends."""
    scan = _scan(text, len(text), strict=False)
    keys = _top_keys(text, strict=False, skip=frozenset(scan.inside)) or []
    blocks: dict[str, list[tuple[int, int]]] = {}
    for n, (pos, name) in enumerate(keys):
        end = keys[n + 1][0] if n + 1 < len(keys) else len(text)
        if name is not None:
            blocks.setdefault(name, []).append((pos, end))
    return blocks


def _normalized(key: object, value: object) -> bool | int | float | str | None:
    # Plain types only: a str subclass (an enum, say) would not compare equal after a reload.
    if not isinstance(key, str):
        raise TypeError(f"frontmatter keys must be str, got {type(key).__name__}")
    if value is None or isinstance(value, bool):
        return value
    for kind in (int, float, str):
        if isinstance(value, kind):
            return kind(value)
    raise TypeError(f"{key}: cannot write a {type(value).__name__}, only a YAML scalar")


def _value_edit(
    data: bytes,
    where: Split,
    text: bytes,
    pos: int,
    end: int,
    key: str,
    value: bool | int | float | str | None,
) -> tuple[int, int, bytes]:
    """The edit of the value token on the key line at pos, whose block runs to end."""
    line = _line_of(data, where.start + pos)
    after = _KEY.match(text, pos).end()
    m = _VALUE.match(text, after)
    if m is None:
        raise EditError(f"cannot edit {key!r} (line {line}): {_shape(text, after)}", key)
    below = _BLANKS.match(text, m.end(), end).end()
    if below < end:
        what = "a nested mapping or list" if m["val"] is None else "a multi-line scalar"
        raise EditError(
            f"cannot edit {key!r} (line {line}): its value is {what} (continued on line "
            f"{_line_of(data, where.start + below)}); only single-line scalars can be edited",
            key,
        )
    if m["val"] is None:
        # 'key:' or 'key:   # note' (null): insert ' value' right after the colon, so the
        # blanks before the comment stay as they were.
        return after, after, b" " + _render(value, b"")
    val = m["val"]
    if val[:1] not in b"\"'":
        val = val.rstrip(b" \t")  # blanks after a plain scalar are not part of it
    a = m.start("val")
    return a, a + len(val), _render(value, val[:1])


def _shape(text: bytes, i: int) -> str:
    """Why the value at i is not a one-line scalar, in words."""
    while text[i : i + 1] in (b" ", b"\t"):
        i += 1
    c = text[i : i + 1]
    if c in (b"|", b">"):
        what = f"a block scalar ('{c.decode()}')"
    elif c in (b"[", b"{"):
        what = "a flow collection"
    elif c in (b'"', b"'"):
        what = "a quoted string spanning lines"
    elif c == b"&":
        what = "anchored (&), so other keys may depend on it"
    elif c == b"*":
        what = "an alias (*)"
    elif c == b"!":
        what = "tagged (!)"
    else:
        what = "not a single-line scalar"
    return f"its value is {what}; only single-line scalars can be edited"


def _render(value: bool | int | float | str | None, style: bytes) -> bytes:
    """A YAML scalar for value; a str keeps the old quote style (b'"', b"'", b"" plain)."""
    if value is None:
        return b"null"
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, float):
        return _render_float(value)
    if style == b"'" and not _RAW_UNSAFE.search(value):
        return ("'" + value.replace("'", "''") + "'").encode()
    if style not in (b'"', b"'") and _plain_ok(value):
        return value.encode()
    return _double_quoted(value)


def _render_float(value: float) -> bytes:
    if math.isnan(value):
        return b".nan"
    if math.isinf(value):
        return b".inf" if value > 0 else b"-.inf"
    text = repr(value)
    if "e" in text and "." not in text:
        text = text.replace("e", ".0e")  # PyYAML (YAML 1.1) wants a dot: 1.0e+20, not 1e+20
    return text.encode()


def _plain_ok(value: str) -> bool:
    """Whether value can be written unquoted and read back as the same str."""
    if not value or value != value.strip() or _RAW_UNSAFE.search(value):
        return False
    raw = value.encode()
    if not _PLAIN_FULL.fullmatch(raw):
        return False
    try:
        return yaml.load(b"k: " + raw, Loader=LOADER) == {"k": value}
    except (yaml.YAMLError, *VALUE_ERRORS):
        return False  # "2021-02-30" looks like a date, and is not one: quote it


def _double_quoted(value: str) -> bytes:
    """JSON-like double quotes, escaping only what YAML cannot hold raw."""

    def escape(m: re.Match[str]) -> str:
        ch = m.group()
        if ch in _SHORT_ESCAPES:
            return _SHORT_ESCAPES[ch]
        code = ord(ch)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return ('"' + _DQ_ESCAPE.sub(escape, value) + '"').encode()


def _render_key(key: str) -> bytes:
    if _plain_ok(key):
        raw = key.encode()
        m = _KEY.fullmatch(raw + b":")
        if m and m["plain"] == raw:
            try:
                if yaml.load(raw + b": 0", Loader=LOADER) == {key: 0}:
                    return raw
            except (yaml.YAMLError, *VALUE_ERRORS):
                pass
    return _double_quoted(key)


def _verify(
    data: bytes,
    new: bytes,
    where: Split,
    old: dict[str, Any],
    changes: dict[str, Any],
    edits: list[tuple[int, int, bytes]],
    added: list[bytes],
    limit: int,
) -> None:
    """Refuse the edit unless it reads as old + changes and no other byte moved."""
    names = ", ".join(repr(k) for k in changes)
    first = next(iter(changes))
    try:
        got = parse(new, max_bytes=limit)
    except FrontmatterError as exc:
        raise EditError(
            f"refusing to set {names}: the result would not parse ({exc.reason})", first
        ) from None
    expected = {**old, **changes}
    for key in [*expected, *(k for k in got if k not in expected)]:
        if key not in got or key not in expected or not _same(got[key], expected[key], set()):
            shown = repr(got[key])[:60] if key in got else "nothing"
            raise EditError(
                f"refusing to set {names}: the result reads {key!r} as {shown}, "
                f"not {repr(expected.get(key))[:60]}",
                key if key in changes else first,
            )
    # Independently of how `new` was built: every line but the edited ones is unchanged, and
    # the added lines sit right before the closing delimiter.
    old_lines = data.split(b"\n")
    new_lines = new.split(b"\n")
    at = data.count(b"\n", 0, where.end)
    expect = old_lines[:at] + [line.removesuffix(b"\n") for line in added] + old_lines[at:]
    for a, b, replacement in edits:
        start = where.start + a
        n = data.count(b"\n", 0, start)
        col = start - (data.rfind(b"\n", 0, start) + 1)
        expect[n] = old_lines[n][:col] + replacement + old_lines[n][col + b - a :]
    if new_lines != expect:
        raise EditError(f"refusing to set {names}: the edit would change other lines", first)


def _same(a: object, b: object, seen: set[tuple[int, int]]) -> bool:
    """Deep equality that tells True from 1, finds NaN equal to NaN, and survives aliases."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (dict, list)):
        pair = (id(a), id(b))
        if pair in seen:  # a node shared through an alias: compared once
            return True
        seen.add(pair)
        if isinstance(a, list):
            return len(a) == len(b) and all(_same(x, y, seen) for x, y in zip(a, b, strict=True))
        return a.keys() == b.keys() and all(_same(a[k], b[k], seen) for k in a)
    return a == b
