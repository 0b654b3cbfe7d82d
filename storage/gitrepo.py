"""The bot's private clone of the content repo, driven through ``git`` subprocesses.

The clone is bare: scanning reads the committed tree (``ls-tree``, ``cat-file --batch``)
and publishing writes commits with plumbing, so no working tree of 100,000 files is ever
checked out. ``git`` always runs with an argument list, never through a shell.
"""

from __future__ import annotations

import fcntl
import secrets
import subprocess
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from storage.credentials import scrub
from storage.git_command import GitError, git_env, run_git, stream_git
from storage.git_diff import Change, TreeDiff, kind_of
from storage.git_remote import remote_error

# git maps a pack in windows of up to 1 GiB and keeps up to 8 GiB mapped (64-bit defaults):
# a process that reads all over a pack of gigabytes holds all of it. The processes that read
# the whole tree map 1 MiB windows and let the least used go past 32 MiB.
_PACK_WINDOWS = ["-c", "core.packedGitWindowSize=1m", "-c", "core.packedGitLimit=32m"]

# Fetches tried while git says another process holds the tracking ref (about 3 s in all).
_FETCH_TRIES = 5


class ContentRepo:
    """A bare clone at ``git_dir`` tracking ``branch`` of ``remote``."""

    def __init__(self, git_dir: Path, remote: str, branch: str) -> None:
        self.git_dir = Path(git_dir)
        self.remote = remote
        self.branch = branch
        self._tree_diff = TreeDiff(self.git_dir)

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

    def tree_entries(self, commit: str) -> Iterator[tuple[str, str, str]]:
        """Every file, symlink and submodule in ``commit`` as (path, sha, kind), in git's
        order (sorted by path, byte by byte), read as git prints them so a tree of a million
        files is never held whole. kind as :func:`kind_of` says. Paths that are not UTF-8
        keep their bytes as surrogates (``surrogateescape``). Close the iterator when
        stopping early (git is then killed).

        One ``ls-tree -r`` keeps every directory it has read in memory until it ends (100 MiB
        at a million articles). So the top levels are listed one directory at a time, down to
        where there are LIST_WIDTH directories side by side or LIST_DEPTH levels, and each
        directory there gets its own ``ls-tree -r``: a few processes, none holding more than
        its part of the tree.
        """
        return self._list(f"{commit}^{{tree}}", b"", 0)

    LIST_WIDTH, LIST_DEPTH = 8, 3

    def _list(self, tree: str, prefix: bytes, depth: int) -> Iterator[tuple[str, str, str]]:
        recursive = depth >= self.LIST_DEPTH
        entries = self._ls_tree(tree, recursive=recursive)
        if not recursive:
            entries = list(entries)  # one directory
            dirs = sum(kind == b"tree" for _, kind, _, _ in entries)
            recursive = dirs >= self.LIST_WIDTH
        for mode, kind, sha, path in entries:
            if kind != b"tree":
                yield (
                    (prefix + path).decode("utf-8", "surrogateescape"), sha.decode(),
                    kind_of(mode if kind == b"blob" else kind),
                )  # fmt: skip
            elif recursive:
                yield from self._list(sha.decode(), prefix + path + b"/", self.LIST_DEPTH)
            else:
                yield from self._list(sha.decode(), prefix + path + b"/", depth + 1)

    def _ls_tree(self, tree: str, *, recursive: bool) -> Iterator[tuple[bytes, ...]]:
        """(mode, type, sha, path) of each entry ``ls-tree`` prints, as it prints them."""
        args = [*_PACK_WINDOWS, "ls-tree", "-z", *(["-r"] if recursive else []), tree]
        with stream_git(args, git_dir=self.git_dir) as run:
            for entry in run.fields():
                if entry:
                    meta, _, path = entry.partition(b"\t")
                    yield (*meta.split(b" "), path)
        if run.returncode != 0:
            raise GitError(scrub(f"git ls-tree: {run.err or f'exit {run.returncode}'}"))

    def diff_tree(self, old: str, new: str) -> list[Change]:
        """What changed between two commits, blob by blob (renames as delete + add)."""
        return list(self.iter_diff_tree(old, new))

    def iter_diff_tree(self, old: str, new: str) -> Iterator[Change]:
        """:meth:`diff_tree` as git finds the changes (see :meth:`TreeDiff.changes`)."""
        return self._tree_diff.changes(old, new)

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
        with stream_git(args, git_dir=self.git_dir) as run:
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


class BlobReader:
    """``git cat-file --batch``: a blob per request, no process per file.

    One process reads at most ``slice`` blobs (default :attr:`SLICE`), then the next one
    starts. git maps each pack window it reads and keeps it until it exits, so a single
    process reading every article of a big repo ends up holding the whole pack in its RSS
    (1.4 GiB at a million articles); a new process every few thousand blobs costs a few
    milliseconds. Within a process, git maps at most 32 MiB of pack at once (_PACK_WINDOWS),
    so even one slice of blobs spread over a pack of gigabytes stays small.
    ``one_process=True`` keeps one process with git's own settings for every request (a
    baseline that measures git alone). ``started`` counts the processes.
    """

    SLICE = 5000

    def __init__(self, git_dir: Path, *, one_process: bool = False) -> None:
        self.git_dir = git_dir
        self.slice = None if one_process else self.SLICE
        self._config = [] if one_process else _PACK_WINDOWS
        self.started = 0
        self._served = 0
        self._proc = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        self.started += 1
        self._served = 0
        return subprocess.Popen(
            ["git", *self._config, "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=git_env(self.git_dir),
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
        out: list[bytes | None] = []
        i = 0
        while i < len(shas):
            size = self.CHUNK
            if self.slice is not None:
                if self._served >= self.slice:  # this one has read its share: next
                    self.close()
                    self._proc = self._start()
                size = min(size, self.slice - self._served)
            chunk = shas[i : i + size]
            assert self._proc.stdin and self._proc.stdout
            self._proc.stdin.write(b"".join(s.encode() + b"\n" for s in chunk))
            self._proc.stdin.flush()
            out.extend(self._read_object() for _ in chunk)
            self._served += len(chunk)
            i += len(chunk)
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
