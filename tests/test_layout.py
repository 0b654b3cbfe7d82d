"""storage/ stays a set of small modules whose imports run one way (issue 10, point 6)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

STORAGE = Path(__file__).resolve().parents[1] / "storage"
MAX_LINES = 400
# Split on another branch of issue 10 (every statement moves into storage/): drop at merge.
NOT_YET_SPLIT = {"publish.py"}


def _modules() -> dict[str, Path]:
    """Every module of storage/ by dotted name (a package by its own name), migrations aside."""
    found = {}
    for path in sorted(STORAGE.rglob("*.py")):
        rel = path.relative_to(STORAGE.parent).with_suffix("")
        if "migrations" in rel.parts:
            continue
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        found[".".join(parts)] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ``modules`` that ``path`` imports anywhere: at the top, inside a
    function or under TYPE_CHECKING. ``from a import b`` names ``a.b`` when that is one."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found & modules.keys()


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each import circle once, as the path from a module back to itself."""
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


@pytest.mark.parametrize("name", sorted(_modules()))
def test_no_module_is_over_400_lines(name: str) -> None:
    path = _modules()[name]
    if path.name in NOT_YET_SPLIT and path.parent == STORAGE:
        pytest.skip(f"{path.name} is split on another branch of issue 10")
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(STORAGE.parent)} has {lines} lines"


def test_storage_imports_run_one_way() -> None:
    """No import circle inside storage/, and nothing of bot/: storage is below it."""
    modules = _modules()
    graph = {name: _imports(path, modules) - {name} for name, path in modules.items()}
    assert _circles(graph) == []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] != "bot", f"{name} imports {node.module}"
            elif isinstance(node, ast.Import):
                assert all(a.name.split(".")[0] != "bot" for a in node.names), name


def test_the_circle_finder_finds_one() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d"}, "e": set()}
    assert sorted(map(sorted, _circles(graph))) == [["a", "a", "b", "c"], ["d", "d"]]


def test_the_frontmatter_parts_stand_in_order() -> None:
    """The package's parts import only those before them: reading never needs the edit."""
    modules = _modules()
    order = ["read", "lines", "fast_path", "changes", "render", "edit"]
    for n, part in enumerate(order):
        name = f"storage.frontmatter.{part}"
        later = {f"storage.frontmatter.{p}" for p in order[n + 1 :]} | {"storage.frontmatter"}
        assert not _imports(modules[name], modules) & later, name
