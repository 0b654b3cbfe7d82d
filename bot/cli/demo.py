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

from bot.cli.terminal import RULE, render_blocks
from bot.config import Config, load_config
from bot.rules import states
from bot.rules.digest_query import DigestQuery, parse_digest_query
from bot.runtime import build_runtime
from bot.slack import daily_post
from bot.slack.digest import answer_digest
from bot.slack.summary import build_summary, summary_message
from storage import articles, posts, publish_log
from storage.articles import scan_problems
from storage.db import reading, transaction
from storage.git_command import run_git
from storage.scan import ScanResult, scan
from storage.votes import record_reaction, set_status

EDITORS = ("UDEMOANNA", "UDEMOBEN")
CHANNEL = "CDEMO"
AUTHOR = ("-c", "user.name=Curator Demo", "-c", "user.email=demo@example.org")


@dataclass(frozen=True)
class Story:
    """A generated article; ``role`` is the part it plays in the replayed days."""

    slug: str
    title: str
    excerpt: str
    topics: tuple[str, ...]
    quality: int
    heat: int
    provider: tuple[str, str]
    hours_old: int
    related: int = 1
    role: str = "candidate"  # candidate | live | waiting | approved | rejected | published


STORIES = (
    Story("city-ai-procurement", "Cities write the first rules for buying AI systems",
          "Procurement officers in 14 cities agreed on shared clauses for auditing algorithms "
          "before contracts are signed.", ("AI", "Procurement"), 91, 12,
          ("Route Fifty", "route-fifty.com"), 5, related=3),
    Story("heat-pumps-public-housing", "Heat pumps cut public housing bills by a third",
          "A two-winter pilot in 1,200 flats shows savings that survive the spring price rise.",
          ("Climate", "Housing", "Energy"), 86, 30, ("The Guardian", "theguardian.com"), 9,
          related=2),
    Story("transit-fare-capping", "Transit agencies move to fare capping & tap-to-pay",
          "Riders stop paying once a weekly cap is reached; three agencies report fewer "
          "disputes and faster boarding.", ("Transportation", "Cities"), 78, 4,
          ("StateScoop", "statescoop.com"), 20),
    Story("hospital-ransomware-drill", "Hospitals rehearse a week without computers",
          "After last year's ransomware wave, regional hospitals run paper-only drills to keep "
          "emergency rooms open.", ("Cybersecurity", "Public Health"), 74, 18,
          ("Government Technology", "govtech.com"), 27, related=2),
    Story("ai-model-weather", "An AI weather model beats the old forecasts on floods",
          "National forecasters published a year of side-by-side results for river floods.",
          ("AI", "Climate"), 69, 25, ("Ars Technica", "arstechnica.com"), 33),
    Story("election-audit-open-data", "Counties publish ballot audit data as open data",
          "Risk-limiting audit results are now downloadable <CSV> files in four states.",
          ("Elections", "Open Data"), 58, 2, ("Nextgov", "nextgov.com"), 41, related=0),
    Story("school-broadband-map", "A broadband map shows which students still study offline",
          "The map joins school surveys with provider filings, street by street.",
          ("Broadband", "Education"), 44, -3, ("Smart Cities Dive", "smartcitiesdive.com"), 50),
    Story("drone-delivery-noise", "Residents measure drone delivery noise themselves",
          "A neighbourhood group logged 3,000 flights with phone microphones.",
          ("Drones", "Cities"), 31, 7, ("KRDO", "krdo.com"), 60, related=0),
    Story("police-face-search-audit", "Auditors count every police face search for a year",
          "The watchdog found 40% of searches lacked a recorded case number.",
          ("AI", "Policing", "Privacy"), 83, 40, ("Reuters", "reuters.com"), 30,
          role="approved"),
    Story("smart-meter-privacy", "Smart meters tell more about homes than utilities admit",
          "Researchers inferred occupancy and appliance use from 15-minute readings.",
          ("Privacy", "Energy"), 37, -8, ("Wired", "wired.com"), 34, role="rejected"),
    Story("open-source-city-apps", "Three cities share one open-source permit app",
          "Code, hosting costs and the bug tracker are shared between the cities.",
          ("Open Source", "Cities"), 72, 9, ("Le Monde", "lemonde.fr"), 52, role="published"),
    Story("budget-dashboard", "A budget dashboard residents actually use",
          "Page views tripled after the city dropped PDFs for searchable tables.",
          ("Budget", "Open Data"), 63, 1, ("BBC News", "bbc.co.uk"), 58, role="waiting"),
    Story("biometric-airport-gates", "Airports expand face-scan boarding gates",
          "Two more terminals adopt biometric gates; opt-out lanes stay open.",
          ("Biometrics", "Privacy"), 88, 35, ("The Verge", "theverge.com"), 80, role="live"),
    Story("wildfire-sensors", "Wildfire sensors on power poles go county-wide",
          "The utility reports detections 20 minutes before the first call to 911.",
          ("Climate", "Disaster Response"), 80, 22, ("Seattle Times", "seattletimes.com"), 90,
          role="live"),
)  # fmt: skip

