"""The publish job: approved posts become one commit on the content repo; the database follows.

Nothing lost, nothing twice, even when the job is killed at any point:

1. Right before each push, a ``PublishBatch`` row (state "pending") records the commit, the
   tip it was built on and the batch token that the commit carries as a ``Curator-Batch:``
   trailer. This job takes storage's steps in that order itself: prepare the commit, write
   the batch ahead (storage/publish_log.py), push.
2. After the push, one transaction marks the posts published, records their decisions and
   the ``PublishCommit``, and closes the batch as "pushed".
3. Every run holds the publish lock (storage/locks.py), so a batch still pending when a run
   starts is one that a dead run left. The run settles those against the freshly fetched
   remote: a batch whose commit (or trailer) is on the branch is recorded as if the push had
   just returned; one that is not is closed as "failed" and its posts, still approved, go
   into this run. A batch is recorded once, whoever gets there first.
   An article published by a batch the database missed is never edited twice, because each
   file is re-checked at the tip before it is edited, and the push is fast-forward only.

An article that is missing or cannot be edited blocks its post (status "blocked" plus a
``PublishHold`` naming the refused blob); the post is retried as soon as its file changes.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy.engine import Engine

from bot.config import Config
from bot.house_rules import vote_rules
from bot.publishing.message import (
    Candidate,
    check_templates,
    commit_message,
    display_name,
    set_on_publish,
)
from bot.publishing.report import (
    ALREADY,
    CHANGED,
    MISSING,
    PUBLISHED,
    REFUSED,
    PostReport,
    PublishReport,
)
from bot.rules import states
from bot.rules.tally import tally
from storage import publish_commit as git_publish
from storage import publish_log
from storage.db import transaction
from storage.gitrepo import ContentRepo
from storage.locks import run_lock
from storage.publish_commit import ArticleResult, Author, Edit, Outcome, PublishResult, PushRejected
from storage.publish_log import PostChange
from storage.revotes import reopen, revote_cause, since_of
from storage.votes import find_post

log = logging.getLogger(__name__)


#: How long a publish waits for another one to finish before it says so and stops.
PUBLISH_WAIT = 10.0


@dataclass(frozen=True)
class _Verdict:
    """The database change for one post: its new state and the decision's cause."""

    candidate: Candidate
    outcome: str
    status: str
    cause: str
    commit_sha: str | None = None
    reason: str | None = None
    hold_blob: str | None = None
    recovered: bool = False
    fingerprint: str | None = None  # CHANGED: the article's at the tip
    changed: tuple[str, ...] = ()  # CHANGED: which keys that count differ

    def change(self) -> PostChange:
        c = self.candidate
        return PostChange(
            post_id=c.post_id, article_id=c.article_id, from_status=c.status,
            status=self.status, cause=self.cause, commit_sha=self.commit_sha,
            hold_blob=self.hold_blob,
        )  # fmt: skip


def publish_approved(
    engine: Engine,
    repo: ContentRepo,
    config: Config,
    *,
    now: datetime,
    dry_run: bool = False,
    approver_names: Mapping[str, str] | None = None,
    attempts: int = 5,
    backoff: float = 0.5,
    wait: float = PUBLISH_WAIT,
) -> PublishReport:
    """Publish every approved article in one commit and bring the posts up to date.

    One publish runs at a time across processes and replicas: this one waits up to ``wait``
    seconds for another to finish, then raises storage.locks.Busy. Holding the lock for the
    whole run is also what lets recovery treat any pending batch as abandoned.

    A dry run fetches, reads and edits in memory and returns the diff and the commit message;
    it writes nothing to the content repo or the database, and takes no lock.
    """
    check_templates(config.content.set_on_publish)
    run = functools.partial(
        _publish, engine, repo, config, now=now, dry_run=dry_run,
        names=approver_names or {}, attempts=attempts, backoff=backoff,
    )  # fmt: skip
    if dry_run:
        return run()
    with run_lock(engine, "publish", wait=wait):
        return run()


