"""Benchmark the content-repo scan, side by side with what it should beat, in one process.

    python bench/scan.py --n 20000
    python bench/scan.py --n 100000 --skip-frontmatter

Measured on one generated repo (see ``bench/articles.py``), in this order:

(a) python-frontmatter: ``frontmatter.load`` on every file of a working-tree checkout, which
    is what a user would write instead of the scan;
(b) the floor: every article blob streamed through ``git cat-file --batch``, no parsing;
(c) the full scan into a fresh SQLite database (also repeated in a fresh subprocess, whose
    peak memory is then not polluted by the baseline's);
(d) a rescan of the unchanged repo, and a ``full=True`` rescan (the ls-tree self-check);
(e) a rescan after 1% of the articles changed in one new commit: new heat and quality, and
    now and then a candidate published, as a collector's refresh and the bot's own publish
    commits change a content repo;
(e') the same again with live articles taken back to drafts as often as candidates are
    published: a draft is read whole, so this is the costly mix;
(e'') a recency-weighted 1%: a collector refreshing recent months, so most changed files
    are among the newest articles.

Each rescan is also printed against git's own cost of that change, measured right after it
in the same process: ``git diff-tree -r`` of the two commits, then every changed article
blob read through one ``git cat-file --batch``.

Only the measured call is timed: generating, cloning, fetching and migrating are not. The
generated repo and the bot's clone of it are kept under /tmp by n and seed (see
``bench.articles.cached_repo``), so a rerun starts in seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing.forkserver
import os
import platform
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy
import yaml
from sqlalchemy.engine import Engine

from storage.db import make_engine
from storage.fields import FieldMap
from storage.gitrepo import BlobReader, ContentRepo
from storage.migrate import upgrade
from storage.pathfilter import PathFilter
from storage.scan import ScanResult, scan

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make ``bench.articles`` importable
    sys.path.insert(0, str(ROOT))

from bench.articles import cached_repo, change_share, checkout  # noqa: E402

GLOBS = ["**/*.md"]
SUBPROCESS_TIMEOUT = 1800


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Timing:
    """Wall-clock seconds, and CPU seconds of this process and every child it reaped."""

    wall: float = 0.0
    cpu: float = 0.0


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@contextlib.contextmanager
def measure() -> Iterator[Timing]:
    """Time the block, wall clock and CPU.

    CPU time is the steadier number on a shared machine: other work slows the wall clock of
    a scan that wants every core far more than that of a one-process baseline. Dirty pages
    are flushed first (untimed): writing back a 100,000-file checkout or a fresh pack while a
    measurement runs stalls its fsyncs and reads.
    """
    os.sync()
    timing = Timing()
    cpu, wall = cpu_seconds(), time.perf_counter()
    yield timing
    timing.wall = time.perf_counter() - wall
    stop_forkserver()  # not timed; reaping it brings its workers' CPU into RUSAGE_CHILDREN
    timing.cpu = cpu_seconds() - cpu


# --- the two baselines --------------------------------------------------------------------


def baseline_frontmatter(work: Path) -> tuple[Timing, int, int]:
    """What a user would write: load every Markdown file of a checkout with python-frontmatter.

    Returns (timing, files loaded, files that raised).
    """
    import frontmatter  # the test extra; only this baseline needs it

    with measure() as timing:
        metadata: list[dict[str, object]] = []
        errors = 0
        for path in sorted(work.rglob("*.md")):
            try:
                metadata.append(frontmatter.load(path).metadata)
            except Exception:  # a user's loop skips what does not load
                errors += 1
    return timing, len(metadata), errors


def baseline_floor(repo: ContentRepo, commit: str) -> tuple[Timing, int, int]:
    """The floor: list the tree and stream every article blob through cat-file, no parsing.

    Returns (timing, blobs, bytes).
    """
    paths = PathFilter(GLOBS)
    with measure() as timing:
        shas = [
            sha
            for path, sha, kind in repo.tree_entries(commit)
            if kind == "file" and paths.matches(path)
        ]
        size = 0
        # One process for all, as before the scan read in slices: git's own cost.
        with BlobReader(repo.git_dir, one_process=True) as reader:
            for i in range(0, len(shas), BlobReader.CHUNK):  # bounded memory at 100,000
                size += sum(len(blob) for blob in reader.read_many(shas[i : i + BlobReader.CHUNK]))
    return timing, len(shas), size


def baseline_change(repo: ContentRepo, old: str, new: str) -> tuple[Timing, int]:
    """git's own cost of a change: ``diff-tree -r`` of the two commits, then every changed
    article blob through one ``cat-file --batch``. Returns (timing, blobs read)."""
    paths = PathFilter(GLOBS)
    with measure() as timing:
        out = repo.git("diff-tree", "-r", "-z", "--no-renames", old, new)
        fields = out.split(b"\0")
        shas = [
            meta.split(b" ")[3].decode()
            for meta, path in zip(fields[0::2], fields[1::2], strict=False)
            if not meta.endswith(b"D") and paths.matches(path.decode("utf-8", "replace"))
        ]
        with BlobReader(repo.git_dir, one_process=True) as reader:
            reader.read_many(shas)
    return timing, len(shas)


# --- the scan -----------------------------------------------------------------------------


def fresh_database(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


def timed_scan(engine: Engine, repo: ContentRepo, **kwargs: object) -> tuple[Timing, ScanResult]:
    with measure() as timing:
        result = scan(engine, repo, FieldMap(), PathFilter(GLOBS), **kwargs)  # type: ignore[arg-type]
    return timing, result


def stop_forkserver() -> None:
    """Reap the scan's forkserver, so its workers' CPU and peak RSS reach RUSAGE_CHILDREN.

    The next parallel scan starts a new one (its start-up is then timed again).
    """
    server = getattr(multiprocessing.forkserver, "_forkserver", None)
    stop = getattr(server, "_stop", None)
    if stop is not None:
        stop()


def maxrss_mib() -> tuple[float, float]:
    """Peak RSS of this process and of its largest reaped descendant, in MiB."""
    self_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return self_kib / 1024, children_kib / 1024


def only_full_scan(args: argparse.Namespace) -> None:
    """Internal mode: one full scan in a fresh process; print its time and memory as JSON."""
    engine = fresh_database(Path(args.db))
    repo = ContentRepo(Path(args.clone), "unused", "main")
    timing, result = timed_scan(engine, repo, commit=args.commit, workers=args.workers)
    engine.dispose()
    self_mib, children_mib = maxrss_mib()
    print(
        json.dumps(
            {
                "seconds": timing.wall,
                "cpu": timing.cpu,
                "scanned": result.scanned,
                "new": result.new,
                "errors": result.errors,
                "hwm_mib": vm_hwm_mib(),
                "self_mib": self_mib,
                "children_mib": children_mib,
            }
        )
    )


class TreeMemory:
    """Samples the memory of a process and all its descendants (Linux /proc).

    ``peak_pss`` is the highest sum of PSS over the tree (shared pages split between the
    processes sharing them); ``peak_child_rss`` the highest RSS of any one descendant.
    """

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_pss = 0
        self.peak_processes = 0
        self.peak_child_rss = 0
        self.peak_child_name = ""
        self.peak_git_rss = 0  # the largest RSS any one git process reached
        self.peak_self_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            total, count = 0, 0
            for pid in _descendants(self.pid):
                with contextlib.suppress(OSError, ValueError):
                    rss, pss = _rss_pss_kib(pid)
                    total += pss
                    count += 1
                    name = Path(f"/proc/{pid}/comm").read_text().strip()
                    if pid == self.pid:
                        self.peak_self_rss = max(self.peak_self_rss, rss)
                    elif rss > self.peak_child_rss:
                        self.peak_child_rss, self.peak_child_name = rss, name
                    if name == "git":
                        self.peak_git_rss = max(self.peak_git_rss, rss)
            if total > self.peak_pss:
                self.peak_pss, self.peak_processes = total, count
            self._stop.wait(self.interval)


def _descendants(pid: int) -> list[int]:
    found, stack = [], [pid]
    while stack:
        pid = stack.pop()
        found.append(pid)
        with contextlib.suppress(OSError):
            for task in os.scandir(f"/proc/{pid}/task"):
                stack.extend(int(c) for c in Path(task.path, "children").read_text().split())
    return found


def _rss_pss_kib(pid: int) -> tuple[int, int]:
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("Rss", "Pss"):
            values[key] = int(rest.split()[0])
    return values["Rss"], values["Pss"]


def vm_hwm_mib() -> float | None:
    """This process's own peak RSS. Unlike ru_maxrss it is not inherited across exec."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def full_scan_in_subprocess(
    clone: Path, db: Path, commit: str, workers: int | None
) -> dict[str, Any]:
    """Run ``--only-full-scan`` in a fresh interpreter; return its report and tree peaks."""
    command = [
        sys.executable, str(Path(__file__).resolve()), "--only-full-scan",
        "--clone", str(clone), "--db", str(db), "--commit", commit,
    ]  # fmt: skip
    if workers:
        command += ["--workers", str(workers)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    with TreeMemory(proc.pid) as memory:
        out, _ = proc.communicate(timeout=SUBPROCESS_TIMEOUT)
    if proc.returncode != 0:
        raise RuntimeError(f"--only-full-scan failed with exit {proc.returncode}")
    report = json.loads(out.strip().splitlines()[-1])
    report["tree_pss_mib"] = memory.peak_pss / 1024
    report["tree_processes"] = memory.peak_processes
    report["child_rss_mib"] = memory.peak_child_rss / 1024
    report["child_name"] = memory.peak_child_name
    report["git_rss_mib"] = memory.peak_git_rss / 1024
    return report


# --- the report ---------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    timing: Timing | None
    ratio: str = ""
    target: str = ""
    met: bool | None = None


def print_table(rows: list[Row], n: int) -> None:
    name_w = max(len(r.name) for r in rows)
    ratio_w = max(len(r.ratio) for r in rows)
    print(
        f"{'measurement':<{name_w}}  {'wall s':>8}  {'CPU s':>7}  {'us/art.':>7}  "
        f"{'ratio (wall clock)':<{ratio_w}}  target"
    )
    print("-" * (name_w + ratio_w + 60))
    for r in rows:
        if r.timing is None:
            wall, cpu, per = "skipped", "", ""
        else:
            wall, cpu = f"{r.timing.wall:8.3f}", f"{r.timing.cpu:7.2f}"
            per = f"{r.timing.wall / n * 1e6:7.1f}"
        mark = "" if r.met is None else ("  [met]" if r.met else "  [MISSED]")
        print(
            f"{r.name:<{name_w}}  {wall:>8}  {cpu:>7}  {per:>7}  {r.ratio:<{ratio_w}}  "
            f"{r.target}{mark}"
        )
    print(
        "wall s: elapsed; CPU s: user+sys of this process and its children (git, workers);"
        " us/art.: wall per article in the repo"
    )
    print("ratios use the faster of the two full scans (c), (c') as the full scan")


def header(args: argparse.Namespace) -> None:
    git = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    workers = args.workers or f"default ({os.cpu_count()})"
    print(f"scan benchmark: {args.n:,} articles, workers={workers}, seed={args.seed}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"machine: {platform.machine()}, cpu_count={os.cpu_count()}, usable cpus={affinity}, "
        f"load average at start {load}"
    )
    print(f"python {platform.python_version()}, {git}, sqlite {sqlite3.sqlite_version}")
    print(
        f"PyYAML {yaml.__version__} (libyaml: {yaml.__with_libyaml__}), "
        f"SQLAlchemy {sqlalchemy.__version__}"
    )
    print()


def describe(result: ScanResult) -> str:
    return (
        f"mode={result.mode} scanned={result.scanned:,} new={result.new:,} "
        f"changed={result.changed:,} deleted={result.deleted:,} errors={result.errors:,}"
    )


def run(args: argparse.Namespace, work: Path) -> None:
    header(args)
    notes: list[str] = []

    log(f"generating {args.n:,} articles (or copying them from the cache)")
    with measure() as generating:
        remote, _ = cached_repo(work, args.n, seed=args.seed)
    notes.append(
        f"{args.n:,} articles generated with fast-import and fetched, or taken from the cache, "
        f"in {generating.wall:.1f} s"
    )

    fm: Timing | None = None
    if not args.skip_frontmatter:
        log("checking out a working tree for python-frontmatter")
        checkout(remote, work / "checkout")
        log("(a) python-frontmatter")
        fm, loaded, raised = baseline_frontmatter(work / "checkout")
        notes.append(f"(a) python-frontmatter: {loaded:,} loaded, {raised:,} raised")
        shutil.rmtree(work / "checkout")

    log("fetching the bot's bare clone")
    repo = ContentRepo(work / "clone.git", str(remote), "main")
    commit = repo.fetch()

    log("(b) cat-file floor")
    floor, blobs, size = baseline_floor(repo, commit)
    log(f"(b) floor: {floor.wall:.1f} s, CPU {floor.cpu:.1f} s")
    notes.append(f"(b) floor: {blobs:,} blobs, {size / 2**20:,.0f} MiB")

    full: Timing | None = None
    if not args.one_full_scan:
        log("(c) full scan")
        engine = fresh_database(work / "bench.db")
        full, result = timed_scan(engine, repo, workers=args.workers)
        notes.append(f"(c) full scan: {describe(result)}")

    log("(c') full scan in a fresh subprocess, for its peak memory")
    sub = full_scan_in_subprocess(work / "clone.git", work / "subprocess.db", commit, args.workers)
    fresh = Timing(sub["seconds"], sub["cpu"])
    log(
        f"(c') {fresh.wall:.1f} s ({fresh.wall / floor.wall:.1f}x the floor), "
        f"CPU {fresh.cpu:.1f} s; scan process {sub['hwm_mib']:,.0f} MiB, "
        f"largest git {sub['git_rss_mib']:,.0f} MiB, tree {sub['tree_pss_mib']:,.0f} MiB PSS"
    )
    if args.one_full_scan:  # the rescans go on from the subprocess's database
        engine = make_engine(f"sqlite:///{work / 'subprocess.db'}")

    log("(d) unchanged rescans")
    same, result = timed_scan(engine, repo, workers=args.workers)
    notes.append(f"(d) unchanged rescan: {describe(result)}")
    check, result = timed_scan(engine, repo, full=True, workers=args.workers)
    notes.append(f"(d') full=True rescan: {describe(result)}")

    def rescan(name: str, **change: Any) -> tuple[Timing, Timing, int]:
        """Change 1% in one commit, rescan, then git's own cost of the same change."""
        log(f"{name} 1% changed ({', '.join(k for k in change if k != 'seed') or 'uniform'})")
        count = change_share(remote, 0.01, **change)
        old, new = repo.head(), repo.fetch()
        timing, result = timed_scan(engine, repo, workers=args.workers)
        git_cost, blobs = baseline_change(repo, old, new)
        notes.append(
            f"{name} {count:,} files changed in one commit; {describe(result)}; "
            f"git's own cost: diff-tree + {blobs:,} blobs in {git_cost.wall:.3f} s"
        )
        return timing, git_cost, count

    diff, diff_git, changed = rescan("(e)", seed=args.seed + 1)
    drafts, drafts_git, _ = rescan("(e')", seed=args.seed + 2, unpublish=True)
    recent, recent_git, _ = rescan("(e'')", seed=args.seed + 3, recent=True)
    engine.dispose()

    # The faster of the two full scans is the reference: noise only ever adds time.
    ref = min([t for t in (full, fresh) if t is not None], key=lambda t: t.wall)

    def share(timing: Timing) -> str:
        return f"{timing.wall / ref.wall:.2%} of the full scan"

    def to_git(timing: Timing, git_cost: Timing) -> str:
        return f"{share(timing)}, {timing.wall / git_cost.wall:.1f}x git's own"

    faster = (
        f"full scan {fm.wall / ref.wall:.1f}x faster than python-frontmatter "
        f"(CPU {fm.cpu / ref.cpu:.1f}x)"
        if fm
        else "(--skip-frontmatter)"
    )
    rows = [
        Row(
            "(a) python-frontmatter.load, every file",
            fm,
            faster,
            "full scan >= 10x faster",
            None if fm is None else fm.wall / ref.wall >= 10,
        ),
        Row(
            "(b) floor: ls-tree + cat-file, no parse",
            floor,
            f"full scan = {ref.wall / floor.wall:.1f}x the cat-file floor",
        ),
        Row("(c) full scan, fresh database", full, share(full) if full else "(--one-full-scan)"),
        Row("(c') full scan, fresh subprocess", fresh, share(fresh)),
        Row(
            "(d) rescan, unchanged",
            same,
            share(same),
            "< 1 s at 100,000 articles",
            same.wall * max(1.0, 100_000 / args.n) < 1.0,  # scaled up when n is smaller
        ),
        Row("(d') rescan full=True, unchanged", check, share(check)),
        Row(
            f"(e) rescan, 1% changed ({changed:,} files)",
            diff,
            to_git(diff, diff_git),
            "about 1% of a full scan (<= 2%)",
            diff.wall / ref.wall <= 0.02,
        ),
        Row("    git's own: diff-tree + cat-file", diff_git, share(diff_git)),
        Row("(e') same, live ones back to drafts", drafts, to_git(drafts, drafts_git)),
        Row("    git's own: diff-tree + cat-file", drafts_git, share(drafts_git)),
        Row("(e'') 1% changed, newest most often", recent, to_git(recent, recent_git)),
        Row("    git's own: diff-tree + cat-file", recent_git, share(recent_git)),
    ]
    print_table(rows, args.n)
    print()
    for note in notes:
        print(note)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average at the end: {load} (other work on the machine skews the wall clock)")
    print()
    self_mib, children_mib = maxrss_mib()
    print("peak memory")
    print(
        f"  full scan alone, in a fresh subprocess: scan process {sub['hwm_mib']:,.0f} MiB "
        f"(VmHWM); largest child ({sub['child_name']}) {sub['child_rss_mib']:,.0f} MiB RSS; "
        f"whole tree {sub['tree_pss_mib']:,.0f} MiB PSS ({sub['tree_processes']:.0f} processes)"
    )
    print(f"  largest git process (cat-file, ls-tree) {sub['git_rss_mib']:,.0f} MiB RSS")
    print(
        f"  same, as ru_maxrss: self {sub['self_mib']:,.0f} MiB, "
        f"children {sub['children_mib']:,.0f} MiB (Linux carries a parent's peak across "
        "fork+exec into these)"
    )
    print(
        f"  this benchmark process, baselines included: ru_maxrss self {self_mib:,.0f} MiB, "
        f"children {children_mib:,.0f} MiB"
    )
    print(
        f"  (the subprocess scan stored scanned={sub['scanned']:,} new={sub['new']:,} "
        f"errors={sub['errors']:,})"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="articles to generate")
    parser.add_argument("--workers", type=int, default=None, help="scan worker processes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="work in DIR and keep it (default: a temp dir)")
    parser.add_argument(
        "--skip-frontmatter", action="store_true", help="skip baseline (a), slow at 100,000"
    )
    parser.add_argument(
        "--one-full-scan",
        action="store_true",
        help="skip (c): one full scan, in the subprocess; the rescans go on from its database",
    )
    # Internal mode: the full scan alone in a fresh process, for its own peak memory.
    parser.add_argument("--only-full-scan", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--clone", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--commit", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.only_full_scan:
        only_full_scan(args)
        return
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        if any(args.keep.iterdir()):
            sys.exit(f"--keep {args.keep}: directory is not empty")
        run(args, args.keep)
        log(f"kept {args.keep}")
        return
    work = Path(tempfile.mkdtemp(prefix="curator-bench-"))
    try:
        run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
