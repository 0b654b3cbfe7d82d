"""Read and edit the YAML frontmatter of an article, as pure functions over its bytes.

A file with frontmatter starts with a ``---`` line (after an optional UTF-8 BOM) and the YAML
runs up to the next ``---`` or ``...`` line. It is read by PyYAML's safe loader (the C one
when it is installed), or, in its common shape, by ``flat``, which builds the same values.
The parts, each importing only those above it:

- ``flat``: the common shape of frontmatter (`key: scalar` lines and plain blocks) built
  in Python, as PyYAML would build it, or None to let PyYAML read the rest;
- ``head``: a few top-level keys from the first `key: scalar` lines, when nothing below
  can change them (a live article's flag, title and URL);
- ``read``: where the frontmatter is (:func:`split`) and the whole mapping (:func:`parse`),
  with errors that name the line;
- ``lines``: a line scanner that finds top-level keys without loading the YAML
  (:func:`key_line`);
- ``fast_path``: :func:`parse_keys`, a few top-level keys without building the rest (from
  the head when they are there, else through the line scanner);
- ``changes``: :func:`changed_values`, the keys whose lines changed between two versions;
- ``render``: a value written as a YAML scalar;
- ``edit``: :func:`set_keys` rewrites the value of top-level scalar keys and keeps every
  other byte of the file.
"""

from storage.frontmatter.changes import GONE, changed_values
from storage.frontmatter.edit import EditError, set_keys
from storage.frontmatter.fast_path import parse_keys
from storage.frontmatter.lines import key_line
from storage.frontmatter.read import (
    LOADER,
    MAX_BYTES,
    VALUE_ERRORS,
    FrontmatterError,
    Split,
    load_mapping,
    parse,
    split,
)

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
    "load_mapping",
    "parse",
    "parse_keys",
    "set_keys",
    "split",
]
