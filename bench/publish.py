"""Benchmark publishing approved articles in one commit, beside a shell baseline, in one run.

    python bench/publish.py                      # 1,000 approved in a 20,000-article repo
    python bench/publish.py --n 100000 --approve 5000 --repeat 1

On one generated repo (``bench/articles.py``), each repetition starting from fresh copies:

(a) the bot: ``bot.publishing.job.publish_approved`` end to end: read the approved posts and
    their votes from SQLite, fetch, read and re-check every article at the tip, edit each
    with ``set_keys``, write the blobs, build the commit on a temporary index, push to a
    bare remote, then record posts, decisions and the commit in the database;
(b) the baseline: in a working-tree clone, one ``sed -i`` over the same files, then
    ``git commit -a`` and ``git push`` to its own bare remote (both sides include a push).

Only those calls are timed; generating, scanning, cloning and copying are not. A breakdown of
(a) by step follows, from wrapping the storage functions here (no hooks in the code).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make ``bench.articles`` importable
    sys.path.insert(0, str(ROOT))

import bot.publishing.job  # noqa: E402
import storage.publish_commit  # noqa: E402
import storage.publish_commit.attempt  # noqa: E402
import storage.publish_commit.planning  # noqa: E402
from bench.articles import BRANCH, checkout, generate_repo  # noqa: E402
from bot.config import Config, ContentConfig, SlackConfig  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.fields import FieldMap  # noqa: E402
from storage.gitrepo import ContentRepo  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Article, Post, PostStatus, Vote  # noqa: E402
from storage.pathfilter import PathFilter  # noqa: E402
from storage.scan import scan  # noqa: E402

EDITORS = ("U0ANN", "U0BOB")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def git(*args: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


# --- setup (not timed) ---------------------------------------------------------------------


def approve(engine: Engine, count: int, seed: int) -> list[str]:
    """Approve ``count`` readable unpublished articles, each with two editors' votes."""
    a = Article.__table__
    with engine.connect() as conn:
        pool = conn.execute(
            select(a.c.id, a.c.path)
            .where(a.c.published.is_(False), a.c.error.is_(None))
            .order_by(a.c.path)
        ).all()
    if len(pool) < count:
        sys.exit(f"only {len(pool)} unpublished articles; use a larger --n")
    chosen = sorted(random.Random(seed).sample(pool, count), key=lambda r: r.path)
    with engine.begin() as conn:
        posts = conn.execute(
            insert(Post.__table__).returning(Post.__table__.c.id, sort_by_parameter_order=True),
            [
                {
                    "article_id": r.id,
                    "channel": "C0CURATION",
                    "ts": f"1764000000.{i:06d}",
                    "permalink": f"https://newsroom.slack.com/archives/C0CURATION/p{i}",
                    "day": "2026-11-26",
                    "status": PostStatus.APPROVED,
                }
                for i, r in enumerate(chosen)
            ],
        ).scalars()
        conn.execute(
            insert(Vote.__table__),
            [
                {
                    "post_id": post_id, "user_id": user, "reaction": "white_check_mark",
                    "choice": "publish", "present": True, "event_ts": f"1764000100.{j:06d}",
                }
                for post_id in posts
                for j, user in enumerate(EDITORS)
            ],
        )  # fmt: skip
    return [r.path for r in chosen]


def prepare(root: Path, n: int, count: int, seed: int) -> tuple[Path, list[str]]:
    """A template directory: the remote, the bot's scanned clone + database, a writer's clone."""
    t = time.perf_counter()
    remote = generate_repo(root, n, seed=seed)
    log(f"generated {n} articles in {time.perf_counter() - t:.1f}s")
    repo = ContentRepo(root / "bot.git", str(remote), BRANCH)
    repo.fetch()
    engine = make_engine(f"sqlite:///{root / 'curator.db'}")
    upgrade(engine)
    t = time.perf_counter()
    scan(engine, repo, FieldMap(), PathFilter(["**/*.md"]))
    paths = approve(engine, count, seed)
    engine.dispose()
    log(f"scanned and approved {count} in {time.perf_counter() - t:.1f}s")
    checkout(remote, root / "work")
    return remote, paths


def fresh_copy(template: Path, dest: Path) -> Path:
    """A copy of the template whose clones point at the copied remote."""
    shutil.copytree(template, dest, symlinks=True)
    git("--git-dir", str(dest / "bot.git"), "remote", "set-url", "origin", str(dest / "remote.git"))
    git("remote", "set-url", "origin", str(dest / "remote.git"), cwd=dest / "work")
    # The copy changed every file's ctime: refresh the index as a writer's clone has it, or
    # the baseline's commit would re-hash all files and look slower than it is.
    git("update-index", "-q", "--refresh", cwd=dest / "work")
    return dest


# --- the two contenders ----------------------------------------------------------------------


