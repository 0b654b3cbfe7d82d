"""Issue 9, item 11: kill -9 of a publish or a scan while its worker processes are busy
leaves no worker (and no forkserver) behind: they end with the process that started them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.conftest import REPO_ROOT
from tests.helpers import Newsroom, article
from tests.test_publish import approve

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")

# Articles whose frontmatter takes tens of milliseconds to parse: the workers stay busy
# for seconds, long enough to be killed mid-work.
SLOW = {"related": 300}


def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended


def python_descendants(root: int) -> dict[int, str]:
    """Every live python process below ``root``, with its command line."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (ppid := _ppid(int(entry))) is not None:
            parents[int(entry)] = ppid
    found: dict[int, str] = {}
    for pid in parents:
        up = parents.get(pid)
        while up is not None and up != root:
            up = parents.get(up)
        if up == root and _alive(pid):
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "python" in cmd:
                found[pid] = cmd
    return found


def kill_mid_work(proc: subprocess.Popen[bytes], workers: int) -> dict[int, str]:
    """SIGKILL ``proc`` once ``workers`` worker processes of it are running; its python
    descendants at that moment."""
    deadline = time.monotonic() + 90
    while True:
        assert proc.poll() is None, "the run ended before its workers were seen"
        below = python_descendants(proc.pid)
        busy = {p: c for p, c in below.items() if "resource_tracker" not in c}
        if len(busy) >= workers:
            break
        assert time.monotonic() < deadline, f"no workers after 90 s: {below}"
        time.sleep(0.05)
    time.sleep(0.3)  # well into the work
    below = python_descendants(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return below


def assert_all_end(pids: dict[int, str]) -> None:
    # A bound so that a bug fails the test instead of hanging it; not a speed test.
    deadline = time.monotonic() + 20
    while left := {p: c for p, c in pids.items() if _alive(p)}:
        if time.monotonic() > deadline:
            for pid in left:
                os.kill(pid, signal.SIGKILL)
            raise AssertionError(f"still running 20 s after their parent was killed: {left}")
        time.sleep(0.1)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_publish_workers_and_forkserver_end_with_a_killed_publish(
    engine: Engine, db_url: str, newsroom: Newsroom, tmp_path: Path
):
    paths = [f"news/{i:03d}.md" for i in range(300)]
    for path in paths:
        newsroom.write(path, article(path, **SLOW))
    newsroom.commit("collect")
    for path in paths:
        approve(engine, path)
    runner = REPO_ROOT / "tests" / "publish_crash_runner.py"
    args = [db_url, str(newsroom.remote), str(tmp_path / "clone.git"), "parallel"]
    proc = subprocess.Popen([sys.executable, str(runner), *args], cwd=REPO_ROOT)
    # The forkserver and two workers forked from it.
    below = kill_mid_work(proc, workers=3)
    assert any("forkserver" in cmd for cmd in below.values()), below
    assert_all_end(below)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the scan parses in this process")
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_scan_workers_end_with_a_killed_scan(
    engine: Engine, db_url: str, newsroom: Newsroom, tmp_path: Path
):
    for i in range(600):
        newsroom.write(f"news/{i:03d}.md", article(f"Story {i}", **SLOW))
    newsroom.commit("collect")
    config = tmp_path / "curator.yml"
    config.write_text(
        f"content:\n  remote: {newsroom.remote}\n  checkout: {tmp_path / 'clone.git'}\n"
        'slack:\n  channel: "#curation"\n'
    )
    env = {**os.environ, "DATABASE_URL": db_url, "CURATOR_CONFIG": str(config)}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "scan"], cwd=REPO_ROOT, env=env)
    below = kill_mid_work(proc, workers=2)  # forked straight from the scan
    assert_all_end(below)
