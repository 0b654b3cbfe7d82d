"""Running git: one command, or one whose ``-z`` output is read as it comes.

``git`` always runs with an argument list, never through a shell, and with an environment
that never prompts; what it says on failure is scrubbed of credentials.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from storage.credentials import scrub


class GitError(RuntimeError):
    """A git command failed; the message never contains credentials (git quotes the remote's
    URL, and a file name may hold anything: each message passes :func:`scrub`). ``stderr``
    is what git said, scrubbed too."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


# Keep git from prompting for credentials on a terminal nobody watches, and its messages
# in one language so errors read the same on every machine.
_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "LC_ALL": "C"}


def git_env(git_dir: Path | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every git subprocess of ours runs with."""
    env = {**os.environ, **_GIT_ENV}
    if git_dir is not None:
        env["GIT_DIR"] = str(git_dir)
    return {**env, **(extra or {})}


def run_git(
    args: Sequence[str],
    *,
    git_dir: Path | None = None,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
) -> bytes:
    """Run ``git ARGS`` and return stdout; raise GitError with stderr (scrubbed) on failure.

    ``env`` adds variables (a temporary index, a commit identity) to the usual ones.
    """
    proc = subprocess.run(
        ["git", *args], input=input, capture_output=True, env=git_env(git_dir, env), check=False
    )
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip() or f"exit {proc.returncode}"
        raise GitError(scrub(f"git {args[0]}: {err}"), scrub(err))
    return proc.stdout


class GitStream:
    """A git process whose output is being read (see :func:`stream_git`)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.returncode: int | None = None
        self.err = ""

    def fields(self) -> Iterator[bytes]:
        """The NUL-separated fields of stdout as they arrive (a torn field waits)."""
        assert self.proc.stdout
        rest = b""
        while block := self.proc.stdout.read1(1 << 16):
            *done, rest = (rest + block).split(b"\0")
            yield from done
        if rest:
            yield rest


@contextmanager
def stream_git(
    args: list[str], *, git_dir: Path, stdin: bytes | None = None
) -> Iterator[GitStream]:
    """A git process whose ``-z`` output is read as it comes; killed if the reader stops
    early. ``returncode`` and ``err`` are set once the block ends."""
    with tempfile.TemporaryFile() as stdin_file, tempfile.TemporaryFile() as stderr:
        # Files, not pipes: neither side can fill up while we read the other.
        if stdin is not None:
            stdin_file.write(stdin)
            stdin_file.seek(0)
        proc = subprocess.Popen(
            ["git", *args], stdin=stdin_file if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=stderr, env=git_env(git_dir),
        )  # fmt: skip
        run = GitStream(proc)
        try:
            yield run
        finally:
            if proc.poll() is None:
                proc.kill()
            run.returncode = proc.wait()
            stderr.seek(0)
            run.err = stderr.read().decode("utf-8", "replace").strip()
