"""What changed between two versions of a file's frontmatter, read from the changed lines."""

from __future__ import annotations

import re
from typing import Any

import yaml

from storage.frontmatter.lines import (
    BLANKS,
    KEY,
    SCALAR,
    breaks_unseen,
    key_name,
    scan_lines,
    top_keys,
)
from storage.frontmatter.read import LOADER, VALUE_ERRORS, FrontmatterError, split


class _Gone:
    def __repr__(self) -> str:
        return "GONE"


#: In what :func:`changed_values` returns: the new version no longer has this key.
GONE: Any = _Gone()

# A whole top-level `key: scalar` line (or `key:` alone): one that cannot open anything. The
# value cannot start with an anchor, alias or tag (the plain scalar's first character rules
# them out), nor be a block scalar or a flow collection.
_ENTRY = re.compile(
    rb"(?:" + KEY.pattern + rb")(?:[ \t]++" + SCALAR + rb")?[ \t]*+(?:(?<=[ \t])\#[^\r\n]*+)?\r?\n"
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
    if breaks_unseen(new_text):
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
    if not scan_lines(new_text, end, strict=True).ok:
        return None
    # Each changed key once in the new document (none if dropped), so no other line wins.
    top = top_keys(new_text, strict=True)
    if not top or BLANKS.match(new_text, 0, top[0][0]).end() != top[0][0]:
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
        name = key_name(m)
        if name is None or name == "<<" or name in keys:
            return None
        keys.append(name)
    return keys
