"""What the remote's history says: whether a batch's commit got there, what it changed, who
published an article by hand."""

from __future__ import annotations

import re

from storage.fields import FieldMap
from storage.gitrepo import ContentRepo
from storage.publish_commit.results import BATCH_TRAILER


def find_pushed(repo: ContentRepo, tip: str, *, commit: str, base: str, token: str) -> str | None:
    """The commit of batch ``token`` if the remote branch (at ``tip``) has it, else None.

    The recorded sha is checked first; the trailer is grepped as well, between the batch's
    base and the tip, so a commit that was rewritten on the remote (a rebase) is found too.
    """
    if repo.has_commit(commit) and repo.is_ancestor(commit, tip):
        return commit
    span = f"{base}..{tip}" if repo.has_commit(base) and repo.is_ancestor(base, tip) else tip
    line = f"{BATCH_TRAILER}: {token}"
    # --grep finds substrings (token "ab" in "abc"): the exact line is checked here.
    out = repo.git("log", "--format=%H%n%B%x00", "--fixed-strings", f"--grep={line}", span)
    found = None
    for entry in out.decode("utf-8", "replace").split("\0"):
        sha, _, body = entry.strip("\n").partition("\n")
        if sha and line in body.splitlines():
            found = sha  # the log is newest first: keep the oldest
    return found


def changed_paths(repo: ContentRepo, commit: str) -> list[str]:
    """The files ``commit`` changed against its first parent."""
    return [c.path for c in repo.diff_tree(f"{commit}^", commit)]


def read_message(repo: ContentRepo, commit: str) -> str:
    return repo.git("log", "-1", "--format=%B", commit).decode("utf-8", "replace")


_SIMPLE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def find_publisher(
    repo: ContentRepo, tip: str, path: str, fields: FieldMap
) -> tuple[str, str] | None:
    """(sha, author name) of the last commit that changed the flag line of ``path``.

    Best effort, for telling editors who published an article by hand: None when the key
    is not a plain word or no commit in the history touched it.
    """
    if not _SIMPLE_KEY.fullmatch(fields.flag):
        return None
    out = repo.git(
        "log", "-1", "--format=%H%x00%an", f"-G^[\"']?{fields.flag}[\"']?[[:space:]]*:",
        tip, "--", f":(literal){path}",
    )  # fmt: skip
    sha, _, name = out.decode("utf-8", "replace").strip().partition("\0")
    return (sha, name) if sha else None