# Awaiting votes since yesterday; modelled on the newsroom's shared sample
# (shared/samples/nlc-facial-recognition.md) but generated, not copied: the file lies outside
# the repo and holds other publishers' text, and an installed demo reads nothing beyond its own
# folder, so every user sees the same demo.
SAMPLE = Story(
    "nlc-facial-recognition",
    "What cities must do to responsibly deploy facial recognition solutions",
    "The National League of Cities has published recommendations for guiding "
    "conversations around how facial recognition technology is being implemented.",
    ("Computer Vision", "AI"), 39, -1, ("GCN", "gcn.com"), 48, related=3,
)  # fmt: skip
SAMPLE_NAME = f"{SAMPLE.slug}.md"

BROKEN = """---
title: "A draft the collector cut short
quality: 40
published: false
---
"""


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
    _write_articles(newsroom / "articles", now)
    git = ["-C", str(newsroom)]
    run_git(["init", "--quiet", "--initial-branch=main", str(newsroom)])
    run_git([*git, "add", "-A"])
    run_git([*git, *AUTHOR, "commit", "--quiet", "-m", "Collector: new articles"])
    # The bot published one article yesterday: the same byte-minimal flip it makes.
    story = next(s for s in STORIES if s.role == "published")
    path = newsroom / "articles" / f"{story.slug}.md"
    path.write_text(_markdown(story, now).replace("published: false", "published: true", 1))
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
        'slack:\n  channel: "#curation"\n'
        f"  editors: [{', '.join(EDITORS)}]\n"
        "candidates:\n  per_day: 5\n"
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


def _write_articles(folder: Path, now: datetime) -> None:
    """The generated stories, the sample-shaped one among them, and a broken draft."""
    for story in (SAMPLE, *STORIES):
        (folder / f"{story.slug}.md").write_text(_markdown(story, now), encoding="utf-8")
    (folder / "broken-draft.md").write_text(BROKEN, encoding="utf-8")


def _markdown(story: Story, now: datetime) -> str:
    """Frontmatter shaped like the shared sample."""
    name, domain = story.provider
    dated = now - timedelta(hours=story.hours_old)
    url = f"https://www.{domain}/{dated:%Y/%m}/{story.slug}"
    lines = [
        "---",
        "category: news",
        f"title: {json.dumps(story.title)}",
        f"excerpt: {json.dumps(story.excerpt)}",
        f"publishedDateTime: {dated:%Y-%m-%dT%H:%M:00Z}",
        f'webUrl: "{url}"',
        "type: article",
        f"quality: {story.quality}",
        f"heat: {story.heat}",
        f"published: {'true' if story.role == 'live' else 'false'}",
        "",
        "provider:",
        f"  name: {name}",
        f"  domain: {domain}",
        "",
        "topics:",
        *[f"  - {t}" for t in story.topics],
        "",
        "images:",
        f'  - url: "https://cdn.{domain}/media/{story.slug}.jpg"',
        "    width: 1200",
        "    height: 630",
        "",
        "related:" if story.related else "related: []",
    ]
    topic = story.topics[0]
    headlines = (f"Background: {topic} explained", f"Opinion: what {topic} means for cities",
                 f"Timeline: {topic} since 2020")  # fmt: skip
    for i in range(story.related):
        other, other_domain = ("Reuters", "reuters.com") if i % 2 else ("Wired", "wired.com")
        lines += [
            f"  - title: {json.dumps(headlines[i % 3])}",
            f'    webUrl: "https://www.{other_domain}/{story.slug}-{i + 1}"',
            "    provider:",
            f"      name: {other}",
            f"      domain: {other_domain}",
            f"    quality: {max(10, story.quality - 7 * (i + 1))}",
        ]
    lines += ["---", "", f"{story.excerpt}", ""]
    return "\n".join(lines)


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

    with transaction(engine) as conn:
        publish_log.add_commit(conn, sha=sha, article_count=1, message=message, pushed_at=at(1, 15))
        for n, (path, posted, votes, status, changed) in enumerate(plan, 1):
            ts = f"{int(posted.timestamp()) + n}.000100"
            permalink = f"https://newsroom.slack.com/archives/{CHANNEL}/p{ts.replace('.', '')}"
            post_id = posts.add_post(
                conn, article_id=ids[path], channel=CHANNEL, desk=CHANNEL,
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

    cards = daily_post.dry_run(demo.engine, config, now)
    title(f"Today's candidate cards: what the bot posts to {config.slack.channel} ({len(cards)})")
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
    for text in ("", 'topic:AI "police"'):
        query: DigestQuery = parse_digest_query(text, now, config.zone)
        title(f"{command} {text}".rstrip() + "   (answered privately to the editor who asks)")
        _, blocks = answer_digest(demo.engine, config, query, now=now)
        out.append(render_blocks(blocks, color=color, spaced=True))

    title(f"Morning summary: posted to {config.slack.channel} once a day")
    with reading(demo.engine) as conn:
        summary = build_summary(conn, config, since=demo.last_summary, now=now)
    out.append(render_blocks(summary_message(summary, config)[1], color=color, spaced=True))

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
