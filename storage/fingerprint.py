"""What editors vote on, fingerprinted key by key, so a change after the votes is seen.

A fingerprint maps each key that can count (the field map's names of what a card shows, and
``body``) to a short hash of its value. Kept per key, it says *what* changed ("title, body"),
and which keys count is a choice made when two are compared (``votes.revote_on``), not when
they are made: changing that setting needs no rescan. A collector's new quality or heat, and
the flag, are never part of it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from storage import frontmatter
from storage.fields import FINGERPRINT_KEYS, FieldMap

KEYS = FINGERPRINT_KEYS


def fingerprint(
    mapping: Mapping[str, Any],
    data: bytes,
    fields: FieldMap,
    *,
    where: frontmatter.Split | None = None,
) -> dict[str, str]:
    """{key: hash} of one article's frontmatter ``mapping`` and its file ``data`` (``where``:
    the file's split, when the caller has it)."""
    out = {}
    for key in KEYS:
        if key == "body":
            out[key] = _digest(body_of(data, where))
        else:
            value = mapping.get(getattr(fields, key))
            text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
            out[key] = _digest(text.encode())
    return out


def fingerprint_of(data: bytes, fields: FieldMap) -> dict[str, str] | None:
    """The fingerprint of a whole file, or None when its frontmatter cannot be read."""
    try:
        return fingerprint(frontmatter.parse(data), data, fields)
    except frontmatter.FrontmatterError:
        return None


def body_of(data: bytes, where: frontmatter.Split | None = None) -> bytes:
    """The text after the frontmatter's closing line, line endings as LF."""
    where = where or frontmatter.split(data)
    rest = data[where.end :]
    cut = rest.find(b"\n", 1)  # past the closing '---' line
    body = b"" if cut < 0 else rest[cut + 1 :]
    return body.replace(b"\r\n", b"\n")


def dumps(print_: Mapping[str, str]) -> str:
    return json.dumps(dict(print_), sort_keys=True, separators=(",", ":"))


def loads(text: str | None) -> dict[str, str]:
    """A stored fingerprint; {} for none (or one this version cannot read)."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def differing(before: Mapping[str, str], after: Mapping[str, str], keys: Any) -> tuple[str, ...]:
    """The ``keys`` whose hash differs, in ``keys`` order; a key one side lacks is not
    compared (a fingerprint made before that key was covered)."""
    return tuple(k for k in keys if k in before and k in after and before[k] != after[k])


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=8).hexdigest()