def _publish(
    engine: Engine,
    repo: ContentRepo,
    config: Config,
    *,
    now: datetime,
    dry_run: bool,
    names: Mapping[str, str],
    attempts: int,
    backoff: float,
) -> PublishReport:
    tip = repo.fetch()
    recovered = [] if dry_run else recover(engine, repo, config, tip=tip, now=now, names=names)
    todo = _due(engine, repo, tip, names, config)
    if not todo:
        return PublishReport(dry_run, tuple(recovered))
    by_path = {c.path: c for c in todo}
    token = uuid.uuid4().hex
    # Each article must still be the one editors approved (bot/slack/revote.py): checked
    # at the tip, so a change the scan has not seen yet is caught too.
    keys = config.votes.revote_on
    edits = [
        Edit(c.path, set_on_publish(config, c, now), expect=c.voted_hash, keys=keys) for c in todo
    ]

    def prepare(at: str, number: int) -> PublishResult:
        attempt = git_publish.plan_attempt(repo, edits, tip=at, fields=config.fields, number=number)
        edited = [by_path[r.path] for r in attempt.results if r.outcome is Outcome.EDITED]
        return git_publish.prepare(
            repo, attempt, message=commit_message(edited, token, desks=_desk_names(config)),
            author=_author(config), dry_run=dry_run,
        )  # fmt: skip

    try:
        result = prepare(tip, 1)
        while result.commit is not None:  # never on a dry run
            # Durably, before the push: what an interrupted run's successor settles.
            publish_log.write_ahead(
                engine, token=token, commit=result.commit, base=result.base, now=now
            )
            if git_publish.push(repo, result):
                break
            tip = git_publish.next_tip(repo, result, attempts=attempts, backoff=backoff)
            result = prepare(tip, result.attempts + 1)
    except PushRejected as exc:
        # Definitely not on the remote: close the batch, the posts stay approved.
        publish_log.close_batch(engine, token=token, state="failed", detail=str(exc), at=now)
        raise
    # Any other error leaves a pending batch (if any) for the next run to settle: a push
    # that failed on the network may still have reached the remote.
    verdicts = [
        _verdict(by_path[r.path], r, result.commit, repo, config, result.base)
        for r in result.articles
    ]
    edited = len(result.with_outcome(Outcome.EDITED))
    if not dry_run:
        # A first attempt may have written its batch and lost the race, and the retry found
        # nothing left to edit (someone published it all meanwhile): that batch never
        # reached the remote.
        unpushed = None if result.commit else _nothing_left(config.content.branch)
        publish_log.record(
            engine, changes=[v.change() for v in verdicts], commit=result.commit,
            message=result.message, article_count=edited, token=token, now=now,
            unpushed=unpushed,
        )  # fmt: skip
        changed = [v for v in verdicts if v.outcome == CHANGED]
        _reopen_changed(engine, changed, tip=result.base, now=now)
    commit_url = config.content.commit_link(result.commit) if result.commit else None
    report = PublishReport(
        dry_run=dry_run,
        posts=tuple(recovered) + tuple(_report(v, config) for v in verdicts),
        commit_sha=result.commit,
        commit_url=commit_url,
        message=result.message if edited else "",
        diff=result.diff,
        attempts=result.attempts,
    )
    log.info("publish: %s", report.summary())
    return report


def _reopen_changed(
    engine: Engine, verdicts: Sequence[_Verdict], *, tip: str, now: datetime
) -> None:
    """Articles not published because they are not what editors approved: their cards go
    back to a vote, as when the scan sees the change (bot/slack/revote.py)."""
    for v in verdicts:
        c = v.candidate
        with transaction(engine) as tx:
            post = find_post(tx, channel=c.channel, ts=c.ts or "", lock=True)
            if post is None or post.status not in (states.APPROVED, states.BLOCKED):
                continue  # a vote moved it meanwhile; the next scan tells the change
            reopen(
                tx, post_id=post.id, status=post.status, fingerprint=v.fingerprint,
                keys=v.changed, since=since_of(now), commit=tip, cause=v.cause, at=now,
            )  # fmt: skip


def _author(config: Config) -> Author:
    return Author(config.content.author_name, config.content.author_email)


def _desk_names(config: Config) -> tuple[str, ...] | None:
    """The desks, in config order, that the commit message groups its articles by; None for
    a config without desks, whose message has no groups."""
    if len(config.desks) == 1 and config.desks[0].implicit:
        return None
    return tuple(d.name for d in config.desks)


# ------------------------------------------------------------------------------ what is due


def _due(
    engine: Engine, repo: ContentRepo, tip: str, names: Mapping[str, str], config: Config
) -> list[Candidate]:
    """Approved posts, plus blocked ones whose file changed since it was refused."""
    candidates = load_candidates(engine, config, names=names)
    blocked = [c for c in candidates if c.status == states.BLOCKED]
    now_at = git_publish.tree_entries(repo, tip, [c.path for c in blocked])
    return [
        c
        for c in candidates
        if c.status != states.BLOCKED
        or not c.held
        or (now_at[c.path][1] if c.path in now_at else None) != c.hold_blob
    ]


def load_candidates(
    engine: Engine,
    config: Config,
    *,
    names: Mapping[str, str],
    paths: Sequence[str] | None = None,
    statuses: Iterable[str] = (states.APPROVED, states.BLOCKED),
) -> list[Candidate]:
    """Posts in ``statuses`` (optionally only those at ``paths``), by path, with approvers:
    the editors whose current vote is "publish", as the card counts them: by the vote rules
    of the post's desk (a card of no configured desk is the default desk's, and named so)."""
    out = []
    for q in publish_log.queued_posts(engine, statuses=statuses, paths=paths):
        desk = config.desk(q.desk)
        approvers = tally(list(q.reactions), vote_rules(desk)).publish
        out.append(
            Candidate(
                **{f.name: getattr(q, f.name) for f in fields(q) if f.name != "desk"},
                desk=desk.name,
                approvers=tuple((u, display_name(names.get(u), u)) for u in approvers),
            )
        )
    return sorted(out, key=lambda c: c.path)