def config_for(root: Path) -> Config:
    return Config(
        content=ContentConfig(
            remote=str(root / "remote.git"),
            checkout=root / "bot.git",
            author_name="Curator Bot",
            author_email="curator@newsroom.example",
        ),
        slack=SlackConfig(channel="C0CURATION"),
        database_url=f"sqlite:///{root / 'curator.db'}",
    )


def run_bot(root: Path) -> tuple[float, str]:
    cfg = config_for(root)
    engine = make_engine(cfg.database_url)
    repo = ContentRepo(cfg.content.checkout, cfg.content.remote, cfg.content.branch)
    with engine.connect():
        pass  # open the pool outside the timing, as a running bot has it open
    t = time.perf_counter()
    report = bot.publishing.job.publish_approved(engine, repo, cfg, now=datetime.now(UTC))
    elapsed = time.perf_counter() - t
    engine.dispose()
    if report.commit_sha is None:
        sys.exit(f"the bot published nothing: {report.summary()}")
    return elapsed, report.commit_sha


def run_baseline(root: Path, paths: list[str]) -> tuple[float, str]:
    work = root / "work"
    t = time.perf_counter()
    subprocess.run(["sed", "-i", "s/^published: false$/published: true/", *paths], cwd=work,
                   check=True)  # fmt: skip
    git("commit", "--quiet", "-a", "-m", f"Publish {len(paths)} articles", cwd=work)
    git("push", "--quiet", "origin", f"HEAD:{BRANCH}", cwd=work)
    elapsed = time.perf_counter() - t
    return elapsed, git("rev-parse", "HEAD", cwd=work)


def check_commit(root: Path, sha: str, paths: list[str]) -> None:
    """Exactly the approved files, one line each, in the remote's newest commit."""
    numstat = git("--git-dir", str(root / "remote.git"), "show", "--format=", "--numstat", sha)
    expected = sorted(f"1\t1\t{p}" for p in paths)
    if sorted(numstat.splitlines()) != expected:
        sys.exit(f"commit {sha[:12]} is not one changed line in each approved file")


class Steps:
    """Wall time per storage step of the bot, from wrapping the module's functions."""

    NAMES = ("plan", "tree_entries", "edit_all", "write_blobs", "write_commit", "push_commit")

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = defaultdict(list)
        # Wrapped wherever the name is looked up: the package (for bot/) and its own modules.
        modules = (
            storage.publish_commit,
            storage.publish_commit.attempt,
            storage.publish_commit.planning,
        )
        for name in self.NAMES:
            timed = self._timed(name, getattr(storage.publish_commit, name))
            for module in modules:
                if hasattr(module, name):
                    setattr(module, name, timed)

    def _timed(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name].append(time.perf_counter() - t)

        return wrapper


# --- main ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=20_000, help="articles in the repo")
    p.add_argument("--approve", type=int, default=1_000, help="articles to publish")
    p.add_argument("--repeat", type=int, default=3, help="fresh runs of each side")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="curator-bench-publish-"))
    try:
        template = work / "template"
        template.mkdir()
        _, paths = prepare(template, args.n, args.approve, args.seed)
        steps = Steps()
        bot_times, shell_times = [], []
        for i in range(args.repeat):
            # Alternate who goes first, so neither always gets the warmer cache.
            order = ("bot", "shell") if i % 2 == 0 else ("shell", "bot")
            for side in order:
                root = fresh_copy(template, work / f"{side}-{i}")
                os.sync()  # the copy's write-back must not land in either side's timing
                if side == "bot":
                    seconds, sha = run_bot(root)
                    bot_times.append(seconds)
                else:
                    seconds, sha = run_baseline(root, paths)
                    shell_times.append(seconds)
                check_commit(root, sha, paths)
                log(f"run {i + 1} {side}: {seconds:.3f}s ({sha[:12]})")
                shutil.rmtree(root)
        bot_s, shell_s = statistics.median(bot_times), statistics.median(shell_times)
        print(f"publish {args.approve} of {args.n} articles in one commit + push, "
              f"median of {args.repeat}:")  # fmt: skip
        print(f"  bot (publish_approved, end to end) {bot_s:8.3f} s   "
              f"runs {', '.join(f'{t:.3f}' for t in bot_times)}")  # fmt: skip
        print(f"  shell (sed -i; commit -a; push)    {shell_s:8.3f} s   "
              f"runs {', '.join(f'{t:.3f}' for t in shell_times)}")  # fmt: skip
        print(f"  ratio bot / shell                  {bot_s / shell_s:8.2f} x   (target <= 2)")
        print(f"  ratio of the best runs             {min(bot_times) / min(shell_times):8.2f} x")
        print("  bot steps, mean per run (plan = tree_entries + reading + edit_all):")
        for name in Steps.NAMES:
            print(f"    {name:<14} {sum(steps.seconds[name]) / len(bot_times):8.3f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
