"""Benchmark Slack event handling over HTTP: ``curator serve`` beside a bare Bolt app.

    python bench/events.py
    python bench/events.py --events 3000 --concurrency 8 --db postgresql

Slack wants every event acknowledged within 3 seconds and retries (then disables the app)
when it is not, so the number that matters is the ack latency seen by the sender. Bolt acks an
event before its listener runs (``process_before_response=False``): the listener's database
and Web API work then runs in the same process (the curator's events thread, which lets the
requests in flight go first for up to 3 s: ``bot/slack/acks_first.py``; the card
refresher's thread), competing for the GIL and the CPU with the acks of the events that
follow. This measures how much that work costs the acks, against a baseline that does none
of it:

(A) ``curator serve``, a real subprocess (the Procfile's web process), on a day of ~50 cards
    posted with ``curator post``; its listeners record votes, retally and ``chat.update``
    the card against a local stand-in for Slack's Web API (``tests/slack_standin.py``);
(B) a bare ``slack_bolt.App`` with no-op ``reaction_added``/``reaction_removed`` listeners,
    under the same waitress server with the same thread count, also a subprocess.

Both get the same signed events (editors' and outsiders' ✅/❌/other reactions on the cards,
increasing ``event_ts``, ~10% duplicate deliveries) over keep-alive connections, one per
client thread, in alternating rounds (A, B, A, B, ...) after an untimed warm-up. The curator's
scheduled jobs are switched off in its config, so only event handling runs.

After each round the benchmark waits until the work behind the acks is done: acks are cheap
to send ahead of the work, so besides acks/s it reports done/s, events over the time until
the work behind them was done too (what (A) can sustain). At the end it checks that the work
was real: the vote rows in the database equal the newest event of every (card, editor,
emoji), and the stand-in received the ``chat.update`` calls.

What "done" means for (A): every vote recorded and the last refresh of every card voted on
sent. Votes on one card are coalesced into one ``chat.update`` at most once a second
(``bot/slack/card_refresher.py``): Slack rate-limits ``chat.update`` (Tier 3, about 50 a
minute), so one update per vote could not be sent at a newsroom's busiest minute anyway.
That wait is part of the work, not idle time, so a round of (A) ends when the server has
spent no CPU and the stand-in has received no ``chat.update`` for longer than that interval
(``QUIET_A``), at the later of the two: a shorter quiet window could end the round while the
refresher still holds a card, and its send would fall into the next round. The last card
sent after the round's last ack is printed too ("last card s"): up to the interval of it is
that deliberate hold, not a backlog. The load itself is a flood (each client thread sends as
soon as it has its answer), far above any newsroom's pace (Slack delivers a busy newsroom's
reactions a few a second): done/s is what (A) can sustain at most, the acks' p99 what the
sender sees while it does. (B) does no work: its round ends when its CPU goes quiet. The
default rounds (1,000 events, a second or two) are shorter than the longest the curator's
work waits for the acks (3 s), so their work follows their acks; a flood longer than that
(``--rounds 1 --events 10000``) shows the acks sharing the CPU with the work again.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import http.client
import json
import os
import platform
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make ``tests.*`` importable
    sys.path.insert(0, str(ROOT))

from bot.config import JOBS  # noqa: E402
from storage.db import make_engine  # noqa: E402
from tests.helpers import Newsroom, article  # noqa: E402
from tests.slack_requests import SIGNING_SECRET, reaction_event, sign  # noqa: E402
from tests.slack_standin import SlackStandIn  # noqa: E402

CHANNEL = "CBENCH"
EDITORS = tuple(f"UEDITOR{i:02d}" for i in range(1, 21))
OUTSIDERS = ("UOUTSIDER01", "UOUTSIDER02")
VOTE_EMOJI = ("white_check_mark", "x")
BOT_TOKEN = "xoxb-bench-not-real"
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
CARDS = 50
DUPLICATES = 0.10
WARMUP = 100
# Issue 13's targets: acks at 0.7x bare Bolt with p99 under 20 ms, the work at 0.5x.
P99_TARGET_MS = 20.0
RATIO_TARGET = 0.7
DONE_TARGET = 0.5
# The curator's card refresher sends a card at most once a second (CardRefresher's interval):
# (A) is done only when it has been quiet for longer than that (see the docstring).
QUIET_A = 1.5


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the events ---------------------------------------------------------------------------


Key = tuple[str, str, str]  # (card ts, user, emoji)


@dataclass(frozen=True)
class Event:
    body: bytes
    key: Key
    present: bool
    event_ts: str
    duplicate: bool


@dataclass
class EventPlan:
    events: list[Event]

    def final(self, sent: Iterable[int]) -> dict[Key, bool]:
        """What the vote table should hold once the ``sent`` events are processed, in any
        order: the newest event of each (card, editor, vote emoji) wins."""
        newest: dict[Key, Event] = {}
        for i in sent:
            e = self.events[i]
            if counts(e) and (e.key not in newest or newest[e.key].event_ts < e.event_ts):
                newest[e.key] = e
        return {k: e.present for k, e in newest.items()}

    def changes(self, sent: Iterable[int]) -> int:
        """Distinct vote events among ``sent``: each changes a vote when processed in order."""
        return len({(e.key, e.event_ts) for e in (self.events[i] for i in sent) if counts(e)})


def counts(e: Event) -> bool:
    return e.key[1] in EDITORS and e.key[2] in VOTE_EMOJI


def plan_events(cards: list[str], n: int, seed: int) -> EventPlan:
    """``n`` reaction events on ``cards``, in ``event_ts`` order (signed when sent).

    Each (card, user, emoji) alternates added/removed, as in Slack. Mostly editors' ✅/❌;
    some outsiders and a non-vote emoji (cheap, ignored paths); ~10% are a re-delivery of a
    recent event (same body, as Slack's retries), which the curator must ignore.
    """
    rng = random.Random(seed)
    state: dict[Key, bool] = {}
    events: list[Event] = []
    clock = 1_800_100_000 * 1_000_000  # microseconds; after every card's ts
    for i in range(n):
        if i >= 10 and rng.random() < DUPLICATES:
            original = rng.choice(events[-50:])
            events.append(dataclasses.replace(original, duplicate=True))
            continue
        clock += rng.randint(200, 2_000)
        event_ts = f"{clock // 1_000_000}.{clock % 1_000_000:06d}"
        user = rng.choice(EDITORS) if rng.random() < 0.95 else rng.choice(OUTSIDERS)
        emoji = rng.choices((*VOTE_EMOJI, "eyes"), weights=(45, 45, 10))[0]
        key = (rng.choice(cards), user, emoji)
        present = not state.get(key, False)
        state[key] = present
        kind = "reaction_added" if present else "reaction_removed"
        payload = reaction_event(
            kind, user=user, reaction=emoji, channel=CHANNEL, ts=key[0], event_ts=event_ts
        )
        events.append(Event(json.dumps(payload).encode(), key, present, event_ts, False))
    return EventPlan(events)


# --- the load -----------------------------------------------------------------------------


@dataclass
class Load:
    """What the client saw: one latency per answered request (ms), and the wall time."""

    latencies: list[float] = field(default_factory=list)
    ok: list[int] = field(default_factory=list)  # indices of the events answered with 200
    not_200: int = 0
    failed: int = 0  # connection errors and timeouts
    wall: float = 0.0
    stopped_early: bool = False

    @property
    def sent(self) -> int:
        return len(self.latencies)

    def add(self, other: Load) -> None:
        self.latencies += other.latencies
        self.ok += other.ok
        self.not_200 += other.not_200
        self.failed += other.failed
        self.wall += other.wall
        self.stopped_early |= other.stopped_early


def send(port: int, events: list[Event], first: int, concurrency: int, max_seconds: float) -> Load:
    """Send ``events`` (numbered from ``first``) in order from ``concurrency`` threads, one
    keep-alive connection each, until all are sent or ``max_seconds`` have passed.

    Bodies are signed just before the round (Slack's signatures are valid for 5 minutes), so
    the timed part is the HTTP exchange only: request written -> response read.
    """
    requests = [(e.body, {"Content-Type": "application/json", **sign(e.body)}) for e in events]
    lock = threading.Lock()
    cursor = iter(range(len(requests)))
    start = threading.Barrier(concurrency + 1)
    per_thread = [Load() for _ in range(concurrency)]
    deadline = time.perf_counter() + max_seconds + 60  # set again when the threads are ready

    def worker(load: Load) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        start.wait()
        try:
            while True:
                if time.perf_counter() > deadline:
                    load.stopped_early = True
                    return
                with lock:
                    i = next(cursor, None)
                if i is None:
                    return
                body, headers = requests[i]
                t0 = time.perf_counter()
                try:
                    conn.request("POST", "/slack/events", body, headers)
                    response = conn.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException):
                    load.failed += 1
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    continue
                load.latencies.append((time.perf_counter() - t0) * 1000)
                if response.status == 200:
                    load.ok.append(first + i)
                else:
                    load.not_200 += 1
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(p,), daemon=True) for p in per_thread]
    for t in threads:
        t.start()
    deadline = time.perf_counter() + max_seconds
    t0 = time.perf_counter()
    start.wait()
    for t in threads:
        t.join()
    total = Load(wall=time.perf_counter() - t0)
    for p in per_thread:
        total.add(p)
    return total


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# --- the two servers ----------------------------------------------------------------------


@dataclass
class Target:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path

    def cpu_seconds(self) -> float:
        """user+sys CPU of the server process so far (Linux /proc)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_count(self, needle: str) -> int:
        return self.log_path.read_text(errors="replace").count(needle)

    def stop(self) -> int:
        """SIGTERM (as a platform's restart sends), SIGKILL after 10 s; the exit status."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_target(name: str, command: list[str], env: dict[str, str], work: Path) -> Target:
    port = free_port()
    log_path = work / f"{name}.log"
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            [*command, "--port", str(port)], env=env, cwd=work, stdout=out, stderr=out
        )
    target = Target(name, proc, port, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{tail}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return target
            conn.close()
        time.sleep(0.1)
    target.stop()
    raise RuntimeError(f"{name}: /healthz did not answer 200 within 60 s")


def wait_idle(
    target: Target, timeout: float = 300, quiet: float = 0.5,
    updates: Callable[[], list[float]] | None = None,
) -> float:  # fmt: skip
    """Wait until the server spends (almost) no CPU and, given ``updates`` (the arrival
    times of the stand-in's ``chat.update`` calls), sends no card, for ``quiet`` s: its
    listener work is done. Returns the seconds until the last busy sample or card sent."""
    t0 = time.perf_counter()
    t0_mono = time.monotonic()
    last_busy, cpu = t0, target.cpu_seconds()
    seen = len(updates()) if updates else 0
    while time.perf_counter() - t0 < timeout:
        time.sleep(0.05)
        now_cpu = target.cpu_seconds()
        sent = len(updates()) if updates else 0
        if now_cpu - cpu > 0.005 or sent != seen:
            last_busy = time.perf_counter()
        cpu, seen = now_cpu, sent
        if time.perf_counter() - last_busy >= quiet:
            break
    last_card = max((at - t0_mono for at in updates()), default=0.0) if updates else 0.0
    return max(last_busy - t0, last_card)


def serve_bare(port: int, threads: int) -> None:
    """Internal mode, target (B): a bare Bolt app, same WSGI server, listeners that do nothing."""
    from slack_bolt import App
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_sdk import WebClient

    from bot.slack.server import make_server

    app = App(
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        token_verification_enabled=False,
        client=WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]),
    )

    @app.event("reaction_added")
    def added(event: dict[str, Any]) -> None:
        pass

    @app.event("reaction_removed")
    def removed(event: dict[str, Any]) -> None:
        pass

    slack = SlackRequestHandler(app, path="/slack/events")

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
            return [b"ok\n"]
        return slack(environ, start_response)

    make_server(wsgi, "127.0.0.1", port, threads).run()


# --- the day: content repo, database, posted cards ------------------------------------------


@contextlib.contextmanager
def database(kind: str, work: Path) -> Iterator[tuple[str, str]]:
    """(DATABASE_URL, description); PostgreSQL gets a fresh schema, dropped at the end."""
    if kind == "sqlite":
        yield f"sqlite:///{work / 'curator.db'}", f"SQLite {sqlite3.sqlite_version} (WAL), file"
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        server = conn.execute(text("SHOW server_version")).scalar_one()
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}", f"PostgreSQL {server}, loopback"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def curator_command() -> list[str]:
    script = Path(sys.executable).parent / "curator"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def prepare_day(work: Path, env: dict[str, str]) -> Path:
    """A content repo with ``CARDS`` candidates, a curator.yml, a migrated and scanned
    database, and the day's cards posted with ``curator post``. Returns the config path."""
    newsroom = Newsroom(work)
    dated = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:00Z")
    for i in range(CARDS):
        newsroom.write(
            f"stories/story-{i:03d}.md",
            article(f"Bench story {i:03d}", quality=50 + i % 50, dated=dated, related=2),
        )
    newsroom.write("stories/live.md", article("Already live", published=True, dated=dated))
    newsroom.commit("bench day")
    config = work / "curator.yml"
    settings = {
        "content": {"remote": str(newsroom.remote)},
        "slack": {"channel": CHANNEL, "editors": list(EDITORS)},
        "votes": {"quorum": 2, "window_days": 3},
        "candidates": {"per_day": CARDS, "max_age_days": 30},
        # Only event handling is measured: no scan, publish or reconcile run mid-benchmark.
        "schedule": dict.fromkeys(JOBS),
    }
    config.write_text(yaml.safe_dump(settings, sort_keys=False))
    for step in (["db", "upgrade"], ["scan"], ["post"]):
        done = subprocess.run(
            [*curator_command(), "-c", str(config), *step],
            env=env, cwd=work, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"curator {' '.join(step)} failed:\n{done.stdout}{done.stderr}")
        log(f"curator {' '.join(step)}: {done.stdout.strip().splitlines()[-1]}")
    return config


def posted_cards(url: str) -> dict[str, int]:
    """Card ts -> post id, from the database."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT ts, id FROM post WHERE ts IS NOT NULL ORDER BY id"))
            return {str(ts): int(pid) for ts, pid in rows}
    finally:
        engine.dispose()


@dataclass
class Work:
    """What the curator's listeners did, read back after the load."""

    vote_rows: int
    matching: int
    expected: int
    decisions: int
    status: dict[str, int]


def check_work(url: str, expected: dict[Key, bool]) -> Work:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT p.ts, v.user_id, v.reaction, v.present "
                    "FROM vote v JOIN post p ON p.id = v.post_id"
                )
            ).all()
            decisions = conn.execute(
                text("SELECT count(*) FROM decision WHERE cause LIKE 'vote by %'")
            ).scalar_one()
            by_status = conn.execute(text("SELECT status, count(*) FROM post GROUP BY status"))
            status = {str(s): int(n) for s, n in by_status}
    finally:
        engine.dispose()
    stored = {(str(ts), user, reaction): bool(present) for ts, user, reaction, present in rows}
    matching = sum(stored.get(k) == v for k, v in expected.items())
    return Work(len(rows), matching, len(expected), int(decisions), status)


# --- the run ------------------------------------------------------------------------------


@dataclass
class Result:
    target: Target
    load: Load = field(default_factory=Load)
    cpu: float = 0.0  # server CPU over the rounds, drained listener work included
    client_cpu: float = 0.0  # this process (client threads, and the stand-in's for (A))
    drain: list[float] = field(default_factory=list)
    last_card: list[float] = field(default_factory=list)  # (A): s from last ack to last card

    @property
    def rate(self) -> float:
        """Acks per second while sending."""
        return self.load.sent / self.load.wall if self.load.wall else 0.0

    @property
    def sustained(self) -> float:
        """Events per second until the work behind them was done too."""
        busy = self.load.wall + sum(self.drain)
        return self.load.sent / busy if busy else 0.0

    def per_event_ms(self, seconds: float) -> float:
        return seconds / max(self.load.sent, 1) * 1000


def header(args: argparse.Namespace, db: str) -> None:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"event benchmark: {args.events:,} events per target in {args.rounds} alternating "
        f"rounds (+{WARMUP} warm-up), concurrency={args.concurrency}, "
        f"server threads={args.threads}, seed={args.seed}"
    )
    print(
        f"machine: {platform.machine()}, cpu_count={os.cpu_count()}, usable cpus={affinity}, "
        f"load average at start {load}"
    )
    print(
        f"python {platform.python_version()}, slack_bolt {version('slack_bolt')}, "
        f"slack_sdk {version('slack_sdk')}, waitress {version('waitress')}, "
        f"SQLAlchemy {version('SQLAlchemy')}"
    )
    print(f"database: {db}; Slack Web API: local stand-in in the benchmark process")
    print()


