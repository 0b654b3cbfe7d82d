"""A database that is down, unsupported or unwritable: one line naming the fix, exit code 1.

Issue 9: a DATABASE_URL that did not answer gave a 138-line traceback on every command,
``mysql://`` a ``ModuleNotFoundError: MySQLdb``, an unwritable SQLite path a traceback. Every
failure here is real: a closed port, a scheme we have no driver for, a path no one (not even
root) can create a file under. Slack outages are in test_slack_cli.py.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from tests.conftest import REPO_ROOT

COMMANDS = [
    ["status"],
    ["db", "upgrade"],
    ["scan"],
    ["candidates"],
    ["digest"],
    ["summary", "--dry-run"],
    ["summary"],
    ["post", "--dry-run"],
    ["post"],
    ["reconcile"],
    ["publish", "--dry-run"],
    ["publish"],
]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def _outages(tmp_path: Path) -> list[tuple[str, str]]:
    """(DATABASE_URL, what the one line must say) for each kind of failure."""
    port = _closed_port()
    (tmp_path / "a-file").write_text("not a directory")
    return [
        (
            f"postgresql://curator:hunter2pw@127.0.0.1:{port}/curator",
            f"database at 127.0.0.1:{port} did not answer (Connection refused): "
            "is it running? check DATABASE_URL",
        ),
        (
            "mysql://curator:hunter2pw@db.example/curator",
            "mysql:// is not supported; use sqlite:///path/to/curator.db or postgresql://",
        ),
        (
            f"sqlite:///{tmp_path}/a-file/curator.db",
            f"cannot open the SQLite database {tmp_path}/a-file/curator.db "
            f"(unable to open database file): check that {tmp_path}/a-file exists",
        ),
        (
            "sqlite:////proc/curator-test/curator.db",
            "cannot open the SQLite database /proc/curator-test/curator.db",
        ),
        (  # it opens, and keeps nothing: a scan into it is lost when the command ends
            "sqlite://",
            "a SQLite database in memory keeps nothing once the command ends",
        ),
    ]


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "curator.yml"
    path.write_text(
        f"content:\n  remote: {tmp_path / 'remote'}\n"
        'slack:\n  channel: "#curation"\n  editors: [U0EDITOR1, U0EDITOR2]\n'
    )
    # Slack would be next; the database fails first.
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-not-real")
    monkeypatch.setenv("SLACK_API_URL", f"http://127.0.0.1:{_closed_port()}/api/")
    return path


def test_every_command_says_what_failed_in_one_line(tmp_path: Path, config: Path, monkeypatch):
    for url, expected in _outages(tmp_path):
        monkeypatch.setenv("DATABASE_URL", url)
        for command in COMMANDS:
            result = CliRunner().invoke(cli, ["-c", str(config), *command])
            lines = result.output.strip().splitlines()
            assert result.exit_code == 1, (url, command, result.output)
            assert len(lines) == 1 and lines[0].startswith("Error: "), (url, command, lines)
            assert expected in lines[0], (url, command, lines[0])
            assert "hunter2pw" not in result.output


def test_doctor_reports_each_outage_as_a_finding(tmp_path: Path, config: Path, monkeypatch):
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    for url, expected in _outages(tmp_path):
        monkeypatch.setenv("DATABASE_URL", url)
        result = CliRunner().invoke(cli, ["-c", str(config), "doctor"])
        assert result.exit_code == 1
        database = next(line for line in result.output.splitlines() if "database:" in line)
        assert database.startswith("FIX  database: ") and expected in database, database
        assert "Traceback" not in result.output and "hunter2pw" not in result.output


def test_verbose_shows_the_traceback_too(tmp_path: Path, config: Path, monkeypatch):
    url, expected = _outages(tmp_path)[0]
    monkeypatch.setenv("DATABASE_URL", url)
    result = CliRunner().invoke(cli, ["-c", str(config), "-v", "status"])
    assert result.exit_code == 1
    assert "Traceback" in result.output and "OperationalError" in result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Error: ") and expected in last
    assert "hunter2pw" not in result.output


def test_db_upgrade_without_a_config_names_the_url(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://curator:hunter2pw@db.example/curator")
    result = CliRunner().invoke(cli, ["-c", str(tmp_path / "absent.yml"), "db", "upgrade"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: database URL mysql://curator:***@db.example/curator: mysql:// is not "
        "supported; use sqlite:///path/to/curator.db or postgresql://user@host:5432/dbname "
        "(check DATABASE_URL, or database: in curator.yml)"
    )


def test_a_missing_postgres_driver_names_the_extra(tmp_path: Path, config: Path):
    # psycopg is installed here; a package of that name that fails to import stands in for
    # an installation without the [postgres] extra.
    shadow = tmp_path / "shadow" / "psycopg"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('No module named psycopg')\n")
    port = _closed_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(shadow.parent),
        "DATABASE_URL": f"postgresql://curator@127.0.0.1:{port}/curator",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "-c", str(config), "status"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"Error: database URL postgresql://curator@127.0.0.1:{port}/curator: "
        "PostgreSQL needs the psycopg driver (No module named psycopg): "
        "pip install 'newsroom-curator[postgres]' (check DATABASE_URL, or database: in curator.yml)"
    ]


def test_config_refuses_a_database_scheme_it_cannot_use(tmp_path: Path, config: Path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with config.open("a") as out:
        out.write("database: mysql://db.example/curator\n")
    result = CliRunner().invoke(cli, ["-c", str(config), "status"])
    assert result.exit_code == 1
    assert "database: mysql:// is not supported; use sqlite:///" in result.output


@pytest.mark.parametrize("checkout", ["a-file/clone", "/proc/curator-test/clone"])
def test_a_checkout_that_cannot_be_made_is_one_line(tmp_path: Path, config: Path, checkout):
    (tmp_path / "a-file").write_text("not a directory")
    with config.open("a") as out:
        out.write(f"database: sqlite:///{tmp_path / 'c.db'}\n")
    text = config.read_text().replace("content:\n", f"content:\n  checkout: {checkout}\n")
    config.write_text(text)
    result = CliRunner().invoke(cli, ["-c", str(config), "scan"], env={"DATABASE_URL": ""})
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: ") and "check that path (content.checkout" in line, line
