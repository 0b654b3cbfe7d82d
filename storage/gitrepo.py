"""The bot's private clone of the content repo, driven through ``git`` subprocesses.

The clone is bare: scanning reads the committed tree (``ls-tree``, ``cat-file --batch``)
and publishing writes commits with plumbing, so no working tree of 100,000 files is ever
checked out. ``git`` always runs with an argument list, never through a shell.
"""

from __future__ import annotations

import fcntl
import functools
import secrets
import subprocess
import tempfile
import time
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from storage.credentials import scrub
from storage.git_command import GitError, _Run, git_env, run_git
from storage.git_diff import Change, _change, kind_of
from storage.git_remote import remote_error

# How far down, and to how many directories, a diff is split so it can stream (see
# ContentRepo.iter_diff_tree).
_SPLIT_DEPTH = 3
_SPLIT_WIDTH = 8
_TREE, _NONE = b"040000", b"000000"
# Fetches tried while git says another process holds the tracking ref (about 3 s in all).
_FETCH_TRIES = 5


def _zeros(sha: bytes) -> bytes:
    return b"0" * len(sha)


class ContentRepo:
    """A bare clone at ``git_dir`` tracking ``branch`` of ``remote``."""

    def __init__(self, git_dir: Path, remote: str, branch: str) -> None:
        self.git_dir = Path(git_dir)
        self.remote = remote
        self.branch = branch

    @property
    def tracking_ref(self) -> str:
        return f"refs/remotes/origin/{self.branch}"

    def git(
        self, *args: str, input: bytes | None = None, env: Mapping[str, str] | None = None
    ) -> bytes:
        return run_git(args, git_dir=self.git_dir, input=input, env=env)

    def ensure_clone(self) -> None:
        """Create the bare clone on first use; keep its remote URL in line with config."""
        if not (self.git_dir / "HEAD").exists():
            self.git_dir.mkdir(parents=True, exist_ok=True)
            run_git(["init", "--quiet", "--bare", str(self.git_dir)])
            self.git("remote", "add", "origin", self.remote)
        elif self.git("remote", "get-url", "origin").decode().strip() != self.remote:
            self.git("remote", "set-url", "origin", self.remote)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the clone for a change of its refs. The bot's jobs and an operator's
        `curator scan` or `curator publish` may run at once; git refuses two processes
        updating one ref, so they take turns instead of failing."""
        self.git_dir.parent.mkdir(parents=True, exist_ok=True)
        with open(self.git_dir.parent / f"{self.git_dir.name}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def fetch(self) -> str:
        """Fetch the branch from the remote and return its commit sha.

        A ref that another git process is updating ("cannot lock ref": one that does not
        take our lock, such as an older curator) is waited out a few times before failing.
        A remote that cannot be fetched from is a :class:`RemoteError`.
        """
        for tries in range(1, _FETCH_TRIES + 1):
            with self.locked():
                self.ensure_clone()
                try:
                    self.git(
                        "fetch", "--quiet", "--no-tags", "--prune", "origin",
                        f"+refs/heads/{self.branch}:{self.tracking_ref}",
                    )  # fmt: skip
                except GitError as exc:
                    if "cannot lock ref" not in str(exc):
                        raise remote_error("fetch", self.remote, self.branch, exc.stderr) from None
                    if tries == _FETCH_TRIES:
                        raise
                else:
                    return self.head()
            time.sleep(0.1 * 2**tries)
        raise AssertionError("unreachable: the last try returns or raises")  # pragma: no cover

    def head(self) -> str:
        """The commit of the tracked branch as last fetched."""
        return self.git("rev-parse", "--verify", f"{self.tracking_ref}^{{commit}}").decode().strip()

    def ls_tree(self, commit: str) -> Iterator[tuple[str, str]]:
        """Every file in ``commit`` as (path, blob sha), in one git call."""
        for path, sha, kind in self.tree_entries(commit):
            if kind == "file":
                yield path, sha

    def tree_entries(self, commit: str) -> Iterator[tuple[str, str, str]]:
        """Every file, symlink and submodule in ``commit`` as (path, sha, kind), in one git
        call; kind as :func:`kind_of` says. Paths that are not UTF-8 keep their bytes as
        surrogates (``surrogateescape``)."""
        out = self.git("ls-tree", "-r", "-z", "--full-tree", commit)
        for entry in out.split(b"\0"):
            if not entry:
                continue
            meta, _, path = entry.partition(b"\t")
            mode, kind, sha = meta.split(b" ")
            yield (
                path.decode("utf-8", "surrogateescape"), sha.decode(),
                kind_of(mode if kind == b"blob" else kind),
            )  # fmt: skip

    def diff_tree(self, old: str, new: str) -> list[Change]:
        """What changed between two commits, blob by blob (renames as delete + add)."""
        return list(self.iter_diff_tree(old, new))

    def iter_diff_tree(self, old: str, new: str) -> Iterator[Change]:
        """:meth:`diff_tree` as git finds the changes, so a caller can start on the first
        ones while git is still comparing trees (a third of a big rescan).

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
        return self.git("hash-object", "-t", "tree", "--stdin", input=b"").decode().strip()

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
        with self._streaming(args, stdin=b"".join(line + b"\n" for line in lines)) as run:
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

    def added_times(self, commit: str, paths: Collection[str]) -> dict[str, datetime]:
        """When each path was added: the author time of the newest commit reachable from
        ``commit`` that added it, all in one ``git log``, which stops as soon as every path
        is found. A rename is followed to the file's add under its old name (moving a folder
        of old drafts does not make them new); a copy counts as an add.

        A path no commit adds (it came in by a merge's own change, or before the edge of a
        shallow clone) is left out.
        """
        # Each wanted path, under the name it has at the commit the log has reached.
        looking = {p: p for p in paths}
        found: dict[str, datetime] = {}
        if not looking:
            return found
        # A header no file name can forge: git prints names raw with -z. No pathspecs: a
        # rename is only seen with both of its names in the diff.
        mark = f"curator-{secrets.token_hex(8)}:".encode()
        args = [
            "log", "-z", "-M", "--diff-filter=ACR", "--name-status", "--no-show-signature",
            f"--format={mark.decode()}%at", commit,
        ]  # fmt: skip
        with self._streaming(args) as run:
            when: datetime | None = None
            fields = run.fields()
            for field in fields:
                field = field.removeprefix(b"\n")  # the first status after a header
                if field.startswith(mark):
                    when = datetime.fromtimestamp(int(field[len(mark) :]), UTC)
                    continue
                status = field[:1]
                if not status or when is None:
                    continue
                names = [next(fields, b"")] + ([next(fields, b"")] if status in b"RC" else [])
                wanted = looking.pop(names[-1].decode("utf-8", "surrogateescape"), None)
                if wanted is None:
                    continue
                if status == b"R":  # look for the add under the name it had before
                    looking[names[0].decode("utf-8", "surrogateescape")] = wanted
                else:
                    found[wanted] = when  # newest first: the add that made this file
                if not looking:
                    break
        if looking and run.returncode != 0:
            raise GitError(scrub(f"git log: {run.err or f'exit {run.returncode}'}"))
        return found

    @contextmanager
    def _streaming(self, args: list[str], stdin: bytes | None = None) -> Iterator[_Run]:
        """A git process whose ``-z`` output is read as it comes; killed if the reader stops
        early. ``returncode`` and ``err`` are set once the block ends."""
        with tempfile.TemporaryFile() as stdin_file, tempfile.TemporaryFile() as stderr:
            # Files, not pipes: neither side can fill up while we read the other.
            if stdin is not None:
                stdin_file.write(stdin)
                stdin_file.seek(0)
            proc = subprocess.Popen(
                ["git", *args], stdin=stdin_file if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=stderr, env=git_env(self.git_dir),
            )  # fmt: skip
            run = _Run(proc)
            try:
                yield run
            finally:
                if proc.poll() is None:
                    proc.kill()
                run.returncode = proc.wait()
                stderr.seek(0)
                run.err = stderr.read().decode("utf-8", "replace").strip()

    def is_ancestor(self, old: str, new: str) -> bool:
        try:
            self.git("merge-base", "--is-ancestor", old, new)
        except GitError:
            return False
        return True

    def has_commit(self, sha: str) -> bool:
        try:
            self.git("cat-file", "-e", f"{sha}^{{commit}}")
        except GitError:
            return False
        return True

    def read_blobs(self, shas: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        """Stream blobs through one ``git cat-file --batch`` process."""
        shas = list(shas)
        with BlobReader(self.git_dir) as reader:
            for i in range(0, len(shas), BlobReader.CHUNK):
                chunk = shas[i : i + BlobReader.CHUNK]
                yield from zip(chunk, reader.read_many(chunk), strict=True)


class BlobReader:
    """One long-lived ``git cat-file --batch``: a blob per request, no process per file."""

    def __init__(self, git_dir: Path) -> None:
        self._proc = subprocess.Popen(
            ["git", "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=git_env(git_dir),
        )

    # Requests are written in chunks that fit a pipe buffer (64 KiB): git stops reading
    # stdin while its stdout is full, so a bigger write could deadlock both of us.
    CHUNK = 1000

    def read_many(self, shas: Sequence[str]) -> list[bytes]:
        """Read blobs in order, with one write per chunk so git never waits on us per blob."""
        out = self.read_present(shas)
        for sha, data in zip(shas, out, strict=True):
            if data is None:
                raise GitError(f"git cat-file: {sha} missing")
        return out  # type: ignore[return-value]

    def read_present(self, shas: Sequence[str]) -> list[bytes | None]:
        """:meth:`read_many`, with None for an object the clone does not have."""
        assert self._proc.stdin and self._proc.stdout
        out: list[bytes | None] = []
        for i in range(0, len(shas), self.CHUNK):
            chunk = shas[i : i + self.CHUNK]
            self._proc.stdin.write(b"".join(s.encode() + b"\n" for s in chunk))
            self._proc.stdin.flush()
            out.extend(self._read_object() for _ in chunk)
        return out

    def _read_object(self) -> bytes | None:
        assert self._proc.stdout
        header = self._proc.stdout.readline()
        parts = header.split()
        if len(parts) == 2 and parts[1] == b"missing":
            return None
        if len(parts) != 3:
            raise GitError(f"git cat-file: {header.decode(errors='replace').strip()}")
        data = self._proc.stdout.read(int(parts[2]))
        self._proc.stdout.read(1)  # the newline after each object
        return data

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        self._proc.wait()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
