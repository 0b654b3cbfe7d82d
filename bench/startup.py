"""Benchmark how fast ``curator`` starts, beside ``python -c pass``.

    python bench/startup.py
    python bench/startup.py --runs 40
    python bench/startup.py --src /tmp/main     # another checkout's code, to compare

A command's start-up is what an operator waits for before anything happens, and it is mostly
imports: SQLAlchemy, SQLModel, Bolt and APScheduler each take a good part of a second on a
small machine. Each command here imports what it needs and no more (``bot.cli.lazy``), and
this measures what that leaves:

- ``python -c pass``: the interpreter alone, the floor everything else stands on;
- ``import storage.models``: the tables alone (SQLAlchemy, SQLModel, pydantic), which every
  command that opens the database needs: the floor under ``status``;
- ``curator --help``: the command list, which imports no command at all;
- ``curator status``: a config, the database and the schedule, on SQLite;
- ``curator digest help``: the same plus the digest's rendering.

``status`` and ``digest`` read a demo's config (``curator demo --dir``, built first, untimed).
Every run is a fresh process; the commands take turns (pass, --help, status, digest, pass,
...) after an untimed warm-up, so load from elsewhere on the machine falls on all of them
alike. The report gives each one's median and best in seconds, its median over that of
``python -c pass`` (on a shared machine the ratio says more than the seconds), and its median
CPU time (user + system), which waiting for a busy CPU does not add to.

Targets (issue 10, point 8, on a 2-core machine): ``--help`` under 0.3 s, ``status`` under
0.7 s, medians.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from subprocess import DEVNULL, PIPE

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"curator --help": 0.3, "curator status": 0.7}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def curator(src: Path | None) -> list[str]:
    """The installed ``curator`` script beside this Python, as an operator runs it; else, or
    for another checkout's code, ``python -m bot``, which is the same command."""
    script = Path(sys.executable).with_name("curator")
    return [str(script)] if script.exists() and src is None else [sys.executable, "-m", "bot"]


def commands(cli: list[str], config: Path) -> dict[str, list[str]]:
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "import storage.models": [sys.executable, "-c", "import storage.models"],
        "curator --help": [*cli, "--help"],
        "curator status": [*cli, "-c", str(config), "status"],
        "curator digest help": [*cli, "-c", str(config), "digest", "help"],
    }


def run_once(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run in a fresh process."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=DEVNULL, stderr=PIPE)
    stderr = proc.stderr.read() if proc.stderr else b""
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{stderr.decode(errors='replace')}")
    return elapsed, usage.ru_utime + usage.ru_stime


def bench(runs: int, warmup: int, workdir: Path, src: Path | None) -> dict[str, list[tuple]]:
    """(wall, CPU) seconds per run of each command, the commands taking turns."""
    # Nothing from the caller's environment steers the commands (a CURATOR_CONFIG, a
    # DATABASE_URL) but what they are given; no secrets, so nothing reaches for Slack.
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TZ") if key in os.environ}
    if src is not None:
        env["PYTHONPATH"] = str(src.resolve())
    cli = curator(src)
    log("building the demo (untimed)")
    demo = workdir / "demo"
    subprocess.run([*cli, "demo", "--dir", str(demo)], env=env, check=True, capture_output=True)
    argvs = commands(cli, demo / "curator.yml")
    for _ in range(warmup):  # file caches, .pyc files, the SQLite file
        for argv in argvs.values():
            run_once(argv, env, workdir)
    log(f"timing {runs} runs of each of {len(argvs)} commands")
    timings: dict[str, list[tuple]] = {name: [] for name in argvs}
    for _ in range(runs):
        for name, argv in argvs.items():
            timings[name].append(run_once(argv, env, workdir))
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each command")
    parser.add_argument("--warmup", type=int, default=2, help="untimed rounds first")
    parser.add_argument("--src", type=Path, help="run this checkout's bot/ and storage/")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    try:
        timings = bench(args.runs, args.warmup, workdir, args.src)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    floor = statistics.median(wall for wall, _cpu in timings["python -c pass"])
    python = sys.version.split()[0]
    code = f" of {args.src}" if args.src else ""
    print(f"\nstart-up{code}, {args.runs} runs each, {os.cpu_count()} cores, Python {python}")
    print(f"{'command':<22} {'median s':>9} {'best s':>8} {'x pass':>7} {'cpu s':>7}   target")
    ok = True
    for name, runs in timings.items():
        walls = [wall for wall, _cpu in runs]
        median, cpu = statistics.median(walls), statistics.median(cpu for _wall, cpu in runs)
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            verdict = f"< {target} s: {'ok' if median < target else 'OVER TARGET'}"
            ok &= median < target
        row = (
            f"{name:<22} {median:>9.3f} {min(walls):>8.3f} {median / floor:>7.1f} {cpu:>7.3f}"
            f"   {verdict}"
        )
        print(row.rstrip())
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
