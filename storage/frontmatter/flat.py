"""The common shape of frontmatter read line by line in Python, or None to leave it to PyYAML.

libyaml parses fast, but PyYAML builds every value through its Python constructor: for an
article of a few kB that is most of a millisecond. Nearly every article a collector writes
has one shape: `key: scalar` lines, and blocks under a `key:` line of the same (`- scalar`
entries, `- key: scalar` entries with their mappings, nested mappings). :func:`read` builds
exactly what ``yaml.load(text, Loader=CSafeLoader)`` would from such text, scalar types
resolved by PyYAML's own resolver and built by its own constructors, and returns None for
anything else, so the caller parses it with PyYAML (which reports the errors):

- a tab, a CR, a character YAML reads as a line break or a BOM, a non-printable character;
- a key that is not a plain word (quoted, with spaces or dots, a `<<` merge, `? ` keys);
- a key twice in one mapping (PyYAML keeps the last; :func:`parse` may have to refuse it);
- a scalar over several lines (plain or quoted), a block scalar (`|`, `>`), a flow
  collection other than an empty `[]` or `{}`, an anchor, alias or tag, a quoted scalar
  with a backslash escape, a plain scalar YAML would not take (`a: b`, a trailing `:`);
- a scalar that resolves to a type other than str, int, float, bool, null or timestamp;
- an indentation that is not exactly a block's (a line deeper than a scalar's key);
- a document that is not a mapping at column 0, or is empty.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import yaml

_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_STR = _RESOLVER.DEFAULT_SCALAR_TAG
# The types a plain scalar resolves to that this module builds, with PyYAML's own code.
_BUILD = {
    tag: build
    for tag, build in yaml.constructor.SafeConstructor.yaml_constructors.items()
    if tag in {f"tag:yaml.org,2002:{t}" for t in ("null", "bool", "int", "float", "timestamp")}
}
# First characters of a plain scalar that some implicit resolver may claim; a plain scalar
# starting with anything else is a str (unless a resolver is registered for every character).
_CLAIMED = frozenset(_RESOLVER.yaml_implicit_resolvers)
_ANY_CLAIMED = None in _RESOLVER.yaml_implicit_resolvers

# What YAML accepts in a document, less TAB, CR and the characters it reads as line breaks
# (NEL, LS, PS) or skips (a BOM at the start of a line): any of those sends the text to PyYAML.
# Checked without a regex over the characters, which costs a tenth of a parse: the bytes below
# 0x80 that may be there, then the few characters above that may not (C1 controls with NEL
# among them, found by their UTF-8 lead byte; LS, PS, BOM, U+FFFE, U+FFFF).
_USUAL_BYTES = bytes([0x0A, *range(0x20, 0x7F), *range(0x80, 0x100)])
_C1 = re.compile(rb"\xc2[\x80-\x9f]")
_UNUSUAL_CHARS = "\u2028\u2029\ufeff\ufffe\uffff"
# A key read line by line: a plain word. Keys longer than libyaml allows for a simple key
# (1024) are far beyond this bound.
WORD = r"[A-Za-z_][A-Za-z0-9_-]{0,127}"
# `key:` then the rest of the line.
_KEY = re.compile(rf"({WORD}):(?: (.*))?\Z")
# What YAML reads as a line break (NEL, LS, PS) or skips at the start of a line (a BOM),
# beside the CR and LF a line scanner knows, by the last byte of each in UTF-8 and the ones
# before it: one memchr each, where a search for the whole sequence stumbles on every
# curly quote (they share its first bytes).
_HIDDEN_BREAKS = ((0x85, b"\xc2"), (0xA8, b"\xe2\x80"), (0xA9, b"\xe2\x80"), (0xBF, b"\xef\xbb"))
_DQ = re.compile(r'"([^"\\]*)"(?: +#.*)? *\Z')
_SQ = re.compile(r"'((?:[^']|'')*)'(?: +#.*)? *\Z")
_EMPTY_FLOW = re.compile(r"(\[ *\]|\{ *\})(?: +#.*)? *\Z")
# A plain scalar's first character: no indicator, and `-`, `?`, `:` only glued to the next.
_PLAIN_START = re.compile(r"[^-?:,\[\]{}#&*!|>'\"%@` ]|[-?:](?=[^ ])")


class Unusual(Exception):
    """The text is not of the shape this module reads."""


def read(text: bytes) -> dict[str, Any] | None:
    """The mapping PyYAML's safe loader builds from ``text``, or None when it is not the
    common shape (see the module docstring). ``text`` is valid UTF-8 YAML between the
    frontmatter delimiters, ending with a line break."""
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not decoded.endswith("\n") or not usual(text, decoded):
        return None
    lines: list[tuple[int, str]] = []
    for line in decoded.split("\n"):
        content = line.lstrip(" ")
        if content and content[0] != "#":
            lines.append((len(line) - len(content), content.rstrip(" ")))
    if not lines or lines[0][0] != 0:
        return None
    try:
        mapping, end = _mapping(lines, 0, 0)
    except (Unusual, RecursionError):
        return None
    return mapping if end == len(lines) else None


def usual(text: bytes, decoded: str) -> bool:
    """Whether ``text`` (``decoded``) holds only the characters this module reads."""
    if text.translate(None, _USUAL_BYTES):
        return False  # a control character, TAB or CR
    if text.isascii():
        return True
    if b"\xc2" in text and _C1.search(text):
        return False
    return not any(char in decoded for char in _UNUSUAL_CHARS)  # a str finds a char fast


def hidden_break(data: bytes, end: int | None = None) -> bool:
    """Whether valid UTF-8 ``data`` (up to ``end``) holds a line break YAML sees and a line
    scanner does not (NEL, LS, PS), or a BOM (libyaml skips one at the start of a line)."""
    if data.isascii():
        return False
    end = len(data) if end is None else end
    for last, lead in _HIDDEN_BREAKS:
        at = data.find(last, 0, end)
        while at >= 0:
            if data.startswith(lead, at - len(lead)):
                return True
            at = data.find(last, at + 1, end)
    return False


def _mapping(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[dict[Any, Any], int]:
    """The block mapping whose keys are at column ``indent``, from line ``i``."""
    out: dict[Any, Any] = {}
    count = len(lines)
    while i < count:
        column, content = lines[i]
        if column != indent:
            if column < indent:
                break
            raise Unusual
        m = _KEY.match(content)
        if m is None:
            raise Unusual
        key = plain(m[1])
        if key in out:
            raise Unusual  # PyYAML keeps the last one silently; parse may refuse it
        rest = m[2]
        i += 1
        if rest is None or not (rest := rest.lstrip(" ")):
            value, i = _under(lines, i, indent)
        else:
            value = scalar(rest)  # a deeper line next (continuing it) ends the loop above
        out[key] = value
    return out, i


def _sequence(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[list[Any], int]:
    """The block sequence whose `-` are at column ``indent``, from line ``i``."""
    out: list[Any] = []
    count = len(lines)
    while i < count:
        column, content = lines[i]
        if column != indent or content[0] != "-" or content[1:2] not in ("", " "):
            if column < indent or (column == indent and content[0] != "-"):
                break  # the sequence ends (an indentless one, at its mapping's next key)
            raise Unusual
        rest = content[1:].lstrip(" ")
        if not rest or rest[0] == "-":
            raise Unusual  # a node on the next lines, or a sequence in a sequence
        if _KEY.match(rest):
            # `- key: ...`: a mapping whose keys are at the column of this first one.
            lines[i] = (column + len(content) - len(rest), rest)
            value, i = _mapping(lines, i, lines[i][0])
        else:
            value = scalar(rest)
            i += 1
        out.append(value)
    return out, i


def _under(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[Any, int]:
    """The value of a `key:` at column ``indent`` with nothing after it: the block below."""
    if i >= len(lines):
        return None, i
    column, content = lines[i]
    entry = content[0] == "-" and content[1:2] in ("", " ")
    if column > indent:
        if entry:
            return _sequence(lines, i, column)
        return _mapping(lines, i, column)
    if column == indent and entry:
        return _sequence(lines, i, column)  # YAML lets a key's sequence start at its column
    return None, i


def scalar(text: str) -> Any:
    """A one-line scalar (its comment and trailing spaces included), or Unusual."""
    first = text[0]
    if first == '"':
        m = _DQ.match(text)
        if m is None:
            raise Unusual  # an escape, a string continued on the next line, or an error
        return m[1]
    if first == "'":
        m = _SQ.match(text)
        if m is None:
            raise Unusual
        return m[1].replace("''", "'")
    if first in "[{":
        m = _EMPTY_FLOW.match(text)
        if m is None:
            raise Unusual
        return [] if first == "[" else {}
    if _PLAIN_START.match(text) is None:
        raise Unusual
    cut = text.find(" #")
    if cut >= 0:
        text = text[:cut].rstrip(" ")
    if ": " in text or text.endswith(":"):
        raise Unusual  # YAML reads a mapping there, and refuses it
    return plain(text)


@functools.lru_cache(maxsize=8192)
def _resolved(text: str) -> Any:
    tag = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))
    if tag == _STR:
        return text
    build = _BUILD.get(tag)
    if build is None:
        raise Unusual  # `=`, `<<` as a value: PyYAML refuses those, with its message
    try:
        return build(_CONSTRUCTOR, yaml.ScalarNode(tag, text))
    except Exception:  # 2021-02-30: PyYAML's load reports it, with its line
        raise Unusual from None


def plain(text: str) -> Any:
    """A plain scalar as PyYAML resolves and builds it (its values are all immutable)."""
    if text[0] not in _CLAIMED and not _ANY_CLAIMED:
        return text
    return _resolved(text)