# ---------------------------------------------------------------------------------- verdicts


def _verdict(
    c: Candidate,
    r: ArticleResult,
    commit: str | None,
    repo: ContentRepo,
    config: Config,
    tip: str,
) -> _Verdict:
    branch = config.content.branch
    if r.outcome is Outcome.EDITED:
        # On a dry run there is no commit yet: the state shown is the one it would reach.
        cause = f"commit {commit[:12]} pushed" if commit else "would be published (dry run)"
        return _Verdict(c, PUBLISHED, states.PUBLISHED, cause, commit)
    if r.outcome is Outcome.ALREADY:
        found = git_publish.find_publisher(repo, tip, c.path, config.fields)
        if found is None:
            return _Verdict(c, ALREADY, states.PUBLISHED, f"already published on {branch}")
        sha, who = found
        cause = f"already published on {branch} by {who or 'someone'} in commit {sha[:12]}"
        return _Verdict(c, ALREADY, states.PUBLISHED, cause, sha)
    if r.outcome is Outcome.CHANGED:
        keys = tuple((r.reason or "").split(","))
        cause = revote_cause(keys, tip, found=" (found when publishing)")
        return _Verdict(
            c, CHANGED, states.OPEN, cause, reason=cause, fingerprint=r.fingerprint,
            changed=keys,
        )  # fmt: skip
    if r.outcome is Outcome.MISSING:
        reason = f"{c.path} is not on {branch} (at {tip[:12]})"
        return _Verdict(c, MISSING, states.BLOCKED, f"missing: {reason}", reason=reason)
    reason = r.reason or "cannot be edited"
    return _Verdict(
        c, REFUSED, states.BLOCKED, f"refused: {reason}", reason=reason, hold_blob=r.old_blob
    )


def _report(v: _Verdict, config: Config) -> PostReport:
    c = v.candidate
    return PostReport(
        post_id=c.post_id, article_id=c.article_id, path=c.path, title=c.title,
        channel=c.channel, ts=c.ts, permalink=c.permalink, outcome=v.outcome, status=v.status,
        commit_sha=v.commit_sha,
        commit_url=config.content.commit_link(v.commit_sha) if v.commit_sha else None,
        reason=v.reason, approvers=tuple(name for _, name in c.approvers),
        recovered=v.recovered,
    )  # fmt: skip


def _nothing_left(branch: str) -> str:
    return (
        f"not pushed: nothing was left to commit after {branch} moved on (the articles were "
        f"published on {branch} meanwhile, or removed, or cannot be edited)"
    )


# ---------------------------------------------------------------------------------- recovery


def recover(
    engine: Engine,
    repo: ContentRepo,
    config: Config,
    *,
    tip: str,
    now: datetime,
    names: Mapping[str, str] | None = None,
) -> list[PostReport]:
    """Settle batches an interrupted run left pending, against the remote at ``tip``.

    A batch whose commit is on the branch is recorded now (its posts published with that
    commit, without a second edit); one that never got there is closed as failed, and its
    posts, still approved, are published by the run that called this.
    """
    reports: list[PostReport] = []
    for batch in publish_log.pending_batches(engine):
        found = git_publish.find_pushed(
            repo, tip, commit=batch.commit_sha, base=batch.base_sha, token=batch.token
        )
        if found is None:
            detail = f"not on {repo.branch} at {tip[:12]}: the run stopped before its push"
            log.warning("publish batch %s: %s; its posts are retried", batch.token, detail)
            publish_log.close_batch(
                engine, token=batch.token, state="failed", detail=detail, at=now
            )
            continue
        paths = git_publish.changed_paths(repo, found)
        statuses = [s for s in states.ALL if s != states.PUBLISHED]
        posts = load_candidates(engine, config, names=names or {}, paths=paths, statuses=statuses)
        cause = f"commit {found[:12]} pushed (recorded after an interrupted run)"
        verdicts = [
            _Verdict(c, PUBLISHED, states.PUBLISHED, cause, found, recovered=True) for c in posts
        ]
        message = git_publish.read_message(repo, found)
        if publish_log.record(
            engine, changes=[v.change() for v in verdicts], commit=found, message=message,
            article_count=len(paths), token=batch.token, now=now,
        ):  # fmt: skip
            log.warning(
                "publish batch %s was pushed as %s by an interrupted run: recorded %d post(s)",
                batch.token, found[:12], len(verdicts),
            )  # fmt: skip
            reports += [_report(v, config) for v in verdicts]
    return reports
