"""A remote that cannot be fetched from or pushed to, said in one line with the fix."""

from __future__ import annotations

import subprocess
from urllib.parse import urlsplit

from storage.controls import escape_controls
from storage.credentials import scrub
from storage.git_command import GitError, git_env


class RemoteError(GitError):
    """The content repo's remote could not be fetched from or pushed to: one line naming
    the remote, git's reason and what to check (see :func:`remote_error`)."""


# Lines git adds around its reason: advice, and the generic last words of a failure.
_NOT_A_REASON = (
    "hint:", "To ", "Could not read from remote repository", "Please make sure",
    "failed to push some refs",
)  # fmt: skip
_PREFIXES = ("fatal: ", "error: ", "remote: ")
_REASON_MAX = 160  # a job's detail keeps 300 characters: the fix must survive the cut


def git_reason(stderr: str) -> str:
    """The first line of git's stderr that says what went wrong, without its ``fatal:``."""
    for line in stderr.splitlines():
        line = line.strip()
        for prefix in _PREFIXES:
            line = line.removeprefix(prefix)
        if line and not line.startswith(_NOT_A_REASON):
            return line
    return stderr.strip().splitlines()[0] if stderr.strip() else "no reason given"


# What was tried, by git command.
_TRIED = {"fetch": "fetch {} from", "push": "push {} to", "ls-remote": "find branch {} at"}


def remote_error(command: str, remote: str, branch: str, stderr: str) -> RemoteError:
    """One line for a ``git fetch``, ``push`` or ``ls-remote`` of ``remote`` that failed: the
    remote (its credentials scrubbed), git's reason (its first meaningful line) and the fix."""
    said = git_reason(stderr)
    for quoted in _quoted(remote):  # git names the remote again: once is enough
        said = said.replace(quoted, "it")
    said = scrub(said)  # scrubbed before it is cut: no half secret survives
    said = escape_controls(said if len(said) <= _REASON_MAX else said[: _REASON_MAX - 1] + "…")
    if f"couldn't find remote ref refs/heads/{branch}" in stderr:
        fix = "check content.branch"
    else:
        fix = "check content.remote and content.branch, the network and git's credentials"
    where = escape_controls(scrub(remote))
    return RemoteError(
        f"cannot {_TRIED[command].format(branch)} {where} ({said}): {fix}; "
        "'curator doctor' checks every part",
        scrub(stderr),
    )


def _quoted(remote: str) -> list[str]:
    """How git quotes ``remote`` in a message: as given, or (a URL) with a slash added and
    without its user name and password."""
    parts = urlsplit(remote)
    bare = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
    return [f"'{form}'" for url in {remote, bare} for form in (url, url.rstrip("/") + "/")]


def check_remote(remote: str, branch: str) -> None:
    """Whether ``remote`` answers and has ``branch``; RemoteError saying why not."""
    proc = subprocess.run(
        ["git", "ls-remote", "--exit-code", "--heads", remote, f"refs/heads/{branch}"],
        capture_output=True, env=git_env(), check=False,
    )  # fmt: skip
    if proc.returncode == 2:  # it answered, without that branch
        raise remote_error(
            "ls-remote", remote, branch, f"couldn't find remote ref refs/heads/{branch}"
        )
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip() or f"exit {proc.returncode}"
        raise remote_error("ls-remote", remote, branch, err)
