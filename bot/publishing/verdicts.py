"""What one publish run decides for each post, from its article's outcome at the tip: the
database change (published, blocked, unpublished, open again when changed after the votes)
and the line of the report."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Config
from bot.publishing.message import Candidate
from bot.publishing.report import (
    ALREADY,
    CHANGED,
    MISSING,
    PUBLISHED,
    REFUSED,
    UNPUBLISHED,
    PostReport,
)
from bot.rules import states
from storage import publish_commit as git_publish
from storage.gitrepo import ContentRepo
from storage.publish_commit import ArticleResult, Outcome
from storage.publish_log import PostChange
from storage.revotes import revote_cause


@dataclass(frozen=True)
class Verdict:
    """The database change for one post: its new state and the decision's cause."""

    candidate: Candidate
    outcome: str
    status: str
    cause: str
    commit_sha: str | None = None
    reason: str | None = None
    hold_blob: str | None = None
    recovered: bool = False
    left_blob: str | None = None  # an unpublished post's file, as the run left it
    fingerprint: str | None = None  # CHANGED: the article's at the tip
    changed: tuple[str, ...] = ()  # CHANGED: which keys that count differ

    def change(self) -> PostChange:
        c = self.candidate
        return PostChange(
            post_id=c.post_id, article_id=c.article_id, from_status=c.status,
            status=self.status, cause=self.cause, commit_sha=self.commit_sha,
            hold_blob=self.hold_blob, left_blob=self.left_blob,
        )  # fmt: skip


def verdict(
    c: Candidate,
    r: ArticleResult,
    commit: str | None,
    repo: ContentRepo,
    config: Config,
    tip: str,
) -> Verdict:
    branch = config.content.branch
    if c.unpublish:
        return _unpublish_verdict(c, r, commit, branch, tip)
    if r.outcome is Outcome.EDITED:
        # On a dry run there is no commit yet: the state shown is the one it would reach.
        cause = f"commit {commit[:12]} pushed" if commit else "would be published (dry run)"
        return Verdict(c, PUBLISHED, states.PUBLISHED, cause, commit)
    if r.outcome is Outcome.ALREADY:
        found = git_publish.find_publisher(repo, tip, c.path, config.fields)
        if found is None:
            return Verdict(c, ALREADY, states.PUBLISHED, f"already published on {branch}")
        sha, who = found
        cause = f"already published on {branch} by {who or 'someone'} in commit {sha[:12]}"
        return Verdict(c, ALREADY, states.PUBLISHED, cause, sha)
    if r.outcome is Outcome.CHANGED:
        keys = tuple((r.reason or "").split(","))
        cause = revote_cause(keys, tip, found=" (found when publishing)")
        return Verdict(
            c, CHANGED, states.OPEN, cause, reason=cause, fingerprint=r.fingerprint,
            changed=keys,
        )  # fmt: skip
    if r.outcome is Outcome.MISSING:
        reason = f"{c.path} is not on {branch} (at {tip[:12]})"
        return Verdict(c, MISSING, states.BLOCKED, f"missing: {reason}", reason=reason)
    reason = r.reason or "cannot be edited"
    return Verdict(
        c, REFUSED, states.BLOCKED, f"refused: {reason}", reason=reason, hold_blob=r.old_blob
    )


def _unpublish_verdict(
    c: Candidate, r: ArticleResult, commit: str | None, branch: str, tip: str
) -> Verdict:
    if r.outcome is Outcome.EDITED:
        cause = (
            f"commit {commit[:12]} pushed (unpublished)"
            if commit
            else "would be unpublished (dry run)"
        )
        return Verdict(c, UNPUBLISHED, states.UNPUBLISHED, cause, commit, left_blob=r.new_blob)
    if r.outcome is Outcome.ALREADY:
        cause = f"already unpublished on {branch} (at {tip[:12]})"
        return Verdict(c, UNPUBLISHED, states.UNPUBLISHED, cause, left_blob=r.old_blob)
    if r.outcome is Outcome.MISSING:
        cause = f"{c.path} is not on {branch} (at {tip[:12]}): nothing left to unpublish"
        return Verdict(c, UNPUBLISHED, states.UNPUBLISHED, cause, reason=cause)
    reason = r.reason or "cannot be edited"
    # Stays queued: the next run tries again (the report and the log say why).
    return Verdict(c, REFUSED, states.UNPUBLISHING, f"refused: {reason}", reason=reason)


def report_of(v: Verdict, config: Config) -> PostReport:
    c = v.candidate
    return PostReport(
        post_id=c.post_id, article_id=c.article_id, path=c.path, title=c.title,
        channel=c.channel, ts=c.ts, permalink=c.permalink, outcome=v.outcome, status=v.status,
        commit_sha=v.commit_sha,
        commit_url=config.content.commit_link(v.commit_sha) if v.commit_sha else None,
        reason=v.reason, approvers=tuple(name for _, name in c.approvers),
        recovered=v.recovered,
    )  # fmt: skip
