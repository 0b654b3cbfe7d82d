"""Writing the edited blobs and the commit into the bot's clone, and the fast-forward push."""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from storage.commit_text import escape_message
from storage.gitrepo import ContentRepo, GitError, git_env, remote_error
from storage.publish_commit.results import Author

# The porcelain status of a push refused because the remote moved on (not a hook's "no").
_NOT_FAST_FORWARD = re.compile(r"\[rejected\] \((?:fetch first|non-fast-forward)\)")


def write_blobs(repo: ContentRepo, contents: Sequence[bytes]) -> list[str]:
    """Store ``contents`` as blobs, in one pack written by one ``git fast-import``.

    One process and one pack file for the whole batch: a loose object per blob (what
    ``hash-object -w`` writes) costs a file and a directory entry each, which is most of the
    time of a large batch on a slow disk. No ref is touched; fetch's auto-gc folds the packs.
    """
    if not contents:
        return []
    stream = bytearray()
    for i, data in enumerate(contents, 1):
        stream += b"blob\nmark :%d\ndata %d\n" % (i, len(data))
        stream += data
        stream += b"\n"
    stream += b"done\n"
    with tempfile.TemporaryDirectory(prefix="curator-blobs-") as tmp:
        marks = Path(tmp, "marks")
        # No deltas inside the batch (they would be against unrelated articles); the push
        # finds the good ones, against each file's previous version.
        repo.git(
            "fast-import", "--quiet", "--done", "--big-file-threshold=1k",
            f"--export-marks={marks}", input=bytes(stream),
        )  # fmt: skip
        ids = dict(line.split(" ", 1) for line in marks.read_text().split("\n") if line)
    try:
        return [ids[f":{i}"] for i in range(1, len(contents) + 1)]
    except KeyError:
        raise GitError(f"git fast-import: {len(ids)} ids for {len(contents)} blobs") from None


def write_commit(
    repo: ContentRepo,
    tip: str,
    entries: Sequence[tuple[str, str, str]],
    message: str,
    author: Author,
) -> str:
    """A commit on top of ``tip`` with ``entries`` (mode, blob sha, path) replaced.

    The index is a temporary file read from the tip, so nothing is checked out and the
    bare clone's own state is never touched; only the changed directories are rewritten.
    """
    with tempfile.TemporaryDirectory(prefix="curator-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp, "index"))}
        repo.git("read-tree", tip, env=env)
        info = b"".join(
            f"{mode} {sha}\t".encode() + path.encode("utf-8", "surrogateescape") + b"\0"
            for mode, sha, path in entries
        )
        repo.git("update-index", "-z", "--index-info", env=env, input=info)
        tree = repo.git("write-tree", env=env).decode().strip()
    identity = {
        "GIT_AUTHOR_NAME": author.name,
        "GIT_AUTHOR_EMAIL": author.email,
        "GIT_COMMITTER_NAME": author.name,
        "GIT_COMMITTER_EMAIL": author.email,
    }
    # The caller's line breaks stay; any other control character is escaped, whoever
    # built the message (storage/commit_text.py).
    text = escape_message(message if message.endswith("\n") else message + "\n")
    out = repo.git("commit-tree", tree, "-p", tip, "-F", "-", env=identity, input=text.encode())
    return out.decode().strip()


def push_commit(repo: ContentRepo, commit: str) -> bool:
    """Fast-forward the remote branch to ``commit``; False when the remote has moved on.

    Another push updating the branch at that very moment makes the remote answer "cannot
    lock ref": that is the remote moving on too, and the caller redoes the edits on the
    new tip.
    """
    args = ["push", "--porcelain", "origin", f"{commit}:refs/heads/{repo.branch}"]
    # Under the clone's lock: a successful push also moves our tracking ref, which a
    # fetch in another process must not be updating at the same time.
    with repo.locked():
        proc = subprocess.run(
            ["git", *args],
            capture_output=True,
            check=False,
            env=git_env(repo.git_dir),
        )
        if proc.returncode == 0:
            # Keep the tracking ref on what the remote now has, so a scan sees our commit.
            repo.git("update-ref", repo.tracking_ref, commit)
            return True
    out = proc.stdout.decode("utf-8", "replace")
    err = proc.stderr.decode("utf-8", "replace").strip() or out.strip()
    if _NOT_FAST_FORWARD.search(out) or f"cannot lock ref 'refs/heads/{repo.branch}'" in err:
        return False
    # A refusal without a word from the remote's hook is said only on stdout: "!<TAB>ref<TAB>
    # [remote rejected] (pre-receive hook declined)".
    rejected = [line.rsplit("\t", 1)[-1] for line in out.splitlines() if line.startswith("!")]
    stderr = proc.stderr.decode("utf-8", "replace").strip()
    said = "\n".join([stderr, *rejected]).strip() or f"exit {proc.returncode}"
    raise remote_error("push", repo.remote, repo.branch, said)
