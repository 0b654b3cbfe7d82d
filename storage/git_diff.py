"""What changed between two commits, as ``git diff-tree`` names it, blob by blob."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Change:
    """One entry of ``git diff-tree``: status A/M/D/T and the new blob sha (None if deleted).

    ``kind`` is what the path now is: "file", or "symlink" or "submodule" (never articles,
    but the scan lists them as skipped, so none vanishes without a word).
    """

    status: str
    path: str
    sha: str | None
    kind: str = "file"


_KINDS = {b"120000": "symlink", b"160000": "submodule", b"commit": "submodule"}


def kind_of(mode: bytes) -> str:
    """ "file", "symlink" or "submodule", from a git mode (or ls-tree's object type)."""
    return _KINDS.get(mode, "file")


def _change(meta: bytes, path: bytes) -> Change:
    """A ``diff-tree -z`` record."""
    _, new_mode, _, new_sha, status = meta.lstrip(b":").split(b" ")
    sha = None if status == b"D" else new_sha.decode()
    return Change(status.decode(), path.decode("utf-8", "surrogateescape"), sha, kind_of(new_mode))
