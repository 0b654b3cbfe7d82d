"""Benchmark ``/digest`` over 100,000 articles (or a million), on SQLite and PostgreSQL.

    python bench/digest.py                        # both backends, 100,000 articles
    python bench/digest.py --db sqlite --n 20000 --runs 50
    python bench/digest.py --n 1000000 --baseline 100000   # 1M beside 100k, cached databases

Rows go straight into a migrated database with Core bulk inserts (no repo, no scan): articles
with 1-3 of 30 topics, titles and excerpts from a small vocabulary, quality 0-100, dates over
two years; about 10% of them have a card (post) in a realistic mix of states, spread over the
last 60 days, with 0-4 editors' votes each. Setup stays well under two minutes.

Each timed call is what the slash command listener runs after its ack:
``answer_digest(engine, config, parse_digest_query(text, now, tz), now=now)`` — parse, the
filtered and sorted query with its total, the votes and holds of the cards shown, and the
Block Kit rendering. The mix of queries covers each filter alone and combined; every kind
gets the same number of runs (random topics, words and numbers each time) after an untimed
warm-up. Target: p95 under 100 ms for every kind, on each backend.

From ``--cached-from`` articles up (200,000 by default), or with ``--cached``, the database is
``bench.bigdb.big_database``'s (built once, kept in /tmp or as ``bench_<n>_r<head>``; its
``FULL`` shape: desks, every card state) rather than a temporary one filled each run, so a
1M run takes minutes once built. ``--baseline N`` runs N articles first, in the same
command, and prints each kind's p50/p95 beside it.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make ``bench.articles`` importable
    sys.path.insert(0, str(ROOT))

from bench.articles import TOPICS, WORDS  # noqa: E402
from bench.bigdb import EDITORS, NOW, PG_URL, big_database, fill, log  # noqa: E402
from bot.config import Config, config_from_mapping  # noqa: E402
from bot.rules.digest_query import parse_digest_query  # noqa: E402
from bot.slack.digest import answer_digest  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

TARGET_P95_MS = 100.0  # for every kind of query


# --- the queries ----------------------------------------------------------------------------


def _topic(rng: random.Random) -> str:
    topic = rng.choice(TOPICS)
    return f'"{topic}"' if " " in topic else topic


KINDS: dict[str, Callable[[random.Random], str]] = {
    "default (no filter)": lambda rng: "",
    "topic only": lambda rng: f"topic:{_topic(rng)}",
    "topic + since": lambda rng: f"topic:{_topic(rng)} since:{rng.choice(('24h', '7d', '30d'))}",
    "status:published": lambda rng: "status:published",
    "status:all limit:50": lambda rng: "status:all limit:50",
    "free words": lambda rng: " ".join(rng.sample(WORDS[:60], rng.randint(1, 2))),
    "quoted phrase": lambda rng: f'"{" ".join(rng.sample(WORDS[:40], 2))}"',
    "min:": lambda rng: f"min:{rng.randint(50, 95)}",
    "combined": lambda rng: (
        f"topic:{_topic(rng)} topic:{_topic(rng)} status:all since:60d min:{rng.randint(20, 80)} "
        f"{rng.choice(WORDS[:60])}"
    ),
}


def run(engine: Engine, config: Config, runs: int, seed: int) -> dict[str, list[float]]:
    """Milliseconds per call, by kind of query, in an interleaved order."""
    rng = random.Random(seed)
    plan = [kind for kind in KINDS for _ in range(runs)]
    rng.shuffle(plan)
    for kind in list(KINDS) * 3:  # warm-up: connections, caches, statement compilation
        answer_digest(engine, config, parse_digest_query(KINDS[kind](rng), NOW, config.zone),
                      now=NOW)  # fmt: skip
    timings: dict[str, list[float]] = {kind: [] for kind in KINDS}
    matched: dict[str, int] = {kind: 0 for kind in KINDS}
    for kind in plan:
        typed = KINDS[kind](rng)
        started = time.perf_counter()
        query = parse_digest_query(typed, NOW, config.zone)
        fallback, _ = answer_digest(engine, config, query, now=NOW)
        timings[kind].append((time.perf_counter() - started) * 1000)
        matched[kind] += not fallback.startswith("Digest: nothing")
    for kind, hits in matched.items():
        if hits == 0:
            log(f"warning: no '{kind}' query matched anything; the benchmark data is off")
    return timings


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


# --- backends -------------------------------------------------------------------------------


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-digest-") as tmp:
            yield f"sqlite:///{tmp}/curator.db"
        return
    schema = f"bench_digest_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _config(url: str) -> Config:
    return config_from_mapping(
        {"content": {"remote": "/dev/null/remote.git",
                     "commit_url": "https://git.example/content/commit/{sha}"},
         "slack": {"channel": "#curation", "editors": list(EDITORS)}},
        path=None, env={"DATABASE_URL": url},
    )  # fmt: skip


def bench(
    kind: str, n: int, runs: int, seed: int, cached: bool
) -> tuple[dict[str, list[float]], str]:
    """Timings by kind of query, and a line saying what the database holds."""
    if cached:
        url, line = big_database(kind, n, seed=seed)
        log(line)
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                          for t in ("article", "post", "vote")}  # fmt: skip
            facts = (f"{counts['article']:,} articles, {counts['post']:,} cards, "
                     f"{counts['vote']:,} votes (cached, FULL shape)")  # fmt: skip
            return run(engine, _config(url), runs, seed), facts
        finally:
            engine.dispose()
    with database(kind) as url:
        engine = make_engine(url)
        upgrade(engine)
        started = time.perf_counter()
        counts = fill(engine, n, seed)
        setup = time.perf_counter() - started
        log(f"{kind}: inserted {counts} in {setup:.1f} s")
        try:
            timings = run(engine, _config(url), runs, seed)
        finally:
            engine.dispose()
    facts = (f"{counts['articles']:,} articles, {counts['topics']:,} topics, {counts['posts']:,} "
             f"cards, {counts['votes']:,} votes (setup {setup:.0f} s)")  # fmt: skip
    return timings, facts


def report(kind: str, facts: str, timings: dict[str, list[float]],
           baseline: tuple[int, dict[str, list[float]]] | None) -> bool:  # fmt: skip
    """Print p50/p95 by kind (beside the baseline's); whether every kind's p95 is on target."""
    print(f"\n/digest on {kind}: {facts}")
    extra = f" {'base p50':>9} {'base p95':>9} {'p95 ×':>6}" if baseline else ""
    print(f"{'query':<22} {'runs':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}{extra}  target")
    ok = True
    for name, values in [*timings.items(), ("all", [t for v in timings.values() for t in v])]:
        p95 = pct(values, 95)
        line = (
            f"{name:<22} {len(values):>5} {pct(values, 50):>8.1f} {p95:>8.1f} {max(values):>8.1f}"
        )
        if baseline:
            base = baseline[1].get(name) or [t for v in baseline[1].values() for t in v]
            line += f" {pct(base, 50):>9.1f} {pct(base, 95):>9.1f} {p95 / pct(base, 95):>6.1f}"
        verdict = "ok" if p95 < TARGET_P95_MS else "OVER"
        print(f"{line}  p95 < {TARGET_P95_MS:.0f} ms: {verdict}")
        ok &= p95 < TARGET_P95_MS
    if baseline:
        print(f"(base: the same mix at {baseline[0]:,} articles, same command)")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="articles (default 100,000)")
    parser.add_argument("--runs", type=int, default=60, help="timed calls per kind of query")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline", type=int, help="also run this many articles, side by side")
    parser.add_argument("--cached", action="store_true", help="the cached FULL database, any n")
    parser.add_argument("--cached-from", type=int, default=200_000,
                        help="use the cached FULL database from this many articles up")  # fmt: skip
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    ok = True
    for kind in kinds:
        base = None
        if args.baseline:
            cached = args.cached or args.baseline >= args.cached_from
            base = (args.baseline, bench(kind, args.baseline, args.runs, args.seed, cached)[0])
        cached = args.cached or args.n >= args.cached_from
        timings, facts = bench(kind, args.n, args.runs, args.seed, cached)
        ok &= report(kind, facts, timings, base)
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
