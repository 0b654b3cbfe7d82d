"""The validated settings the bot runs on: frozen objects, built by the loader."""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType

from bot.rules.reminders import QuietHours
from storage.fields import FieldMap


@dataclass(frozen=True, kw_only=True)
class ContentConfig:
    """Where the articles live and how the bot commits to them.

    ``checkout`` is the bot's private clone: it is hard-reset before every publish, so nobody
    should work in it. ``set_on_publish`` maps extra frontmatter keys to value templates (e.g.
    ``"{approvers}"``) that the publisher fills in; it is read-only and left out of the hash.
    """

    remote: str
    checkout: Path
    branch: str = "main"
    include: tuple[str, ...] = ("**/*.md",)
    exclude: tuple[str, ...] = ()
    author_name: str = "Newsroom Curator"
    author_email: str = "curator@localhost"
    commit_url: str | None = None
    set_on_publish: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )

    def commit_link(self, sha: str) -> str | None:
        """The web link for a commit, or None when no ``commit_url`` is configured."""
        return None if self.commit_url is None else self.commit_url.format(sha=sha)


@dataclass(frozen=True, kw_only=True)
class SlackConfig:
    """Where candidates are posted and whose reactions count as votes.

    Votes count from ``editors`` (user IDs) and from members of ``editor_group`` (a user group
    ID); with neither, nobody's votes count (``Config.warnings`` says so).
    """

    channel: str
    editors: tuple[str, ...] = ()
    editor_group: str | None = None
    command: str = "/digest"
    # Where the newsroom's summary (every desk, grouped) goes; None: only each desk's own.
    summary_channel: str | None = None


REVOTE_DEFAULT = ("title", "excerpt", "url", "body")


@dataclass(frozen=True, kw_only=True)
class VotesConfig:
    """Which reactions are votes, and how many decide a candidate.

    Emoji names are stored without colons, as Slack's reaction events spell them; the two sets
    never overlap, so one reaction can never mean both. ``remind_before``: how long before a
    card closes its editors who have not voted get a DM (None: never); never inside
    ``quiet_hours`` (local time in the config's time zone; None: any time).
    """

    publish: tuple[str, ...] = ("white_check_mark",)
    reject: tuple[str, ...] = ("x",)
    quorum: int = 2
    window_days: int = 3
    # What, changed in an article after the votes on its card, sends it back to a vote
    # (names from fields: and body; storage.fingerprint).
    revote_on: tuple[str, ...] = REVOTE_DEFAULT
    remind_before: timedelta | None = timedelta(hours=24)
    quiet_hours: QuietHours | None = None


@dataclass(frozen=True, kw_only=True)
class CandidatesConfig:
    """Which articles are offered each day (the rule is ``bot.rules.candidates``); ``topics`` empty
    means every topic, ``min_quality`` None no minimum. An article without a quality score
    is offered (after every scored one) unless ``require_score``."""

    per_day: int = 10
    min_quality: float | None = None
    require_score: bool = False
    max_age_days: int = 7
    topics: tuple[str, ...] = ()


JOBS = ("refresh", "post", "publish", "summary", "reconcile", "expire", "remind")
DEFAULT_GRACE = {
    "refresh": 10,
    "post": 180,
    "publish": 45,
    "summary": 180,
    "reconcile": 5,
    "expire": 720,
    "remind": 10,
}


@dataclass(frozen=True, kw_only=True)
class ScheduleConfig:
    """Five-field crontab lines per job, in the configured time zone; None disables a job.

    Weekday numbers follow crontab (0 and 7 are Sunday): the loader stores each line as
    :func:`bot.rules.schedule.crontab_line` writes it (``1-5`` -> ``mon-fri``), and every next
    run comes from :func:`bot.rules.schedule.next_run`.
    """

    refresh: str | None = "*/15 * * * *"
    post: str | None = "0 9 * * mon-fri"
    publish: str | None = "0 * * * *"
    summary: str | None = "30 8 * * *"
    reconcile: str | None = "*/10 * * * *"
    expire: str | None = "5 0 * * *"
    remind: str | None = "*/15 * * * *"
    # How late a slot missed while the bot was down may still run, in minutes: the day's
    # post at 09:30 after a 09:00 outage is useful, at 17:00 it is noise.
    grace: Mapping[str, int] = field(
        default_factory=lambda: MappingProxyType(dict(DEFAULT_GRACE)), hash=False
    )
    # With several replicas, the one holding the lease runs the jobs; others take over
    # within this many seconds after it stops renewing.
    lease_seconds: int = 60

    def enabled(self) -> dict[str, str]:
        """Job name -> crontab line for every job that is not switched off, in job order."""
        return {name: getattr(self, name) for name in JOBS if getattr(self, name) is not None}

    def grace_minutes(self, job: str) -> int:
        return self.grace.get(job, DEFAULT_GRACE[job])


DEFAULT_POST = "0 9 * * mon-fri"
DESK_NAME_MAX = 23  # "summary:<name>" keys the desk's summary slot in job_run (32 characters)


