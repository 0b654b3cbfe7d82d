"""Issue 10, point 7: what `pip install` gives a newsroom runs on its own, outside the repo.

The wheel is built from a copy of the files git would commit (a build in place leaves `build/`
behind, and stale modules there slip into later wheels) with this venv's setuptools, so nothing
is fetched. pip installs it with `--no-deps` into a new venv in a temp dir; then a `.pth` file
puts this venv's site-packages on the new venv's path for the dependencies: no network, about
ten seconds for the module. The wheel's own files come first on that path, and a `.pth` line
runs no other `.pth`, so this checkout's editable install stays out (the second test proves it).
The commands run from other temp dirs with a fresh HOME and none of this environment.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.slack_standin import SlackStandIn

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Installed:
    """The product installed from its wheel in a venv of its own."""

    wheel: Path
    venv: Path
    root: Path
    env: dict[str, str]

    def run(self, *args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
        """Run ``curator ARGS`` from the venv's bin in ``cwd``; its output, checked."""
        cwd.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [str(self.venv / "bin" / "curator"), *args],
            cwd=cwd, env={**self.env, **(env or {})}, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout


def _copy_checkout(target: Path) -> None:
    """The files git would commit (tracked or new, not ignored), as they are on disk now."""
    listed = _check(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO
    )
    for name in filter(None, listed.split("\0")):
        if (REPO / name).is_file():  # a deleted file is still listed until it is staged
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target / name)


def _check(args: list[str | Path], **kwargs: object) -> str:
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    assert proc.returncode == 0, f"{args}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("wheel")
    source, dist, venv = root / "source", root / "dist", root / "venv"
    _copy_checkout(source)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    build = [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", dist, source]
    _check(build)
    (wheel,) = dist.glob("*.whl")
    _check([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    _check([*pip, "--python", python, "install", "--no-deps", "--no-index", wheel])
    purelib = _check([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
    # After the install, so pip never sees (nor offers to replace) this checkout's install.
    deps = Path(purelib.strip()) / "curator_test_dependencies.pth"
    deps.write_text("".join(f"{path}\n" for path in site.getsitepackages()), encoding="utf-8")
    home = root / "home"
    home.mkdir()
    env = {"PATH": f"{venv / 'bin'}{os.pathsep}{os.defpath}", "HOME": str(home), "LANG": "C.UTF-8"}
    return Installed(wheel, venv, root, env)


def test_the_wheel_holds_the_product_and_nothing_else(installed: Installed):
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    tops = {name.split("/")[0] for name in names} - {"bot", "storage"}
    assert len(tops) == 1 and tops.pop().endswith(".dist-info"), tops  # no tests/, bench/, ...
    assert {"bot/manifests/slack-app.yml", "bot/manifests/curator.example.yml"} <= names
    shipped = {
        path.relative_to(REPO).as_posix()
        for folder in ("bot", "storage")
        for path in (REPO / folder).rglob("*")
        if path.suffix in (".py", ".mako") and "__pycache__" not in path.parts
    }
    missing = sorted({str(Path(name).parent).replace("/", ".") for name in shipped - names})
    assert not missing, f"not in the wheel: add {missing} to packages in pyproject.toml"


def test_the_product_runs_from_the_wheel(installed: Installed):
    where = _check(
        [installed.venv / "bin" / "python", "-c", "import bot, storage; print(bot.__file__)"],
        cwd=installed.env["HOME"], env=installed.env,
    )  # fmt: skip
    assert Path(where.strip()).is_relative_to(installed.venv), where


def test_init_writes_the_example_config(installed: Installed):
    folder = installed.root / "init"
    out = installed.run("init", cwd=folder)
    assert "wrote" in out and "curator.yml" in out
    example = (REPO / "manifests" / "curator.example.yml").read_text(encoding="utf-8")
    assert (folder / "curator.yml").read_text(encoding="utf-8") == example


def test_manifest_prints_the_app_with_the_configured_command(installed: Installed):
    folder = installed.root / "manifest"
    installed.run("init", cwd=folder)
    config = folder / "curator.yml"
    config.write_text(config.read_text().replace("command: /digest", "command: /curate"))
    printed = yaml.safe_load(installed.run("manifest", cwd=folder))
    expected = yaml.safe_load((REPO / "manifests" / "slack-app.yml").read_text(encoding="utf-8"))
    for slash in expected["features"]["slash_commands"]:
        slash["command"] = "/curate"
    assert printed == expected


@pytest.fixture(scope="module")
def demo(installed: Installed) -> tuple[Path, str]:
    folder = installed.root / "demo"
    return folder, installed.run("demo", "--dir", str(folder), cwd=installed.root / "elsewhere")


def test_demo_prints_cards_a_digest_and_a_summary(demo: tuple[Path, str]):
    folder, out = demo
    assert (folder / "curator.db").is_file() and "16 articles, scanned into" in out
    cards = out.split("Today's candidate cards")[1].split("/digest")[0]
    assert "AI desk: what the bot posts to #ai-desk (2)" in cards
    assert "Cities write the first rules for buying AI systems" in cards
    assert "What cities must do to responsibly deploy facial recognition" in out  # the digest
    assert "Morning summary: posted to #curation" in out
    assert "Morning summary: posted to #newsroom" in out


def test_doctor_checks_scopes_against_the_shipped_manifest(
    installed: Installed, demo: tuple[Path, str], standin: SlackStandIn
):
    folder, _ = demo
    standin.users.update(UDEMOANNA="Anna", UDEMOBEN="Ben")  # the demo's editors: doctor asks
    standin.channels.update(CAIDESK="ai-desk", CNEWSROOM="newsroom")  # the demo's desks
    env = {"SLACK_API_URL": standin.url, "SLACK_BOT_TOKEN": "xoxb-test-not-real"}
    out = installed.run("-c", str(folder / "curator.yml"), "doctor", cwd=folder, env=env)
    assert "ok   slack scopes: every scope in the manifest is granted" in out, out
    assert "ok   slack channel: newsroom summary: #newsroom (CNEWSROOM)" in out, out
