"""``curator demo``: the product on a newcomer's machine, before any Slack app exists.

It builds a small content repo (sixteen generated articles with varied topics, quality and
sources; two already live on the site, one broken), writes a
``curator.yml`` beside it, scans the repo into SQLite, and replays two days of curation
straight into the database (cards posted, editors' votes, one article published by a real
commit). Then it shows, as terminal text, what Slack would show: today's candidate cards, a
``/digest`` answer and the morning summary. No Slack, no network.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

from bot.cli.demo_stories import SAMPLE, SAMPLE_NAME, STORIES, markdown, write_articles
from bot.cli.terminal import RULE, render_blocks
from bot.config import Config, load_config
from bot.house_rules import routes
from bot.rules import states
from bot.rules.desks import desk_for
from bot.rules.digest_query import DigestQuery, parse_digest_query
from bot.runtime import build_runtime
from bot.slack import daily_post
from bot.slack.digest import answer_digest
from bot.slack.summary_post import summary_messages
from storage import articles, posts, publish_log
from storage.articles import scan_problems
from storage.db import reading, transaction
from storage.git_command import run_git
from storage.scan import ScanResult, scan
from storage.votes import record_reaction, set_status

EDITORS = ("UDEMOANNA", "UDEMOBEN")
CHANNELS = {"AI": "CDEMOAI", "General": "CDEMO"}  # each desk's channel, as Slack names it
AUTHOR = ("-c", "user.name=Curator Demo", "-c", "user.email=demo@example.org")


@dataclass
class Demo:
    """What ``build_demo`` made, for the report and for trying commands afterwards."""

    directory: Path
    config: Config
    engine: Engine
    scan: ScanResult
    now: datetime
    last_summary: datetime
    errors: list[tuple[str, str]] = field(default_factory=list)


def build_demo(directory: Path, *, now: datetime) -> Demo:
    """Build the repo, config and database in ``directory`` (empty or absent) and replay."""
    directory = directory.resolve()
    if directory.exists() and any(directory.iterdir()):
        raise FileExistsError(f"{directory} is not empty; give a new or empty directory")
    newsroom = directory / "newsroom"
    (newsroom / "articles").mkdir(parents=True)
    write_articles(newsroom / "articles", now)
    git = ["-C", str(newsroom)]
    run_git(["init", "--quiet", "--initial-branch=main", str(newsroom)])
    run_git([*git, "add", "-A"])
    run_git([*git, *AUTHOR, "commit", "--quiet", "-m", "Collector: new articles"])
    # The bot published one article yesterday: the same byte-minimal flip it makes.
    story = next(s for s in STORIES if s.role == "published")
    path = newsroom / "articles" / f"{story.slug}.md"
    path.write_text(markdown(story, now).replace("published: false", "published: true", 1))
    run_git([*git, "add", "-A"])
    message = "Publish 1 article\n\nApproved-by: Anna, Ben"
    run_git([*git, *AUTHOR, "commit", "--quiet", "-m", message])
    sha = run_git([*git, "rev-parse", "HEAD"]).decode().strip()

    config_path = directory / "curator.yml"
    config_path.write_text(
        "# Written by `curator demo`: a local content repo, SQLite beside this file.\n"
        f"# Try: {curator_command()} -c {shlex.quote(str(config_path))} digest 'topic:AI'\n"
        "timezone: UTC\n"
        f"content:\n  remote: {json.dumps(str(newsroom))}\n"
        'slack:\n  channel: "#curation"\n  summary_channel: "#newsroom"\n'
        f"  editors: [{', '.join(EDITORS)}]\n"
        "candidates:\n  per_day: 5\n"
        "desks:\n"
        '  - name: AI\n    channel: "#ai-desk"\n    topics: [AI, Privacy, Biometrics]\n'
        "    per_day: 3\n"
        '  - name: General\n    channel: "#curation"\n'
        "database: sqlite:///curator.db\n",
        encoding="utf-8",
    )
    # env={}: the demo's database is the SQLite file beside it, whatever DATABASE_URL says.
    config = load_config(config_path, env={})
    rt = build_runtime(config)
    commit = rt.repo.fetch()
    result = scan(rt.engine, rt.repo, config.fields, rt.paths, commit=commit, workers=1)
    last_summary = _replay(rt.engine, config, now, sha, message)
    with reading(rt.engine) as conn:
        errors = list(scan_problems(conn, kind="error"))
    return Demo(directory, config, rt.engine, result, now, last_summary, errors)


def _replay(engine: Engine, config: Config, now: datetime, sha: str, message: str) -> datetime:
    """Two days of curation, straight into the database; returns the last summary's time.

    Yesterday's cards went out at 09:00 and the day before's too; editors voted; the
    publisher pushed one commit. Times are real times before ``now``.
    """
    tz = config.zone
    today = now.astimezone(tz).date()

    def at(days_back: int, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(today - timedelta(days=days_back), time(hour, minute), tz)

    ids = articles.ids_by_path(engine)
    table = routes(config)
    anna, ben, yes = *EDITORS, "white_check_mark"
    # (path, posted, [(editor, emoji, when)], final status, when it got there)
    plan: list[tuple[str, datetime, list[tuple[str, str, datetime]], str, datetime]] = []
    for story in STORIES:
        path = f"articles/{story.slug}.md"
        if story.role == "waiting":
            plan.append((path, at(2, 9), [], states.OPEN, at(2, 9)))
        elif story.role == "approved":
            votes = [(anna, yes, at(1, 10)), (ben, yes, at(1, 13))]
            plan.append((path, at(1, 9), votes, states.APPROVED, at(1, 13)))
        elif story.role == "rejected":
            votes = [(anna, "x", at(1, 9, 40)), (ben, "x", at(1, 11))]
            plan.append((path, at(1, 9), votes, states.REJECTED, at(1, 11)))
        elif story.role == "published":
            votes = [(anna, yes, at(2, 11)), (ben, yes, at(1, 10))]
            plan.append((path, at(2, 9), votes, states.PUBLISHED, at(1, 15)))
    sample_votes = [(ben, yes, at(1, 9, 20))]
    plan.append((f"articles/{SAMPLE_NAME}", at(1, 9), sample_votes, states.OPEN, at(1, 9)))
    topics = {f"articles/{s.slug}.md": s.topics for s in (SAMPLE, *STORIES)}

    with transaction(engine) as conn:
        publish_log.add_commit(conn, sha=sha, article_count=1, message=message, pushed_at=at(1, 15))
        for n, (path, posted, votes, status, changed) in enumerate(plan, 1):
            ts = f"{int(posted.timestamp()) + n}.000100"
            desk = desk_for(topics[path], table) or config.default_desk.name
            channel = CHANNELS[desk]
            permalink = f"https://newsroom.slack.com/archives/{channel}/p{ts.replace('.', '')}"
            post_id = posts.add_post(
                conn, article_id=ids[path], channel=channel, desk=desk,
                day=posted.date().isoformat(), now=posted, ts=ts, permalink=permalink,
            )  # fmt: skip
            set_status(conn, post_id=post_id, old=None, new="open", cause="posted", at=posted)
            for user, emoji, when in votes:
                choice = "publish" if emoji == "white_check_mark" else "reject"
                record_reaction(
                    conn, post_id=post_id, user=user, reaction=emoji, choice=choice,
                    present=True, event_ts=f"{when.timestamp():.6f}",
                )  # fmt: skip
            if status == states.OPEN:
                continue
            voter, voted_at = votes[-1][0], votes[-1][2]
            if status == states.PUBLISHED:
                set_status(
                    conn, post_id=post_id, old="open", new="approved", cause=f"vote by {voter}",
                    at=voted_at,
                )  # fmt: skip
                set_status(
                    conn, post_id=post_id, old="approved", new=status,
                    cause=f"published in {sha[:12]}", at=changed,
                )  # fmt: skip
                posts.set_commit(conn, post_id=post_id, sha=sha)
            else:
                set_status(
                    conn, post_id=post_id, old="open", new=status, cause=f"vote by {voter}",
                    at=changed,
                )  # fmt: skip
    return at(1, 8, 30)  # yesterday's morning summary


def demo_report(demo: Demo, *, color: bool = False) -> str:
    """Everything the demo shows, as terminal text."""
    config, now = demo.config, demo.now
    out: list[str] = []

    def title(text: str) -> None:
        out.extend(["", RULE, text, RULE])

    s = demo.scan
    out.append(f"Built a content repo in {demo.directory / 'newsroom'}")
    database = demo.directory / "curator.db"
    out.append(f"  {s.scanned} articles, scanned into {database}")
    for path, reason in demo.errors:
        out.append(f"  could not read {path}: {reason}  (the scan records it and moves on)")
    out.append("  replayed two days of curation: cards posted, editors' votes, one publish commit")

    for desk in config.desks:
        cards = daily_post.dry_run(demo.engine, config, now, desk)
        title(
            f"Today's candidate cards, {desk.name} desk: what the bot posts to {desk.channel} "
            f"({len(cards)})"
        )
        for i, card in enumerate(cards):
            if i:
                out.append("")
            if "skipped" in card:
                out.append(f"(the card for {card['path']} would be skipped: {card['skipped']})")
            else:
                out.append(render_blocks(card["blocks"], color=color))
        if not cards:
            out.append("(no candidates today)")

    command = config.slack.command
    ai = config.desks[0]
    asked = [("", None, "in a direct message: every desk"),
             ('"police"', ai, f"in {ai.channel}: the {ai.name} desk")]  # fmt: skip
    for text, here, where in asked:
        query: DigestQuery = parse_digest_query(text, now, config.zone)
        title(f"{command} {text}".rstrip() + f"   (asked {where}; answered privately)")
        _, blocks = answer_digest(demo.engine, config, query, now=now, here=here)
        out.append(render_blocks(blocks, color=color, spaced=True))

    for message in summary_messages(demo.engine, config, since=demo.last_summary, now=now):
        title(f"Morning summary: posted to {message.channel} once a day")
        out.append(render_blocks(message.blocks, color=color, spaced=True))

    curator = curator_command()
    if os.environ.get("DATABASE_URL"):
        curator = f"DATABASE_URL= {curator}"  # else it would win over the demo's own database
    cfg = shlex.quote(str(demo.config.path))
    out += [
        "",
        RULE,
        "Try it yourself (no Slack needed):",
        f"  {curator} -c {cfg} candidates",
        f"  {curator} -c {cfg} digest 'status:all since:7d'",
        f"  {curator} -c {cfg} summary --dry-run",
        f"Then create the Slack app: {curator_command()} manifest "
        "(see README.md, 'Create the Slack app').",
    ]
    return "\n".join(out)


def curator_command() -> str:
    """How to run ``curator`` as printed: the bare name when it is on PATH, else the script
    beside this interpreter (a venv's bin/, not on PATH after scripts/test), else -m bot."""
    script = Path(sys.executable).parent / "curator"
    on_path = shutil.which("curator")
    if on_path and script.is_file() and Path(on_path).resolve() == script.resolve():
        return "curator"
    if script.is_file() and os.access(script, os.X_OK):
        return shlex.quote(str(script))
    return f"{shlex.quote(sys.executable)} -m bot"