@dataclass(frozen=True, kw_only=True)
class Desk:
    """One desk: its channel, the topics it takes, who votes there and by which rules.

    ``topics`` empty makes it the catch-all desk (it takes what no desk before it took).
    ``implicit``: the one desk of a config without ``desks:``, built from ``slack:``,
    ``votes:``, ``candidates:`` and ``schedule.post``; its posting job keeps the name "post".
    """

    name: str
    channel: str
    topics: tuple[str, ...] = ()
    editors: tuple[str, ...] = ()
    editor_group: str | None = None
    votes: VotesConfig = field(default_factory=VotesConfig)
    candidates: CandidatesConfig = field(default_factory=CandidatesConfig)
    post: str | None = DEFAULT_POST
    implicit: bool = False

    def job(self, kind: str) -> str:
        """The name this desk's ``kind`` of job ("post", "summary") claims its slots under in
        ``job_run.job``: ``post:AI``, or ``post`` for the one desk of a config without desks."""
        return kind if self.implicit else f"{kind}:{self.name}"


def implicit_desk(slack: SlackConfig, votes: VotesConfig, candidates: CandidatesConfig,
                  post: str | None) -> Desk:  # fmt: skip
    """The one desk of a config without ``desks:``, named after its channel."""
    return Desk(
        name=slack.channel.lstrip("#")[:DESK_NAME_MAX], channel=slack.channel,
        editors=slack.editors, editor_group=slack.editor_group, votes=votes,
        candidates=candidates, post=post, implicit=True,
    )  # fmt: skip


@dataclass(frozen=True)
class ScheduledJob:
    """One job on the schedule: its name in ``job_run`` (``post:AI``), which kind of job it is
    (one of ``JOBS``), its crontab line, and the desk it works for (None: every desk; for a
    summary, the newsroom's)."""

    name: str
    kind: str
    cron: str
    desk: Desk | None = None


@dataclass(frozen=True, kw_only=True)
class Config:
    """Everything the bot needs that is not a secret, validated.

    Build it with :func:`load_config` or :func:`config_from_mapping`; constructing it directly
    skips validation (handy in tests). ``warnings`` lists legal but probably unintended choices.
    """

    path: Path | None = None
    timezone: str = "UTC"
    content: ContentConfig
    slack: SlackConfig
    votes: VotesConfig = field(default_factory=VotesConfig)
    candidates: CandidatesConfig = field(default_factory=CandidatesConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    fields: FieldMap = field(default_factory=FieldMap)
    database_url: str
    # In config order; never empty: a config without ``desks:`` has its one implicit desk.
    desks: tuple[Desk, ...] = ()
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Built directly (tests), from a file without desks:, or replaced from such a config
        # (dataclasses.replace): the one desk follows slack:, votes:, candidates: and post.
        # Desks of a desks: list were worked out by the loader and stay as they are: replace
        # them too when replacing the shared sections of such a config.
        if not self.desks or self.desks[0].implicit:
            desk = implicit_desk(self.slack, self.votes, self.candidates, self.schedule.post)
            object.__setattr__(self, "desks", (desk,))

    @property
    def default_desk(self) -> Desk:
        """Where a card of no known desk belongs (cards from before desks, a removed desk):
        the catch-all desk, else the first."""
        return next((d for d in self.desks if not d.topics), self.desks[0])

    def desk(self, name: str | None) -> Desk:
        """The desk of that name (any case); an unknown name or None is the default desk."""
        found = self.find_desk(name) if name is not None else None
        return found or self.default_desk

    def find_desk(self, name: str) -> Desk | None:
        """The desk of that name (any case), or None."""
        key = name.strip().casefold()
        return next((d for d in self.desks if d.name.casefold() == key), None)

    def scheduled_jobs(self) -> list[ScheduledJob]:
        """Every enabled job in job order; posting and summaries once per desk (each desk's
        slot claimed on its own), and the newsroom's summary when it has a channel."""
        jobs = []
        enabled = self.schedule.enabled()
        for kind in JOBS:
            cron = enabled.get(kind)
            if kind == "post":  # each desk's own line (schedule.post is only their default)
                jobs += [ScheduledJob(d.job(kind), kind, d.post, d) for d in self.desks if d.post]
            elif cron is None:
                continue
            elif kind == "summary":
                jobs += [ScheduledJob(d.job(kind), kind, cron, d) for d in self.desks]
                if self.slack.summary_channel is not None:
                    jobs.append(ScheduledJob("summary:all", kind, cron))
            else:
                jobs.append(ScheduledJob(kind, kind, cron))
        return jobs

    def desk_in(self, channel: str) -> Desk | None:
        """The desk whose channel this is (an ID or a ``#name`` as the config wrote it)."""
        return next((d for d in self.desks if d.channel == channel), None)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The time zone as a tzinfo, for the scheduler and for "today"."""
        return zoneinfo.ZoneInfo(self.timezone)
