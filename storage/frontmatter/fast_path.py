"""The fast path: a few top-level keys of the frontmatter, without building the rest."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import yaml

from storage.frontmatter.flat import read as read_flat
from storage.frontmatter.head import read as read_head
from storage.frontmatter.lines import BLANKS, breaks_unseen, scan_lines, top_keys
from storage.frontmatter.read import LOADER, VALUE_ERRORS, closing, load_mapping, opening

# When the fast path is worth it (tests turn these off to run it on small documents).
MIN_BYTES = 2048
MAX_SHARE = 0.5


def _plan(text: bytes, wanted: Collection[str]) -> list[tuple[int, int, str]] | None:
    """The (start, end, key) blocks to load for the wanted keys, or None to do a full parse."""
    if breaks_unseen(text):
        return None
    keys = top_keys(text, strict=True)
    if keys is None:
        return None
    first = keys[0][0] if keys else len(text)
    blanks = BLANKS.match(text, 0, first)
    if blanks.end() != first:
        return None  # something other than comments before the first key
    spans = []
    for n, (pos, name) in enumerate(keys):
        if name in wanted:
            spans.append((pos, keys[n + 1][0] if n + 1 < len(keys) else len(text), name))
    if not spans:
        return spans
    if sum(b - a for a, b, _ in spans) > MAX_SHARE * len(text):
        return None  # loading most of the text piecewise costs more than loading all of it
    if len({name for _, _, name in spans}) != len(spans):
        return None  # a wanted key twice: the full parse refuses the file
    scan = scan_lines(text, spans[-1][1], strict=True)
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
    exception: a YAML error in a block that was not requested may go unnoticed here. Callers
    that need the whole document to be valid (a candidate about to be edited, say) call
    :func:`parse`.

    When the keys are all among the first `key: scalar` lines and nothing below can change
    them (:mod:`head`), they are built from those lines alone. Otherwise only the blocks of
    the requested column-0 keys are loaded (one load of them side by side). Anything the
    line scanner does not fully understand falls back to the full parse:
    a column-0 line that is not a key, comment, blank or `- ` entry (a directive, a complex
    or merge key, a tab, a quoted string continued at column 0); an anchor or alias in a
    requested block; a requested key twice; a load that does not give exactly the expected
    keys; any YAML error.
    """
    opened = opening(data, max_bytes=max_bytes)
    keys = keys if isinstance(keys, frozenset) else frozenset(keys)
    # Below a couple of kB the whole thing is parsed, as it always was: that sees an error
    # anywhere in the file, and costs little at that size.
    start = opened[0]
    if len(data) - start >= MIN_BYTES and (got := read_head(data, start, keys)) is not None:
        values, end = got
        if end - start >= MIN_BYTES:
            return values
    where = closing(data, opened)
    text = data[where.start : where.end]
    spans = _plan(text, keys) if len(text) >= MIN_BYTES else None
    if spans is not None:
        if not spans:
            return {}
        # One load of the wanted blocks side by side: each starts at column 0, ends with '\n'.
        chunk = b"".join([text[a:b] for a, b, _ in spans])
        got = read_flat(chunk)
        if got is None:
            try:
                got = yaml.load(chunk, Loader=LOADER)
            except (yaml.YAMLError, RecursionError, *VALUE_ERRORS):
                got = None  # the full parse below reports it
        # Exactly the expected keys, or the blocks were not what the scanner thought.
        if type(got) is dict and len(got) == len(spans) and all(k in got for *_, k in spans):
            return got
    full = load_mapping(data, where, keys)
    return {k: v for k, v in full.items() if k in keys}
