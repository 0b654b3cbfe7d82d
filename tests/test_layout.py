"""bot/ and storage/ stay small modules whose imports run one way (issue 10, point 6):
none over 400 lines, no import circle anywhere (at the top, inside a function or under
TYPE_CHECKING), and storage/ never imports bot/."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "storage")
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    """Every module of bot/ and storage/ by dotted name (a package by its own name),
    migrations aside."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            if "migrations" in rel.parts:
                continue
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            found[".".join(parts)] = path
    return found


def _imported(node: ast.Import | ast.ImportFrom, name: str, path: Path) -> set[str]:
    """What one import statement names: ``import a.b`` names ``a.b``; ``from a import b``
    names ``a`` and ``a.b`` (which is a module or not); a relative import is resolved."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    module = node.module or ""
    if node.level:
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        base = package[: len(package) - node.level + 1]
        module = ".".join([*base, module] if module else base)
    return {module} | {f"{module}.{alias.name}" for alias in node.names}


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ``modules`` that ``path`` imports anywhere: at the top, inside a
    function or under TYPE_CHECKING."""
    name = next(n for n, p in modules.items() if p == path)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import | ast.ImportFrom):
            found |= _imported(node, name, path)
    return found & modules.keys()


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each import circle once, as the path from a module back to itself. Every graph with
    a circle gets at least one reported; fixing it shows the next."""
    circles, done = [], set()

    def visit(name: str, path: list[str]) -> None:
        for nxt in sorted(graph[name]):
            if nxt in path:
                circle = path[path.index(nxt) :]
                if frozenset(circle) not in done:
                    done.add(frozenset(circle))
                    circles.append([*circle, nxt])
            elif nxt not in seen:
                seen.add(nxt)
                visit(nxt, [*path, nxt])

    seen: set[str] = set()
    for name in sorted(graph):
        if name not in seen:
            seen.add(name)
            visit(name, [name])
    return circles


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


@pytest.mark.parametrize("name", sorted(_modules()))
def test_no_module_is_over_400_lines(name: str) -> None:
    path = _modules()[name]
    rel = path.relative_to(ROOT).as_posix()
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{rel} has {lines} lines"


def test_no_import_circles() -> None:
    """Imports run one way across bot/ and storage/, whether at the top of a module,
    inside a function or under TYPE_CHECKING: a circle hidden in a function is still one
    two modules that cannot be understood apart."""
    circles = [" -> ".join(circle) for circle in _circles(_graph())]
    assert circles == []


def test_storage_never_imports_bot() -> None:
    """storage/ is below bot/: it keeps things, bot/ decides what to keep."""
    modules = _modules()
    for name, path in modules.items():
        if not name.startswith("storage"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                named = _imported(node, name, path)
                assert all(n.split(".")[0] != "bot" for n in named), f"{name} imports {named}"


def _map_rows() -> tuple[tuple[str, ...], ...]:
    """The README's map ("How it works"), top to bottom: each row's places as module names
    (``bot/cli/`` is ``bot.cli``, ``bot/runtime.py`` is ``bot.runtime``)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("### The map", 1)[1].split("\n\n| ", 1)[1].split("\n\n", 1)[0]
    rows = []
    for line in table.splitlines()[2:]:  # past the header and its rule
        places = re.findall(r"`([^`]+)`", line.split(" | ", 1)[0])
        rows.append(tuple(p.removesuffix(".py").strip("/").replace("/", ".") for p in places))
    return tuple(rows)


# A room imports its own modules and the rooms below it on the map, never one above it or
# beside it in its row. The package ``bot`` itself is a docstring: it goes with the top row.
MAP = _map_rows()
LAYERS = ((*MAP[0], "bot"), *MAP[1:])


def test_the_map_is_read() -> None:
    assert LAYERS[0] == ("bot.__main__", "bot")
    assert ("bot.rules", "storage") in LAYERS and len(LAYERS) >= 6


def _room(name: str) -> str:
    """The room of a module: the longest name in LAYERS it is, or lies inside."""
    rooms = [room for layer in LAYERS for room in layer]
    return max((r for r in rooms if name == r or name.startswith(f"{r}.")), key=len)


def _against_the_map(graph: dict[str, set[str]]) -> list[str]:
    level = {room: n for n, layer in enumerate(LAYERS) for room in layer}
    wrong = []
    for name, imported in sorted(graph.items()):
        here = _room(name)
        for other in sorted(imported):
            there = _room(other)
            if there != here and level[there] <= level[here]:
                wrong.append(f"{name} imports {other}: {there} is not below {here}")
    return wrong


def test_imports_run_down_the_map() -> None:
    """Every module has a room on the README's map, and imports only rooms below its own."""
    modules = _modules()
    graph = {name: _imports(path, modules) - {name} for name, path in modules.items()}
    assert _against_the_map(graph) == []


def test_the_map_check_sees_an_import_up_or_sideways() -> None:
    graph = {
        "bot.rules.tally": {"bot.config.models"},  # up
        "bot.slack.voting": {"bot.publishing.job", "bot.rules.tally"},  # sideways, down
        "storage.posts": {"bot.clock.jobs"},  # up from the floor
    }
    assert _against_the_map(graph) == [
        "bot.rules.tally imports bot.config.models: bot.config is not below bot.rules",
        "bot.slack.voting imports bot.publishing.job: bot.publishing is not below bot.slack",
        "storage.posts imports bot.clock.jobs: bot.clock is not below storage",
    ]


def test_the_circle_finder_finds_one() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d"}, "e": set()}
    assert sorted(map(sorted, _circles(graph))) == [["a", "a", "b", "c"], ["d", "d"]]


def test_imports_anywhere_are_seen(tmp_path: Path) -> None:
    """A function-level, a TYPE_CHECKING and a relative import all count."""
    package = tmp_path / "bot" / "slack"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    source = package / "app.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from bot.slack.card_blocks import Card\n"
        "def build():\n    import bot.slack.voting\n"
        "from . import listeners\n"
    )
    modules = {
        name: package / f"{name.rsplit('.', 1)[-1]}.py"
        for name in (
            "bot.slack.app",
            "bot.slack.card_blocks",
            "bot.slack.voting",
            "bot.slack.listeners",
        )
    }
    assert _imports(source, modules) == {
        "bot.slack.card_blocks", "bot.slack.voting", "bot.slack.listeners",
    }  # fmt: skip


def test_the_frontmatter_parts_stand_in_order() -> None:
    """The package's parts import only those before them: reading never needs the edit."""
    modules = _modules()
    order = ["flat", "read", "head", "lines", "fast_path", "changes", "render", "edit"]
    for n, part in enumerate(order):
        name = f"storage.frontmatter.{part}"
        later = {f"storage.frontmatter.{p}" for p in order[n + 1 :]} | {"storage.frontmatter"}
        assert not _imports(modules[name], modules) & later, name
