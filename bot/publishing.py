"""The publish job: approved posts become one commit on the content repo; the database follows.

Nothing lost, nothing twice, even when the job is killed at any point:

1. Right before each push, a ``PublishBatch`` row (state "pending") records the commit, the
   tip it was built on and the batch token that the commit carries as a ``Curator-Batch:``
   trailer.
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
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.engine import Engine

from bot.config import Config
from bot.house_rules import vote_rules
from bot.rules.tally import VoteRules, tally
from storage import publish as git_publish
from storage.commit_text import one_line
from storage.controls import escape_controls
from storage.digest_queries import reactions_for
from storage.gitrepo import ContentRepo
from storage.locks import run_lock
from storage.models import (
    Article,
    Decision,
    Post,
    PostStatus,
    PublishBatch,
    PublishCommit,
    PublishHold,
)
from storage.publish import ArticleResult, Author, Edit, Outcome, PushRejected

log = logging.getLogger(__name__)

ARTICLE = Article.__table__
POST = Post.__table__
DECISION = Decision.__table__
BATCH = PublishBatch.__table__
HOLD = PublishHold.__table__
COMMIT = PublishCommit.__table__

#: Placeholders ``content.set_on_publish`` templates may use.
TEMPLATE_FIELDS = ("approvers", "approver_ids", "date", "datetime", "permalink", "channel")

# What the report calls each outcome; "published" means this job's commit did it.
PUBLISHED, ALREADY, MISSING, REFUSED = "published", "already", "missing", "refused"
_REPORTED = {
    Outcome.EDITED: PUBLISHED,
    Outcome.ALREADY: ALREADY,
    Outcome.MISSING: MISSING,
    Outcome.REFUSED: REFUSED,
}
_CHUNK = 500  # bound-parameter limits
#: How long a publish waits for another one to finish before it says so and stops.
PUBLISH_WAIT = 10.0


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

    @property
    def short_sha(self) -> str | None:
        return self.commit_sha[:7] if self.commit_sha else None


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


@dataclass(frozen=True)
class _Candidate:
    """An approved (or blocked) post with what the commit and the report need."""

    post_id: int
    article_id: int
    path: str
    title: str | None
    channel: str
    ts: str | None
    permalink: str | None
    status: str
    held: bool = False
    hold_blob: str | None = None
    approvers: tuple[tuple[str, str], ...] = field(default=())  # (user id, display name)


@dataclass(frozen=True)
class _Verdict:
    """The database change for one post: its new state and the decision's cause."""

    candidate: _Candidate
    outcome: str
    status: str
    cause: str
    commit_sha: str | None = None
    reason: str | None = None
    hold_blob: str | None = None
    recovered: bool = False


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
    todo = _due(engine, repo, tip, names, vote_rules(config))
    if not todo:
        return PublishReport(dry_run, tuple(recovered))
    by_path = {c.path: c for c in todo}
    token = uuid.uuid4().hex
    edits = [Edit(c.path, set_on_publish(config, c, now)) for c in todo]

    def message(results: Sequence[ArticleResult]) -> str:
        edited = [by_path[r.path] for r in results if r.outcome is Outcome.EDITED]
        return commit_message(edited, token)

    def before_push(commit: str, base: str) -> None:
        _write_ahead(engine, token=token, commit=commit, base=base, now=now)

    try:
        result = git_publish.publish(
            repo, edits, fields=config.fields, author=_author(config), message=message,
            tip=tip, dry_run=dry_run, attempts=attempts, backoff=backoff,
            before_push=None if dry_run else before_push,
        )  # fmt: skip
    except PushRejected as exc:
        # Definitely not on the remote: close the batch, the posts stay approved.
        _close_batch(engine, token, "failed", str(exc), now)
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
        _record(
            engine, verdicts, commit=result.commit, message=result.message, article_count=edited,
            token=token, now=now, unpushed=unpushed,
        )  # fmt: skip
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


def _author(config: Config) -> Author:
    return Author(config.content.author_name, config.content.author_email)


# ------------------------------------------------------------------------------ what is due


def _due(
    engine: Engine, repo: ContentRepo, tip: str, names: Mapping[str, str], rules: VoteRules
) -> list[_Candidate]:
    """Approved posts, plus blocked ones whose file changed since it was refused."""
    candidates = load_candidates(engine, names=names, rules=rules)
    blocked = [c for c in candidates if c.status == PostStatus.BLOCKED]
    now_at = git_publish.tree_entries(repo, tip, [c.path for c in blocked])
    return [
        c
        for c in candidates
        if c.status != PostStatus.BLOCKED
        or not c.held
        or (now_at[c.path][1] if c.path in now_at else None) != c.hold_blob
    ]


