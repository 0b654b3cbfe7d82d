"""Each ``curator`` command imports what it needs and no more (issue 10, point 8).

Not timed (bench/startup.py measures): what is imported is what costs, and it does not
depend on how busy the machine is. Each probe is a fresh interpreter that runs the command
and then writes down every module it has loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from bot.cli.lazy import load_command
from bot.cli.main import COMMANDS, cli
from tests.conftest import REPO_ROOT

# Runs ``curator ARGS...`` as the console script does, then writes sys.modules and the
# command's exit code to OUT.
PROBE = """
import json, sys
out, sys.argv = sys.argv[1], ["curator", *sys.argv[2:]]
from bot.cli.main import main
code = 0
try:
    main()
except SystemExit as exit:
    code = exit.code or 0
with open(out, "w") as f:
    json.dump({"code": code, "modules": sorted(sys.modules)}, f)
"""
# What a command list needs none of: each takes from a tenth to half a second to import.
HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "slack_bolt", "slack_sdk", "apscheduler",
         "pydantic", "yaml")  # fmt: skip


def loaded_by(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> set[str]:
    out = tmp_path / "modules.json"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CURATOR_", "SLACK_"))}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), *args],
        cwd=REPO_ROOT, env={**clean, **(env or {})}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(out.read_text())
    # a command that failed early would load little, and pass every check below
    assert seen["code"] == 0, proc.stderr
    return set(seen["modules"])


def packages(modules: set[str], *names: str) -> set[str]:
    """Those of ``modules`` that are ``names`` or inside them."""
    return {m for m in modules if any(m == n or m.startswith(f"{n}.") for n in names)}


def test_help_imports_no_command(tmp_path: Path):
    modules = loaded_by(tmp_path, "--help")
    assert packages(modules, *HEAVY) == set()
    assert packages(modules, "bot") <= {
        "bot", "bot.cli", "bot.cli.main", "bot.cli.lazy", "bot.cli.context", "bot.cli.logs",
        "bot.cli.output",
    }  # fmt: skip


@pytest.mark.parametrize("command", ["init", "db", "status", "digest"])
def test_a_commands_own_help_imports_only_its_module(tmp_path: Path, command: str):
    """Asking a command for its options loads its module, not what it runs: a usage error or
    ``--help`` goes out as click says it, without the outage rules (SQLAlchemy, slack_sdk)."""
    modules = loaded_by(tmp_path, command, "--help")
    assert packages(modules, *HEAVY) == set()
    assert "bot.outages" not in modules


def test_status_imports_neither_bolt_nor_the_scheduler(tmp_path: Path):
    """``status`` needs the config, the database and the cron arithmetic; not Slack's
    libraries (it calls no Slack), not a running scheduler, not Alembic once the schema is
    current, not another database's dialect."""
    config = tmp_path / "curator.yml"
    config.write_text(
        f"content:\n  remote: {tmp_path / 'remote'}\n"
        'slack:\n  channel: "#curation"\n  editors: [U0EDITOR1]\n'
    )
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'curator.db'}"}
    loaded_by(tmp_path, "-c", str(config), "db", "upgrade", env=env)
    modules = loaded_by(tmp_path, "-c", str(config), "status", env=env)
    assert "bot.cli.status" in modules and "apscheduler.triggers.cron" in modules
    assert packages(modules, "slack_bolt", "slack_sdk", "apscheduler.schedulers",
                    "apscheduler.executors", "alembic", "mako",
                    "sqlalchemy.dialects.postgresql") == set()  # fmt: skip


def test_lazy_table_names_each_command_with_its_own_help():
    """``--help`` lists the commands from the table in ``bot.cli.main``; each line there is
    the first sentence of the command's own help, so the list reads as if each was loaded."""
    for name, lazy in COMMANDS.items():
        command = load_command(lazy.path)
        assert command.name == name
        stand_in = click.Command(name, help=lazy.short_help)
        for limit in (20, 45, 60, 200):
            assert stand_in.get_short_help_str(limit) == command.get_short_help_str(limit), name


def test_every_command_runs_through_the_lazy_group():
    ctx = click.Context(cli)
    assert cli.list_commands(ctx) == sorted(COMMANDS)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert isinstance(command, click.Command) and command.name == name
    assert cli.get_command(ctx, "no-such-command") is None


def test_load_command_refuses_what_is_not_a_command():
    with pytest.raises(TypeError, match="not a click command"):
        load_command("bot.cli.main:COMMANDS")
