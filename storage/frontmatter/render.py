"""A value written as a YAML scalar that reads back as the same value."""

from __future__ import annotations

import math
import re

import yaml

from storage.frontmatter.lines import KEY, PLAIN
from storage.frontmatter.read import LOADER, VALUE_ERRORS

_PLAIN_FULL = re.compile(PLAIN)
# What YAML cannot hold raw in a quoted scalar, or would read as a line break.
_UNPRINTABLE = (
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff"
)
_RAW_UNSAFE = re.compile(f"[{_UNPRINTABLE}\t\n\r\x85]")
_DQ_ESCAPE = re.compile(f'[{_UNPRINTABLE}\t\n\r\x85"\\\\]')
_SHORT_ESCAPES = {"\0": "\\0", "\t": "\\t", "\n": "\\n", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def render_value(value: bool | int | float | str | None, style: bytes) -> bytes:
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


def render_key(key: str) -> bytes:
    if _plain_ok(key):
        raw = key.encode()
        m = KEY.fullmatch(raw + b":")
        if m and m["plain"] == raw:
            try:
                if yaml.load(raw + b": 0", Loader=LOADER) == {key: 0}:
                    return raw
            except (yaml.YAMLError, *VALUE_ERRORS):
                pass
    return _double_quoted(key)
