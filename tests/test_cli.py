"""The ``curator`` command end to end: a config file, a real content repo, a real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.main import cli
from storage import migrate
from tests.conftest import REPO_ROOT, SAMPLE
from tests.helpers import Newsroom, article


def write_config(tmp_path: Path, remote: Path, extra: str = "") -> Path:
    path = tmp_path / "curator.yml"
    path.write_text(
        f"content:\n  remote: {remote}\n"
        'slack:\n  channel: "#curation"\n  editors: [U0EDITOR1]\n'
        "candidates:\n  max_age_days: 100000\n" + extra
    )
    return path


@pytest.fixture
def run(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATABASE_URL", db_url)

    def invoke(*args: str, ok: bool = True):
        result = CliRunner().invoke(cli, ["-c", str(tmp_path / "curator.yml"), *args])
        if ok:
            assert result.exit_code == 0, result.output
        return result

    # Like the Procfile's release step; PostgreSQL is never upgraded implicitly.
    invoke("db", "upgrade")
    return invoke


def test_scan_and_candidates(run, tmp_path: Path, newsroom: Newsroom):
    write_config(tmp_path, newsroom.remote)
    newsroom.write("news/sample.md", SAMPLE.read_bytes())
    newsroom.write("news/top.md", article("Top story", quality=95, topics=("Climate",)))
    newsroom.write("news/live.md", article("Already live", published=True))
    newsroom.write("news/broken.md", "---\ntitle: [\n---\n")
    newsroom.commit()

    out = run("scan").output
    assert "scanned 4" in out
    assert "4 new, 0 changed, 0 deleted, 0 unchanged, 1 errors" in out
    assert "curator scan --errors" in out
    assert "0 new, 0 changed, 0 deleted, 4 unchanged, 1 errors" in run("scan").output

    errors = run("scan", "--errors").output.splitlines()
    assert errors[0].startswith("news/broken.md: YAML error at line 3")
    assert errors[1] == "1 file(s) could not be read"

    listed = json.loads(run("candidates", "--json").output)
    assert [a["path"] for a in listed] == ["news/top.md", "news/sample.md"]
    sample = listed[1]
    assert sample["title"].startswith("What cities must do")
    assert sample["quality"] == 39
    assert sample["provider_name"] == "GCN"
    assert sample["topics"] == ["AI", "Computer Vision"]
    assert len(sample["related"]) == 8
    assert sample["related"][0]["provider"] == "South China Morning Post"

    assert len(json.loads(run("candidates", "--json", "--limit", "1").output)) == 1
    text = run("candidates").output
    assert " 1. [95] Top story" in text
    assert "GCN · AI, Computer Vision · news/sample.md" in text


def test_init_writes_example_once(run, tmp_path: Path):
    out = run("init").output
    assert "wrote" in out and (tmp_path / "curator.yml").exists()
    again = run("init", ok=False)
    assert again.exit_code == 1 and "--force" in again.output
    run("init", "--force")


def test_config_errors_are_one_clean_message(run, tmp_path: Path):
    (tmp_path / "curator.yml").write_text("votes:\n  quorum: two\n")
    result = run("scan", ok=False)
    assert result.exit_code == 1
    assert "votes.quorum" in result.output
    assert "Traceback" not in result.output


def test_missing_config_says_how_to_make_one(run):
    result = run("candidates", ok=False)
    assert result.exit_code == 1 and "curator init" in result.output


def test_db_upgrade_with_only_database_url(tmp_path: Path, db_url: str, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    runner = CliRunner()
    first = runner.invoke(cli, ["-c", str(tmp_path / "absent.yml"), "db", "upgrade"])
    assert first.exit_code == 0, first.output
    head = migrate.head_revision()
    assert f"schema empty -> {head}" in first.output
    again = runner.invoke(cli, ["-c", str(tmp_path / "absent.yml"), "db", "upgrade"])
    assert f"schema {head} -> {head}" in again.output


def test_postgres_behind_schema_asks_for_upgrade(tmp_path: Path, db_url: str, monkeypatch):
    """Replicas never race migrations: only SQLite is upgraded implicitly."""
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    monkeypatch.setenv("DATABASE_URL", db_url)
    write_config(tmp_path, tmp_path / "remote")
    result = CliRunner().invoke(cli, ["-c", str(tmp_path / "curator.yml"), "candidates"])
    assert result.exit_code == 1
    assert "run 'curator db upgrade'" in result.output


def test_python_dash_m_bot_is_curator(tmp_path: Path):
    env = {**os.environ, "CURATOR_CONFIG": str(tmp_path / "curator.yml")}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], cwd=REPO_ROOT, env=env, capture_output=True
    )
    assert proc.returncode == 0
    assert b"scan" in proc.stdout and b"candidates" in proc.stdout


# ---------------------------------------------------------- secrets never reach the output

LEAKY_TITLE = "Leaked ghp_DoNotLeak0123456789abcdef and xoxb-1-2-DoNotLeak0123456789"
LEAKY_URL = "https://ci:DoNotLeakPw99@news.example/story"


def test_tokens_in_articles_are_scrubbed_from_every_output(
    run, tmp_path: Path, newsroom: Newsroom, monkeypatch
):
    """Issue 9: command output is scrubbed like the logs (text, --json, --dry-run JSON)."""
    secret = "8f14e45fceea167a5a36dedd4bea2543"  # shaped like nothing: known by its value
    monkeypatch.setenv("SLACK_SIGNING_SECRET", secret)
    write_config(tmp_path, newsroom.remote)
    newsroom.write("a.md", article(f"{LEAKY_TITLE} {secret}", quality=90, url=LEAKY_URL))
    newsroom.commit()
    run("scan")
    outputs = [
        run("candidates").output,
        run("candidates", "--json").output,
        run("post", "--dry-run").output,
        run("summary", "--dry-run", "--json").output,
    ]
    for out in outputs:
        assert "Leaked" in out and "DoNotLeak" not in out and secret not in out, out
        assert "https://ci:***@news.example/story" in out
    listed = json.loads(outputs[1])
    assert listed[0]["title"] == "Leaked *** and *** ***"


def test_a_real_process_scrubs_what_it_prints(tmp_path: Path, newsroom: Newsroom):
    write_config(tmp_path, newsroom.remote)
    newsroom.write("a.md", article(LEAKY_TITLE, quality=90))
    newsroom.commit()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}"}
    args = [sys.executable, "-m", "bot", "-c", str(tmp_path / "curator.yml")]
    subprocess.run([*args, "scan"], env=env, check=True, capture_output=True, cwd=REPO_ROOT)
    proc = subprocess.run(
        [*args, "candidates"], env=env, capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert proc.returncode == 0, proc.stderr
    assert "Leaked *** and ***" in proc.stdout and "DoNotLeak" not in proc.stdout


def test_scan_errors_lists_skipped_files_and_warnings_escaped(run, tmp_path: Path, newsroom):
    """File names reach the terminal with their control characters escaped: an ESC sequence
    cannot recolour it, a newline cannot forge a line (issue 9, items 3, 4 and 13)."""
    write_config(tmp_path, newsroom.remote)
    newsroom.write("good.md", article("Good"))
    newsroom.write("x\x1b[2J\x1b[31m.md", article("Escape"))
    newsroom.write("a.md: ok\nforged.md", article("Newline"))
    (newsroom.work / "link.md").symlink_to("good.md")
    bad_date = article("Bad date").replace("2026-11-25T10:00:00Z", "'12/05/2020'")
    newsroom.write("bad-date.md", bad_date)
    newsroom.commit()
    out = run("scan").output
    assert "5 new, 0 changed, 0 deleted, 0 unchanged, 3 errors, 1 read with a warning" in out
    result = run("scan", "--errors")
    assert "\x1b" not in result.output and "\r" not in result.output
    lines = result.stdout.splitlines()
    assert lines == [
        "a.md: ok\\nforged.md: skipped: the file name has control characters (\\n); "
        "rename the file",
        "link.md: skipped: a symbolic link, not a file (the bot reads regular files only); "
        "commit the article itself, or exclude the link in content.exclude",
        "x\\x1b[2J\\x1b[31m.md: skipped: the file name has control characters (\\x1b); "
        "rename the file",
        "bad-date.md: warning: publishedDateTime (line 4): '12/05/2020' is not a date the bot "
        "can read (write it like 2020-05-12T09:00:00-05:00); its age comes from the commit "
        "that added the file",
    ]
    assert "3 file(s) could not be read, 1 read with a warning" in result.stderr


def test_no_candidates_says_why_everywhere(run, tmp_path: Path, newsroom):
    """`candidates`, `status` and `doctor` give the counts when nothing qualifies."""
    write_config(tmp_path, newsroom.remote, "  min_quality: 40\n  topics: [Climate]\n")
    # Dated yesterday, whatever day the suite runs: a fixed date ages out of the week below.
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    newsroom.write("low.md", article("Low", quality=10, topics=("Climate",), dated=yesterday))
    newsroom.write("off.md", article("Off topic", quality=90, topics=("Sports",), dated=yesterday))
    newsroom.write("old.md", article("Old", quality=90, dated="2020-05-12T09:00:00Z"))
    newsroom.write("live.md", article("Live", published=True))
    newsroom.commit()
    run("scan")
    # write_config allows 100,000 days, in which 2020 is fresh: use a week instead.
    config = (tmp_path / "curator.yml").read_text().replace("100000", "7")
    (tmp_path / "curator.yml").write_text(config)
    why = (
        "no candidates today: 3 unpublished; 1 older than 7 days, 1 below min_quality 40, "
        "1 not on a listed topic"
    )
    assert run("candidates").output.splitlines() == [why]
    listed = run("candidates", "--json")
    assert json.loads(listed.stdout) == [] and why in listed.stderr
    assert why in run("status").output.splitlines()
    doctor = run("doctor", ok=False).output  # Slack is not set up here
    assert f"warn candidates: {why}; see candidates: in {tmp_path / 'curator.yml'}" in doctor


def test_unscored_articles_are_candidates_by_default(run, tmp_path: Path, newsroom):
    """A Hugo repo has no quality score: following the README must give candidates."""
    hugo = "fields:\n  flag: draft\n  flag_style: draft\n  date: date\n"
    write_config(tmp_path, newsroom.remote, hugo)
    newsroom.write("post.md", "---\ntitle: A Hugo post\ndraft: true\ndate: 2026-11-30\n---\n")
    newsroom.write("live.md", "---\ntitle: Live\ndate: 2026-11-30\n---\n")
    newsroom.commit()
    run("scan")
    assert run("candidates").output.splitlines()[0] == " 1. [unscored] A Hugo post"


def test_candidates_escape_what_articles_hold(run, tmp_path: Path, newsroom):
    write_config(tmp_path, newsroom.remote)
    hostile = "Red \\e[31mtitle\\u202e"  # YAML escapes: ESC and a right-to-left override
    newsroom.write("a.md", article("x").replace('title: "x"', f'title: "{hostile}"'))
    newsroom.commit()
    run("scan")
    text = run("candidates").output
    assert "\x1b" not in text and "\u202e" not in text
    assert "[50] Red \\x1b[31mtitle\\u202e" in text
    listed = run("candidates", "--json").stdout
    assert "\u202e" not in listed
    assert json.loads(listed)[0]["title"] == "Red \x1b[31mtitle\u202e"
