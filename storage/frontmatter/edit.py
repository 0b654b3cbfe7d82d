"""Set top-level scalar keys of the frontmatter, keeping every other byte of the file."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from storage.frontmatter.lines import BLANKS, DQ, KEY, PLAIN, SQ, key_blocks
from storage.frontmatter.read import (
    FrontmatterError,
    Split,
    line_of,
    load_mapping,
    parse,
    split,
)
from storage.frontmatter.render import render_key, render_value


class EditError(ValueError):
    """:func:`set_keys` refused an edit; the message names the key (also in ``key``)."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


_VALUE = re.compile(
    rb"(?P<ws>[ \t]*+)(?P<val>" + DQ + rb"|" + SQ + rb"|" + PLAIN + rb")?"
    rb"(?P<rest>[ \t]*+(?:\#[^\r\n]*+)?)\r?(?:\n|\Z)"
)


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
    where = split(data, max_bytes=max_bytes)
    old = load_mapping(data, where)
    todo = {k: v for k, v in wanted.items() if not (k in old and _same(old[k], v, set()))}
    if not todo:
        return data
    text = data[where.start : where.end]
    blocks = key_blocks(text)
    edits: list[tuple[int, int, bytes]] = []  # (start, end, replacement), offsets in text
    added: list[bytes] = []
    for key, value in todo.items():
        found = blocks.get(key, [])
        if len(found) > 1:
            lines = " and ".join(str(line_of(data, where.start + a)) for a, _ in found)
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
            added.append(render_key(key) + b": " + render_value(value, b"") + where.newline)
    edits.sort()
    parts = []
    cursor = 0
    for a, b, replacement in edits:
        parts += [text[cursor:a], replacement]
        cursor = b
    parts += [text[cursor:], *added]
    new = data[: where.start] + b"".join(parts) + data[where.end :]
    _verify(data, new, where, old, wanted, edits, added, max_bytes)
    return new


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
    line = line_of(data, where.start + pos)
    after = KEY.match(text, pos).end()
    m = _VALUE.match(text, after)
    if m is None:
        raise EditError(f"cannot edit {key!r} (line {line}): {_shape(text, after)}", key)
    below = BLANKS.match(text, m.end(), end).end()
    if below < end:
        what = "a nested mapping or list" if m["val"] is None else "a multi-line scalar"
        raise EditError(
            f"cannot edit {key!r} (line {line}): its value is {what} (continued on line "
            f"{line_of(data, where.start + below)}); only single-line scalars can be edited",
            key,
        )
    if m["val"] is None:
        # 'key:' or 'key:   # note' (null): insert ' value' right after the colon, so the
        # blanks before the comment stay as they were.
        return after, after, b" " + render_value(value, b"")
    val = m["val"]
    if val[:1] not in b"\"'":
        val = val.rstrip(b" \t")  # blanks after a plain scalar are not part of it
    a = m.start("val")
    return a, a + len(val), render_value(value, val[:1])


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


def _verify(
    data: bytes,
    new: bytes,
    where: Split,
    old: dict[str, Any],
    changes: dict[str, Any],
    edits: list[tuple[int, int, bytes]],
    added: list[bytes],
    max_bytes: int | None,
) -> None:
    """Refuse the edit unless it reads as old + changes and no other byte moved."""
    names = ", ".join(repr(k) for k in changes)
    first = next(iter(changes))
    try:
        got = parse(new, max_bytes=max_bytes)
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