def run_rounds(
    a: Result, b: Result, plan: EventPlan, args: argparse.Namespace,
    updates: Callable[[], list[float]],
) -> list[int]:  # fmt: skip
    """Warm both up, then A, B, A, B, ...: the same events to both, each drained after (A
    until its cards are sent too: ``updates`` are the stand-in's ``chat.update`` arrival
    times). Returns the ``chat.update`` count after the warm-up and after each round."""

    def drain(r: Result) -> float:
        if r is a:
            return wait_idle(r.target, quiet=QUIET_A, updates=updates)
        return wait_idle(r.target)

    for r in (a, b):
        log(f"warming up {r.target.name} with {WARMUP} events")
        send(r.target.port, plan.events[:WARMUP], 0, args.concurrency, args.max_seconds)
        drain(r)
    counts = [len(updates())]
    size = -(-args.events // args.rounds)
    for n in range(args.rounds):
        first = WARMUP + n * size
        chunk = plan.events[first : min(first + size, WARMUP + args.events)]
        for r in (a, b):
            cpu, client_cpu = r.target.cpu_seconds(), time.process_time()
            load = send(r.target.port, chunk, first, args.concurrency, args.max_seconds)
            acked = time.monotonic()
            r.drain.append(drain(r))
            r.cpu += r.target.cpu_seconds() - cpu
            r.client_cpu += time.process_time() - client_cpu
            r.load.add(load)
            last_card = ""
            if r is a:
                sent = updates()[counts[-1] :]
                counts.append(counts[-1] + len(sent))
                r.last_card.append(max(sent, default=acked) - acked)
                last_card = f", last card sent {r.last_card[-1]:.2f} s after the last ack"
            log(
                f"round {n + 1}/{args.rounds} {r.target.name}: {load.sent} events in "
                f"{load.wall:.2f} s ({load.sent / load.wall:,.0f}/s), "
                f"p99 {percentile(load.latencies, 99):.1f} ms, drained {r.drain[-1]:.2f} s later"
                + last_card
            )
    return counts


def report(a: Result, b: Result, args: argparse.Namespace) -> None:
    name_w = max(len(r.target.name) for r in (a, b))
    columns = (
        f"{'events':>6}  {'wall s':>6}  {'acks/s':>6}  {'p50 ms':>6}  {'p95 ms':>6}  "
        f"{'p99 ms':>6}  {'max ms':>6}  {'not 200':>7}  {'drain s':>7}  {'done/s':>6}  "
        f"{'server CPU':>10}  {'client CPU':>10}"
    )
    print(f"{'target':<{name_w}}  {columns}")
    print("-" * (name_w + 2 + len(columns)))
    for r in (a, b):
        lat = r.load.latencies
        print(
            f"{r.target.name:<{name_w}}  {r.load.sent:>6}  {r.load.wall:>6.2f}  {r.rate:>6,.0f}  "
            f"{percentile(lat, 50):>6.1f}  {percentile(lat, 95):>6.1f}  "
            f"{percentile(lat, 99):>6.1f}  {max(lat, default=float('nan')):>6.1f}  "
            f"{r.load.not_200 + r.load.failed:>7}  {sum(r.drain):>7.2f}  {r.sustained:>6,.0f}  "
            f"{r.per_event_ms(r.cpu):>7.2f} ms  {r.per_event_ms(r.client_cpu):>7.2f} ms"
        )
    print(
        "latency: request written -> HTTP 200 (Slack's ack) read, at the client.\n"
        "drain s: after each round's last ack, until the server went idle (the listener work "
        "behind the acks; for (A) its cards sent too), summed.\ndone/s: events / (wall + drain).\n"
        "server CPU: user+sys of the server process per event, drained work included.\n"
        "client CPU: this process per event (the client threads, and for (A) the Slack "
        "stand-in answering chat.update)."
    )
    print()
    ratio = a.rate / b.rate if b.rate else float("nan")
    p99 = percentile(a.load.latencies, 99)
    checks = [
        (f"p99 ack latency of (A): {p99:.1f} ms", f"p99 ack < {P99_TARGET_MS:g} ms",
         p99 < P99_TARGET_MS),
        (f"acks/s (A)/(B): {ratio:.2f}x ({a.rate:,.0f} vs {b.rate:,.0f})",
         f"throughput >= {RATIO_TARGET}x bare Bolt", ratio >= RATIO_TARGET),
    ]  # fmt: skip
    for what, target, met in checks:
        print(f"{what:<48}  target: {target:<34} {'[met]' if met else '[MISSED]'}")
    done = a.sustained / b.sustained if b.sustained else float("nan")
    print(
        f"{'done/s (A)/(B): ' + f'{done:.2f}x':<48}  target: {f'work >= {DONE_TARGET}x':<34} "
        f"{'[met]' if done >= DONE_TARGET else '[MISSED]'}"
    )
    print(
        "done (A): votes recorded and the last chat.update of every card sent; last card sent "
        "after the round's last ack: "
        + ", ".join(f"{s:.2f} s" for s in a.last_card)
        + " (a card is sent at most once a second: up to 1 s of it is that hold)"
    )
    for r in (a, b):
        if r.load.stopped_early:
            print(f"note: {r.target.name} hit --max-seconds {args.max_seconds:g}: fewer events")


def report_work(
    work: Work, plan: EventPlan, a: Result, updates: list[int], logs: dict[str, int]
) -> None:
    ok = range(WARMUP) if not a.load.ok else [*range(WARMUP), *a.load.ok]
    sent = [plan.events[i] for i in ok]
    dups = sum(e.duplicate for e in sent)
    print(
        f"the work behind the acks of (A): {len(sent):,} events acked incl. warm-up "
        f"({dups:,} duplicates), {plan.changes(ok):,} vote changes if processed in order"
    )
    print(
        f"  vote rows in the database: {work.vote_rows:,}; equal to the newest event of each "
        f"(card, editor, emoji): {work.matching:,}/{work.expected:,}"
    )
    print(
        f"  chat.update calls at the stand-in: {updates[-1]:,} "
        f"({updates[-1] - updates[0]:,} in the timed rounds); 'vote by' decisions: "
        f"{work.decisions:,}; cards: "
        + ", ".join(f"{v} {k}" for k, v in sorted(work.status.items()))
    )
    print("  in the servers' logs: " + ", ".join(f"{k}: {v:,}" for k, v in logs.items()))


def run(args: argparse.Namespace, work: Path) -> None:
    standin = SlackStandIn().start()
    try:
        with database(args.db, work) as (url, db_desc):
            header(args, db_desc)
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "SLACK_API_URL": standin.url,
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "PYTHONUNBUFFERED": "1",
            }
            env.pop("SLACK_APP_TOKEN", None)
            log(f"preparing a day of {CARDS} cards on {args.db}")
            config = prepare_day(work, env)
            cards = posted_cards(url)
            if len(cards) != CARDS:
                raise RuntimeError(f"expected {CARDS} posted cards, the database has {len(cards)}")
            plan = plan_events(list(cards), WARMUP + args.events, args.seed)
            threads = ["--threads", str(args.threads)]
            serve = [*curator_command(), "-c", str(config), "serve", "--host", "127.0.0.1"]
            bare = [sys.executable, str(Path(__file__).resolve()), "--serve-bare"]
            targets: list[Target] = []
            try:
                log("starting (A) curator serve and (B) bare Bolt")
                targets.append(start_target("(A) curator serve", [*serve, *threads], env, work))
                targets.append(
                    start_target("(B) bare Bolt, no-op listeners", [*bare, *threads], env, work)
                )
                a, b = Result(targets[0]), Result(targets[1])
                updates = run_rounds(
                    a, b, plan, args, lambda: [c.at for c in standin.called("chat.update")]
                )
                report(a, b, args)
                done = check_work(url, plan.final([*range(WARMUP), *a.load.ok]))
                logs = {
                    "'listener failed' (A)": a.target.log_count("listener failed"),
                    "'database is locked' (A)": a.target.log_count("database is locked"),
                    "'Traceback' (B)": b.target.log_count("Traceback"),
                    "waitress 'Task queue depth' (A)": a.target.log_count("queue depth"),
                    "waitress 'Task queue depth' (B)": b.target.log_count("queue depth"),
                }
            finally:
                exits = [f"{t.name} {t.stop()}" for t in targets]
        print()
        report_work(done, plan, a, updates, logs)
        print(f"  exit status after SIGTERM: {', '.join(exits)} (-15: killed by the signal)")
        print(f"  traceback at exit in the log of (A): {a.target.log_count('Traceback')}")
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"load average at the end: {load} (other work on the machine skews the wall clock)")
    finally:
        standin.stop()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=3000, help="timed events per target")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads/connections")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads of both servers")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per target")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--max-seconds", type=float, default=30, help="stop a round's sending after this long"
    )
    parser.add_argument("--keep", type=Path, help="work in DIR and keep it (default: a temp dir)")
    # Internal mode: target (B), started by the benchmark itself.
    parser.add_argument("--serve-bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.serve_bare:
        serve_bare(args.port, args.threads)
        return
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        if any(args.keep.iterdir()):
            sys.exit(f"--keep {args.keep}: directory is not empty")
        run(args, args.keep)
        log(f"kept {args.keep}")
        return
    work = Path(tempfile.mkdtemp(prefix="curator-events-"))
    try:
        run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
