"""Test helpers: a newsroom's git remote and articles shaped like the shared sample."""

from __future__ import annotations

import math
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from storage.fields import FieldMap
from storage.gitrepo import ContentRepo
from storage.publish_commit import (
    ArticleResult,
    Author,
    Edit,
    PublishResult,
    next_tip,
    plan_attempt,
    prepare,
    push,
)

# Writes a commit message from an attempt's outcomes, as bot/publishing does.
MessageFn = Callable[[Sequence[ArticleResult]], str]


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


class Newsroom:
    """A bare remote plus a writer's clone: what editors and the collector push to."""

    def __init__(self, root: Path, branch: str = "main") -> None:
        self.branch = branch
        self.remote = root / "remote.git"
        self.work = root / "writer"
        git("init", "--quiet", "--bare", f"--initial-branch={branch}", str(self.remote), cwd=root)
        git("init", "--quiet", f"--initial-branch={branch}", str(self.work), cwd=root)
        git("config", "user.email", "writer@example.org", cwd=self.work)
        git("config", "user.name", "Writer", cwd=self.work)
        git("remote", "add", "origin", str(self.remote), cwd=self.work)

    def write(self, path: str, content: str | bytes) -> None:
        target = self.work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode()
        target.write_bytes(content)

    def remove(self, path: str) -> None:
        git("rm", "--quiet", path, cwd=self.work)

    def commit(self, message: str = "update") -> str:
        git("add", "-A", cwd=self.work)
        git("commit", "--quiet", "--allow-empty", "-m", message, cwd=self.work)
        git("push", "--quiet", "origin", f"HEAD:{self.branch}", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)


def article(
    title: str = "A story",
    *,
    published: bool | str = False,
    quality: float = 50,
    heat: float = 0,
    topics: tuple[str, ...] = ("AI",),
    url: str | None = None,
    dated: str = "2026-11-25T10:00:00Z",
    related: int = 1,
) -> str:
    """A small article shaped like the shared sample."""
    flag = published if isinstance(published, str) else str(published).lower()
    lines = [
        "---",
        f'title: "{title}"',
        f'excerpt: "About {title}."',
        f"publishedDateTime: {dated}",
        f'webUrl: "{url or "https://example.org/" + title.lower().replace(" ", "-")}"',
        f"quality: {quality}",
        f"heat: {heat}",
        f"published: {flag}",
        "",
        "provider:",
        "  name: Example News",
        "  domain: example.org",
        "",
        "topics:",
        *[f"  - {t}" for t in topics],
        "",
        "images:",
        '  - url: "https://example.org/a.png"',
        "    width: 760",
        "",
        "related:",
    ]
    for i in range(related):
        lines += [
            f'  - title: "Related {i} to {title}"',
            f'    webUrl: "https://other.example/{i}"',
            "    provider:",
            "      name: Other",
            f"    quality: {70 - i}",
        ]
    lines += ["---", "", f"Body of {title}.", ""]
    return "\n".join(lines)


def same(a: Any, b: Any) -> bool:
    """Equality that tells True from 1 and finds NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def publish(
    repo: ContentRepo,
    edits: Sequence[Edit],
    *,
    fields: FieldMap,
    author: Author,
    message: MessageFn,
    tip: str | None = None,
    dry_run: bool = False,
    attempts: int = 5,
    backoff: float = 0.5,
    workers: int | None = None,
    before_push: Callable[[str, str], None] | None = None,
) -> PublishResult:
    """storage's publish steps in order, as the bot takes them: one commit pushed to the
    branch, or why an article was not. ``before_push`` is called with (commit, base) where
    the bot writes its batch ahead of each push.

    ``tip`` is the remote tip to start from (default: fetch it). On a non-fast-forward push
    the remote is fetched again and everything is redone on the new tip, up to ``attempts``
    pushes with a growing, jittered pause; then PushRejected.
    """

    def attempt(at: str, n: int) -> PublishResult:
        planned = plan_attempt(repo, edits, tip=at, fields=fields, number=n, workers=workers)
        return prepare(
            repo, planned, message=message(planned.results), author=author, dry_run=dry_run
        )

    prepared = attempt(tip or repo.fetch(), 1)
    while prepared.commit is not None:
        if before_push is not None:
            before_push(prepared.commit, prepared.base)
        if push(repo, prepared):
            break
        tip = next_tip(repo, prepared, attempts=attempts, backoff=backoff)
        prepared = attempt(tip, prepared.attempts + 1)
    return prepared
