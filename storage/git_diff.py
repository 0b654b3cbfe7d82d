"""What changed between two commits, as ``git diff-tree`` names it, blob by blob."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from storage.credentials import scrub
from storage.git_command import GitError, run_git, stream_git


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


# How far down, and to how many directories, a diff is split so it can stream (see
# TreeDiff.changes).
_SPLIT_DEPTH = 3
_SPLIT_WIDTH = 8
_TREE, _NONE = b"040000", b"000000"


def _zeros(sha: bytes) -> bytes:
    return b"0" * len(sha)


class TreeDiff:
    """Diffs between commits of the clone at ``git_dir``, streamed as git finds them."""

    def __init__(self, git_dir: Path) -> None:
        self.git_dir = git_dir

    def changes(self, old: str, new: str) -> Iterator[Change]:
        """What changed from ``old`` to ``new``, blob by blob (renames as delete + add), as git
        finds it, so a caller can start on the first changes while git is still comparing
        trees (a third of a big rescan).

        git prints a diff only when it has compared the whole pair of trees. So the top
        levels are compared one at a time, and the changed directories below them are
        handed to one ``diff-tree --stdin``, which prints each directory's changes as soon
        as it has them.
        """
        level = [(b"", meta, name) for meta, name in self._diff_records([old, new])]
        for depth in range(_SPLIT_DEPTH + 1):
            pairs: list[tuple[bytes, str, str]] = []
            for prefix, meta, name in level:
                old_mode, new_mode, old_sha, new_sha, _ = meta.lstrip(b":").split(b" ")
                if old_mode != _TREE and new_mode != _TREE:
                    yield _change(meta, prefix + name)
                    continue
                # A directory on either side: compare what is under it (against nothing,
                # when it was added or removed); a file that was or became one is a change.
                old_tree = old_sha.decode() if old_mode == _TREE else self.empty_tree
                new_tree = new_sha.decode() if new_mode == _TREE else self.empty_tree
                pairs.append((prefix + name + b"/", old_tree, new_tree))
                if old_mode not in (_TREE, _NONE):
                    yield Change("D", (prefix + name).decode("utf-8", "surrogateescape"), None)
                if new_mode not in (_TREE, _NONE):
                    added = b":000000 %s %s %s A" % (new_mode, _zeros(new_sha), new_sha)
                    yield _change(added, prefix + name)
            if not pairs:
                return
            if len(pairs) >= _SPLIT_WIDTH or depth == _SPLIT_DEPTH:
                for prefix, meta, name in self._diff_pairs(pairs, recursive=True):
                    yield _change(meta, prefix + name)
                return
            level = list(self._diff_pairs(pairs, recursive=False))

    @functools.cached_property
    def empty_tree(self) -> str:
        """The id of the empty tree in this repo's hash (git knows it without storing it)."""
        out = run_git(["hash-object", "-t", "tree", "--stdin"], git_dir=self.git_dir, input=b"")
        return out.decode().strip()

    def _diff_records(self, args: list[str]) -> Iterator[tuple[bytes, bytes]]:
        """(meta, path) of one top-level ``diff-tree -z`` of two commits or trees."""
        for _, meta, name in self._stream_diff(["diff-tree", "-z", "--no-renames", *args], []):
            yield meta, name

    def _diff_pairs(
        self, pairs: list[tuple[bytes, str, str]], *, recursive: bool
    ) -> Iterator[tuple[bytes, bytes, bytes]]:
        """(prefix, meta, path under prefix) for each pair of trees, in order, as they come."""
        lines = [b"%s %s" % (a.encode(), b.encode()) for _, a, b in pairs]
        args = ["diff-tree", "--stdin", "-z", "--no-renames", *(["-r"] if recursive else [])]
        for pair, meta, name in self._stream_diff(args, lines):
            yield pairs[pair][0], meta, name

    def _stream_diff(
        self, args: list[str], lines: list[bytes]
    ) -> Iterator[tuple[int, bytes, bytes]]:
        """Records of a ``diff-tree -z`` as they arrive: (index of the input line, meta, path).

        With ``--stdin`` git echoes each input line before its diff; every echo is checked,
        because git reports a pair it cannot read on stderr, skips it, and exits 0.
        """
        stdin = b"".join(line + b"\n" for line in lines)
        with stream_git(args, git_dir=self.git_dir, stdin=stdin) as run:
            echoed, meta = 0, None
            for field in run.fields():
                if meta is not None:
                    yield echoed - 1, meta, field
                    meta = None
                    continue
                *headers, field = field.split(b"\n")
                for header in headers:
                    if echoed >= len(lines) or header != lines[echoed]:
                        raise GitError(f"git diff-tree: unexpected {header[:100]!r}")
                    echoed += 1
                meta = field or None
        if run.returncode != 0 or run.err or echoed != len(lines):
            message = run.err or f"exit {run.returncode}, {echoed} of {len(lines)} pairs compared"
            raise GitError(scrub(f"git diff-tree: {message}"))
