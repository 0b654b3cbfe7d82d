"""Benchmark ``curator candidates``, the post job's planning and ``curator status`` on a big
database (1M articles, 100k cards), beside the same at 10,000 articles in the same run.

    python bench/candidates.py                            # 100,000 articles, both backends
    python bench/candidates.py --n 1000000 --db sqlite --runs 5
    python bench/candidates.py --n 2000 --baseline 1000    # smoke

The databases come from ``bench/bigdb.py`` (built once, kept in /tmp or as ``bench_<n>``,
``--rebuild`` to build them again): three desks routed by topic, ~N/10 cards in every state.
Each timed call is what the command or job runs once its config is read, at the data's "now":

- candidates: ``curator candidates`` with every desk: ``candidates_by_desk`` (each desk's
  candidates, and why none for a desk with none) and the articles on no desk, in one read;
- plan: the post job's ``plan_day`` of one desk for the next day (no Slack: planning writes
  the day's rows; they are deleted, untimed, after each run so every run plans afresh);
- status: ``status_lines``, the whole ``curator status`` report.

Targets (issue 13): candidates and plan under 0.5 s, status under 1 s, at 1M articles.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make ``bench.bigdb`` importable
    sys.path.insert(0, str(ROOT))

from bench.bigdb import DESKS, EDITORS, NOW, big_database, log  # noqa: E402
from bot.candidate_pool import candidates_by_desk, on_no_desk  # noqa: E402
from bot.cli.status import status_lines  # noqa: E402
from bot.config import Config, config_from_mapping  # noqa: E402
from bot.house_rules import candidate_rules, routes  # noqa: E402
from bot.rules.schedule import posting_day  # noqa: E402
from bot.slack.day_plan import plan_day  # noqa: E402
from storage.db import make_engine, reading  # noqa: E402

TARGETS_S = {"candidates": 0.5, "plan (one desk)": 0.5, "status": 1.0}
PLAN_AT = NOW + timedelta(days=1)  # a day the data has no cards for: the plan is made afresh


def bench_config(url: str) -> Config:
    desks = [
        {"name": name, "channel": channel, "topics": list(topics), "post": "0 9 * * *"}
        for name, channel, topics in DESKS
    ]
    return config_from_mapping(
        {"content": {"remote": "/dev/null/remote.git",
                     "commit_url": "https://git.example/content/commit/{sha}"},
         "slack": {"channel": "#curation", "editors": list(EDITORS)},
         "desks": desks},
        path=None, env={"DATABASE_URL": url},
    )  # fmt: skip


def candidates(engine: Engine, config: Config) -> int:
    """What ``curator candidates`` reads for every desk; how many were chosen."""
    with reading(engine) as conn:
        rules = [candidate_rules(config, desk) for desk in config.desks]
        found = candidates_by_desk(conn, rules, now=NOW)
        on_no_desk(conn, routes(config))
    return sum(len(chosen) for chosen, _ in found)


def plan_once(engine: Engine, config: Config, desk_index: int) -> Callable[[], int]:
    desk = config.desks[desk_index]

    def plan() -> int:
        ids, chosen_now = plan_day(engine, config, PLAN_AT, desk.channel, desk)
        assert chosen_now, "the bench's plan day already had a plan"
        return len(ids)

    return plan


def forget_plan(engine: Engine, config: Config) -> None:
    """Delete the bench day's planned cards (never in Slack), so the next run plans again."""
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM post WHERE day = :day AND ts IS NULL"),
                     {"day": posting_day(PLAN_AT, config.zone)})  # fmt: skip


def timed(
    engine: Engine, config: Config, runs: int, warmup: int
) -> tuple[dict[str, list[float]], dict]:
    """Seconds per call by operation (after ``warmup`` untimed ones), and what they found."""
    ops: dict[str, Callable[[], int]] = {
        "candidates": lambda: candidates(engine, config),
        "status": lambda: len(status_lines(engine, config, NOW)),
    }
    found: dict[str, int] = {}
    times: dict[str, list[float]] = {name: [] for name in TARGETS_S}
    forget_plan(engine, config)  # a run stopped half-way left its plan
    for run in range(-warmup, runs):
        for name, op in ops.items():
            started = time.perf_counter()
            found[name] = op()
            if run >= 0:
                times[name].append(time.perf_counter() - started)
        plan = plan_once(engine, config, run % len(config.desks))
        started = time.perf_counter()
        found["plan (one desk)"] = plan()
        took = time.perf_counter() - started
        forget_plan(engine, config)
        if run >= 0:
            times["plan (one desk)"].append(took)
    return times, found


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def measure(kind: str, n: int, runs: int, warmup: int, rebuild: bool) -> tuple[dict, dict]:
    url, line = big_database(kind, n, rebuild=rebuild)
    log(line)
    engine = make_engine(url)
    try:
        return timed(engine, bench_config(url), runs, warmup)
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="articles (default 100,000)")
    parser.add_argument("--baseline", type=int, default=10_000, help="articles of the baseline")
    parser.add_argument("--runs", type=int, default=7, help="timed calls per operation")
    parser.add_argument("--warmup", type=int, default=1, help="untimed calls first (0 at 1M)")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--rebuild", action="store_true", help="build the databases again")
    args = parser.parse_args()
    ok = True
    for kind in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        base, _ = measure(kind, args.baseline, args.runs, 1, args.rebuild)
        times, found = measure(kind, args.n, args.runs, args.warmup, args.rebuild)
        print(f"\n{kind}: {args.n:,} articles ({args.runs} runs) beside {args.baseline:,}")
        print(f"{'operation':<16} {'p50 ms':>8} {'p95 ms':>8} {'target':>8} "
              f"{'base p50':>9} {'ratio':>6}  found")  # fmt: skip
        for name, target in TARGETS_S.items():
            values, p50 = times[name], statistics.median(times[name])
            verdict = "ok" if pct(values, 95) < target else "OVER TARGET"
            ratio = p50 / statistics.median(base[name])
            print(f"{name:<16} {p50 * 1000:>8.0f} {pct(values, 95) * 1000:>8.0f} "
                  f"{target * 1000:>6.0f}ms {statistics.median(base[name]) * 1000:>9.1f} "
                  f"{ratio:>5.1f}x  {found[name]:>5}  {verdict}")  # fmt: skip
            ok &= verdict == "ok"
    print("\nfound: candidates chosen over the desks, status lines, cards one desk planned")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
