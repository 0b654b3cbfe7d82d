"""Where the frontmatter of a file is, and the mapping it holds, read whole.

Errors are one line an editor can act on, with the line of the file the problem is on.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import yaml

from storage.frontmatter.flat import read as read_flat

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
CLOSING_LINE = rb"(?:---|\.\.\.)[ \t]*(?:\r?\n|\r?\Z)"
_CLOSE = re.compile(rb"\n" + CLOSING_LINE)


def split(data: bytes, *, max_bytes: int | None = None) -> Split:
    """Locate the frontmatter of a file.

    Raises FrontmatterError for a file over ``max_bytes`` (default MAX_BYTES), a binary or
    non-UTF-8 file, one that does not start with a ``---`` line, or one with no closing line.
    """
    return closing(data, opening(data, max_bytes=max_bytes))


def opening(data: bytes, *, max_bytes: int | None = None) -> tuple[int, bytes, bool]:
    """:func:`split` up to the opening line: where the YAML starts, the newline, the BOM.
    Raises as split does, except for a missing closing line (see :func:`closing`)."""
    limit = MAX_BYTES if max_bytes is None else max_bytes
    if len(data) > limit:
        raise FrontmatterError(f"file too large ({_size(len(data))} > {_size(limit)} limit)")
    nul = data.find(b"\0")
    if nul >= 0:
        raise FrontmatterError(f"file is binary (NUL byte at byte {nul})", line_of(data, nul))
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FrontmatterError(
                f"not UTF-8 at byte {exc.start}", line_of(data, exc.start)
            ) from None
    bom = data.startswith(_BOM)
    pos = len(_BOM) if bom else 0
    opened = _OPEN.match(data, pos)
    if opened is None:
        raise FrontmatterError(_no_frontmatter(data, pos), 1)
    return opened.end(), opened.group(1), bom


def closing(data: bytes, opened: tuple[int, bytes, bool]) -> Split:
    """The rest of :func:`split`, from what :func:`opening` found."""
    start, newline, bom = opened
    found = _CLOSE.search(data, start - 1)  # from the '\n' ending the opening line
    if found is None:
        raise FrontmatterError(
            "unterminated frontmatter: no closing '---' line after the opening one on line 1", 1
        )
    return Split(start, found.start() + 1, newline, bom)


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


def line_of(data: bytes, offset: int) -> int:
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
    return load_mapping(data, where, unique)


# PyYAML's constructors raise these, not YAMLError, for a value that looks like a type but is
# not one: the date 2021-02-30, or `!!int "zz"`.
VALUE_ERRORS = (ValueError, TypeError, AttributeError, OverflowError)


def load_mapping(data: bytes, where: Split, unique: Collection[str] = ()) -> dict[str, Any]:
    # The common shape is built without PyYAML's constructor; it has no key twice, so no
    # key of ``unique`` either. Anything else goes to PyYAML, which reports the errors.
    doc = read_flat(data[where.start : where.end])
    if doc is not None:
        return doc
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
        line = line_of(data, start + exc.position)
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
