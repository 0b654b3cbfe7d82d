"""What one publish run reports: each post's outcome, for its Slack card, and a summary line."""

from __future__ import annotations

from dataclasses import dataclass

# What the report calls each outcome; "published" means this job's commit did it.
PUBLISHED, ALREADY, MISSING, REFUSED = "published", "already", "missing", "refused"
# Not what editors approved (changed after the votes): the post is open again for new votes.
CHANGED = "changed"


@dataclass(frozen=True)
class PostReport:
    """What happened to one post, for updating its Slack message.

    ``outcome`` is "published" (by this job's commit, ``recovered`` when an interrupted run
    pushed it), "already" (published on the remote by someone else), "missing" or "refused"
    (the post is now "blocked"; ``reason`` says why in one line).
    """

    post_id: int
    article_id: int
    path: str
    title: str | None
    channel: str
    ts: str | None
    permalink: str | None
    outcome: str
    status: str
    commit_sha: str | None = None
    commit_url: str | None = None
    reason: str | None = None
    approvers: tuple[str, ...] = ()
    recovered: bool = False


@dataclass(frozen=True)
class PublishReport:
    """Everything one run did: the posts, and the commit it pushed (None if it pushed none)."""

    dry_run: bool
    posts: tuple[PostReport, ...] = ()
    commit_sha: str | None = None
    commit_url: str | None = None
    message: str = ""
    diff: str = ""
    attempts: int = 0

    def count(self, outcome: str) -> int:
        return sum(1 for p in self.posts if p.outcome == outcome)

    def summary(self) -> str:
        """One line: published N, already published M, missing K, refused R, commit sha;
        a dry run says what it would publish, and that it changed nothing."""
        others = (
            f"already published {self.count(ALREADY)}, missing {self.count(MISSING)}, "
            f"refused {self.count(REFUSED)}"
        )
        if self.count(CHANGED):
            others += f", changed since the votes {self.count(CHANGED)} (open again)"
        if self.dry_run:
            n = self.count(PUBLISHED)
            would = f"would publish {n}{' in one commit' if n else ''}"
            return f"dry run: {would}, {others}; nothing changed"
        published = f"published {self.count(PUBLISHED)}"
        recovered = sum(1 for p in self.posts if p.recovered)
        if recovered:
            published += f" ({recovered} recorded from an interrupted run)"
        commit = f"commit {self.commit_sha[:12]}" if self.commit_sha else "no commit"
        return f"{published}, {others}, {commit}"