def load_candidates(
    engine: Engine,
    *,
    names: Mapping[str, str],
    rules: VoteRules,
    paths: Sequence[str] | None = None,
    statuses: Iterable[str] = (PostStatus.APPROVED, PostStatus.BLOCKED),
) -> list[_Candidate]:
    """Posts in ``statuses`` (optionally only those at ``paths``), by path, with approvers."""
    query = (
        select(
            POST.c.id, POST.c.article_id, POST.c.channel, POST.c.ts, POST.c.permalink,
            POST.c.status, ARTICLE.c.path, ARTICLE.c.title,
            HOLD.c.post_id.label("held"), HOLD.c.blob_sha.label("hold_blob"),
        )
        .join(ARTICLE, ARTICLE.c.id == POST.c.article_id)
        .outerjoin(HOLD, HOLD.c.post_id == POST.c.id)
        .where(POST.c.status.in_([str(s) for s in statuses]))
    )  # fmt: skip
    with engine.connect() as conn:
        if paths is None:
            rows = list(conn.execute(query))
        else:
            rows = []
            for i in range(0, len(paths), _CHUNK):
                chunk = list(paths[i : i + _CHUNK])
                rows.extend(conn.execute(query.where(ARTICLE.c.path.in_(chunk))))
        approvers = _approvers(conn, [r.id for r in rows], rules)
    out = [
        _Candidate(
            post_id=r.id,
            article_id=r.article_id,
            path=r.path,
            title=r.title,
            channel=r.channel,
            ts=r.ts,
            permalink=r.permalink,
            status=r.status,
            held=r.held is not None,
            hold_blob=r.hold_blob,
            approvers=tuple((u, _display(names.get(u), u)) for u in approvers.get(r.id, ())),
        )
        for r in rows
    ]
    return sorted(out, key=lambda c: c.path)


def _approvers(
    conn: Connection, post_ids: Sequence[int], rules: VoteRules
) -> dict[int, tuple[str, ...]]:
    """Per post, the editors whose current vote is "publish", as the card counts them."""
    return {pid: tally(r, rules).publish for pid, r in reactions_for(conn, post_ids).items()}


def _display(name: str | None, user_id: str) -> str:
    """A name safe in a trailer: one line, no angle brackets, no control characters; the
    user id when empty."""
    return one_line((name or "").replace("<", "").replace(">", "")) or one_line(user_id)


# ---------------------------------------------------------------------- message + templates


def commit_message(posts: Sequence[_Candidate], token: str) -> str:
    """Subject with the count, a body line per article, and trailers a reviewer can grep:
    ``Approved-by: Name <U123>`` per editor, ``Slack-Thread: <permalink>`` per post, and the
    ``Curator-Batch:`` token that lets an interrupted run be finished.

    Paths, titles, names and links are escaped (storage/commit_text.py): a newline in any
    of them must never start a line, such as a forged ``Approved-by:``.
    """
    n = len(posts)
    lines = [f"Publish {n} article{'' if n == 1 else 's'} approved in Slack", ""]
    for c in posts:
        title, path = one_line(c.title or "")[:120], escape_controls(c.path)
        lines.append(f"- {title}" if title else f"- {path}")
        if title:
            lines.append(f"  {path}")
        if c.approvers:
            lines.append(f"  approved by {', '.join(name for _, name in c.approvers)}")
    lines.append("")
    seen: set[str] = set()
    for c in posts:
        for user, name in c.approvers:
            if user not in seen:
                seen.add(user)
                lines.append(f"Approved-by: {name} <{one_line(user)}>")
    lines += [f"Slack-Thread: {one_line(c.permalink)}" for c in posts if c.permalink]
    lines.append(f"{git_publish.BATCH_TRAILER}: {token}")
    return "\n".join(lines) + "\n"


def check_templates(templates: Mapping[str, str]) -> None:
    """Raise ValueError naming the key when a set_on_publish template cannot be filled."""
    sample = dict.fromkeys(TEMPLATE_FIELDS, "")
    known = ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS)
    for key, template in templates.items():
        try:
            template.format_map(sample)
        except KeyError as exc:
            problem = f"unknown placeholder {{{exc.args[0]}}}"
        except (ValueError, AttributeError, IndexError) as exc:
            problem = str(exc)
        else:
            continue
        raise ValueError(
            f"content.set_on_publish.{key}: cannot fill {template!r}: {problem}; "
            f"the placeholders are {known}"
        )


