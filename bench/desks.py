"""Benchmark what desks cost the daily plan: today's candidates for one desk (a config
without desks) beside the same pool routed between three desks, in the same process.

    python bench/desks.py --n 20000

Every unpublished article is read once per desk that plans (the pool query), and routed in
Python (``bot.rules.desks``); the ratio says what a newsroom with desks pays per posting day.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make ``bench.articles`` importable
    sys.path.insert(0, str(ROOT))

from bench.articles import TOPICS, generate_repo  # noqa: E402
from bot.candidate_pool import todays_candidates  # noqa: E402
from bot.config import Config, ContentConfig, Desk, SlackConfig  # noqa: E402
from bot.config.settings import CandidatesConfig  # noqa: E402
from bot.house_rules import candidate_rules  # noqa: E402
from storage.db import make_engine, reading  # noqa: E402
from storage.fields import FieldMap  # noqa: E402
from storage.gitrepo import ContentRepo  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.pathfilter import PathFilter  # noqa: E402
from storage.scan import scan  # noqa: E402

EVERY_AGE = CandidatesConfig(max_age_days=100_000)  # the generated dates are old


def config(desks: tuple[Desk, ...], url: str) -> Config:
    return Config(
        content=ContentConfig(remote="unused", checkout=Path("unused")),
        slack=SlackConfig(channel="C0CURATION", editors=("U0A",)),
        candidates=EVERY_AGE,
        database_url=url,
        desks=desks,
    )


def timed(engine, cfg: Config, runs: int, now: datetime) -> tuple[float, int]:
    """Median seconds to choose every desk's candidates once, and how many were chosen."""
    times, chosen = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        with reading(engine) as tx:
            chosen = sum(
                len(todays_candidates(tx, candidate_rules(cfg, d), now=now)) for d in cfg.desks
            )
        times.append(time.perf_counter() - start)
    return statistics.median(times), chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="articles (default 20,000)")
    parser.add_argument("--runs", type=int, default=7, help="timed plans per setup")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        remote = generate_repo(Path(tmp), args.n, published_share=0.5)
        repo = ContentRepo(Path(tmp) / "clone", str(remote), "main")
        repo.fetch()
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = make_engine(url)
        upgrade(engine)
        scan(engine, repo, FieldMap(), PathFilter(["**/*.md"]))
        now = datetime.now(UTC)
        one = config((), url)
        three = config(
            (
                Desk(name="AI", channel="C0AI", topics=TOPICS[:2], candidates=EVERY_AGE),
                Desk(name="Policy", channel="C0POL", topics=TOPICS[2:6], candidates=EVERY_AGE),
                Desk(name="General", channel="C0CURATION", candidates=EVERY_AGE),
            ),
            url,
        )
        rows = []
        for _ in range(2):  # interleaved, twice: the machine is noisy
            rows.append(("one desk", *timed(engine, one, args.runs, now)))
            rows.append(("three desks", *timed(engine, three, args.runs, now)))
        base = statistics.median(t for name, t, _ in rows if name == "one desk")
        desks = statistics.median(t for name, t, _ in rows if name == "three desks")
        print(f"{args.n:,} articles, {args.runs} plans per setup, interleaved twice")
        for name, seconds, chosen in rows:
            print(f"  {name:<12} {seconds * 1000:8.1f} ms median  ({chosen} candidates)")
        print(f"three desks / one desk: {desks / base:.2f}x (each desk reads the pool once)")


if __name__ == "__main__":
    main()