def set_on_publish(config: Config, post: _Candidate, now: datetime) -> dict[str, str]:
    """The extra frontmatter keys of one article, from the config's templates."""
    templates = config.content.set_on_publish
    if not templates:
        return {}
    local = now.astimezone(config.zone)
    values = {
        "approvers": ", ".join(name for _, name in post.approvers),
        "approver_ids": ", ".join(user for user, _ in post.approvers),
        "date": local.date().isoformat(),
        "datetime": local.isoformat(timespec="seconds"),
        "permalink": post.permalink or "",
        "channel": post.channel,
    }
    return {key: template.format_map(values) for key, template in templates.items()}


# -------------------------------------------------------------------------- verdict + record


def _verdict(
    c: _Candidate,
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
        return _Verdict(c, PUBLISHED, PostStatus.PUBLISHED, cause, commit)
    if r.outcome is Outcome.ALREADY:
        found = git_publish.find_publisher(repo, tip, c.path, config.fields)
        if found is None:
            return _Verdict(c, ALREADY, PostStatus.PUBLISHED, f"already published on {branch}")
        sha, who = found
        cause = f"already published on {branch} by {who or 'someone'} in commit {sha[:12]}"
        return _Verdict(c, ALREADY, PostStatus.PUBLISHED, cause, sha)
    if r.outcome is Outcome.MISSING:
        reason = f"{c.path} is not on {branch} (at {tip[:12]})"
        return _Verdict(c, MISSING, PostStatus.BLOCKED, f"missing: {reason}", reason=reason)
    reason = r.reason or "cannot be edited"
    return _Verdict(
        c, REFUSED, PostStatus.BLOCKED, f"refused: {reason}", reason=reason, hold_blob=r.old_blob
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


def _write_ahead(engine: Engine, *, token: str, commit: str, base: str, now: datetime) -> None:
    """Record, durably and before the push, the commit the batch is about to push."""
    with engine.begin() as conn:
        moved = conn.execute(
            update(BATCH).where(BATCH.c.token == token).values(commit_sha=commit, base_sha=base)
        )
        if moved.rowcount == 0:
            conn.execute(
                insert(BATCH).values(
                    token=token, state="pending", commit_sha=commit, base_sha=base, created_at=now
                )
            )


def _close_batch(engine: Engine, token: str, state: str, detail: str | None, at: datetime) -> None:
    """Close a batch still pending; one another run recorded meanwhile stays as it is."""
    with engine.begin() as conn:
        conn.execute(
            update(BATCH)
            .where(BATCH.c.token == token, BATCH.c.state == "pending")
            .values(state=state, detail=detail, finished_at=at)
        )


def _nothing_left(branch: str) -> str:
    return (
        f"not pushed: nothing was left to commit after {branch} moved on (the articles were "
        f"published on {branch} meanwhile, or removed, or cannot be edited)"
    )


def _record(
    engine: Engine,
    verdicts: Sequence[_Verdict],
    *,
    commit: str | None,
    message: str,
    article_count: int,
    token: str | None,
    now: datetime,
    unpushed: str | None = None,
) -> bool:
    """One transaction: the pushed commit, its batch closed, every post's new state.

    The batch moves to "pushed" only from another state, and everything else is written in
    the same transaction: so a batch is recorded once, whoever gets there first, and the
    one that comes second writes nothing and gets False. ``unpushed`` closes a batch this
    run wrote for a commit it never pushed (the detail says why).
    """
    with engine.begin() as conn:
        if token is not None and commit is not None:
            closed = conn.execute(
                update(BATCH)
                .where(BATCH.c.token == token, BATCH.c.state != "pushed")
                .values(state="pushed", commit_sha=commit, finished_at=now)
            )
            if closed.rowcount == 0:
                log.info("publish batch %s was recorded by another run", token)
                return False
        elif token is not None and unpushed is not None:
            conn.execute(
                update(BATCH)
                .where(BATCH.c.token == token, BATCH.c.state == "pending")
                .values(state="failed", detail=unpushed, finished_at=now)
            )
        if commit is not None:
            known = conn.execute(select(COMMIT.c.id).where(COMMIT.c.sha == commit)).first()
            if known is None:
                conn.execute(
                    insert(COMMIT).values(
                        sha=commit, article_count=article_count, message=message, pushed_at=now
                    )
                )
        done = [v for v in verdicts if v.status == PostStatus.PUBLISHED]
        blocked = [v for v in verdicts if v.status == PostStatus.BLOCKED]
        _mark_published(conn, done, now)
        _mark_blocked(conn, blocked, now)
    return True


def _mark_published(conn: Connection, verdicts: Sequence[_Verdict], now: datetime) -> None:
    if not verdicts:
        return
    # The remote is the truth: a post the commit published is published, whatever the votes
    # did meanwhile; only a post already recorded as published is left as it is, and gets
    # no second decision (another run may have recorded it a moment ago).
    by_sha: dict[str | None, list[int]] = {}
    for v in verdicts:
        by_sha.setdefault(v.commit_sha, []).append(v.candidate.post_id)
    changed: set[int] = set()
    for sha, ids in by_sha.items():
        for i in range(0, len(ids), _CHUNK):
            stmt = (
                update(POST)
                .where(POST.c.id.in_(ids[i : i + _CHUNK]), POST.c.status != PostStatus.PUBLISHED)
                .values(status=PostStatus.PUBLISHED, commit_sha=sha, status_changed_at=now)
                .returning(POST.c.id)
            )
            changed.update(conn.execute(stmt).scalars())
    verdicts = [v for v in verdicts if v.candidate.post_id in changed]
    if not verdicts:
        return
    _decide(conn, verdicts, now)
    conn.execute(
        update(ARTICLE).where(ARTICLE.c.id == bindparam("b_id")).values(published=True),
        [{"b_id": v.candidate.article_id} for v in verdicts],
    )
    _clear_holds(conn, [v.candidate.post_id for v in verdicts])


def _mark_blocked(conn: Connection, verdicts: Sequence[_Verdict], now: datetime) -> None:
    block = (
        update(POST)
        .where(
            POST.c.id == bindparam("b_id"),
            POST.c.status.in_([PostStatus.APPROVED, PostStatus.BLOCKED]),
        )
        .values(status=PostStatus.BLOCKED, status_changed_at=now)
    )
    # Only posts still approved: a vote may have moved one while the push ran, and then
    # neither a decision nor a hold belongs to it.
    verdicts = [
        v for v in verdicts if conn.execute(block, {"b_id": v.candidate.post_id}).rowcount == 1
    ]
    if not verdicts:
        return
    _decide(conn, verdicts, now)
    _clear_holds(conn, [v.candidate.post_id for v in verdicts])
    conn.execute(
        insert(HOLD),
        [
            {"post_id": v.candidate.post_id, "blob_sha": v.hold_blob, "reason": v.cause, "at": now}
            for v in verdicts
        ],
    )


def _decide(conn: Connection, verdicts: Sequence[_Verdict], now: datetime) -> None:
    conn.execute(
        insert(DECISION),
        [
            {
                "post_id": v.candidate.post_id,
                "from_status": v.candidate.status,
                "to_status": v.status,
                "cause": v.cause,
                "at": now,
            }
            for v in verdicts
        ],
    )


def _clear_holds(conn: Connection, post_ids: Sequence[int]) -> None:
    for i in range(0, len(post_ids), _CHUNK):
        conn.execute(delete(HOLD).where(HOLD.c.post_id.in_(post_ids[i : i + _CHUNK])))


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
    with engine.connect() as conn:
        pending = list(
            conn.execute(select(BATCH).where(BATCH.c.state == "pending").order_by(BATCH.c.id))
        )
    reports: list[PostReport] = []
    for batch in pending:
        found = git_publish.find_pushed(
            repo, tip, commit=batch.commit_sha, base=batch.base_sha, token=batch.token
        )
        if found is None:
            detail = f"not on {repo.branch} at {tip[:12]}: the run stopped before its push"
            log.warning("publish batch %s: %s; its posts are retried", batch.token, detail)
            _close_batch(engine, batch.token, "failed", detail, now)
            continue
        paths = git_publish.changed_paths(repo, found)
        statuses = [s for s in PostStatus if s != PostStatus.PUBLISHED]
        posts = load_candidates(
            engine, names=names or {}, rules=vote_rules(config), paths=paths, statuses=statuses
        )
        cause = f"commit {found[:12]} pushed (recorded after an interrupted run)"
        verdicts = [
            _Verdict(c, PUBLISHED, PostStatus.PUBLISHED, cause, found, recovered=True)
            for c in posts
        ]
        message = git_publish.commit_message(repo, found)
        if _record(
            engine, verdicts, commit=found, message=message, article_count=len(paths),
            token=batch.token, now=now,
        ):  # fmt: skip
            log.warning(
                "publish batch %s was pushed as %s by an interrupted run: recorded %d post(s)",
                batch.token, found[:12], len(verdicts),
            )  # fmt: skip
            reports += [_report(v, config) for v in verdicts]
    return reports
