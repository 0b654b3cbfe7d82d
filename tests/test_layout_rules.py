"""The rules stand apart (issue 10, point 2): bot/rules/ is plain functions over plain data,
importing nothing else from bot/ and nothing from storage/, and the rules are built from the
config in one place."""

from __future__ import annotations

import ast
from dataclasses import fields
from pathlib import Path

import pytest

from bot.rules import candidates, states, tally
from storage.articles import ArticleView
from storage.models import PostStatus
from storage.votes import Reaction

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "bot" / "rules"
# Each rule (or Slack-facing helper) built from config, and the one module that builds it.
BUILDERS = {
    "VoteRules": ("vote_rules", "bot/house_rules.py"),
    "CandidateRules": ("candidate_rules", "bot/house_rules.py"),
    "Editors": ("editors_from", "bot/slack/editors.py"),
}


def _imported(tree: ast.AST, module: str) -> list[tuple[int, str]]:
    """(line, dotted name) of every import anywhere in ``tree``: at the top, inside a
    function or under TYPE_CHECKING; relative ones resolved against ``module``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".")[: -node.level]
                base = ".".join([*package, base] if base else package)
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def rule_violations(source: str, module: str) -> list[str]:
    """What a rules module imports that it must not: bot.* outside bot.rules, or storage."""
    bad = []
    for line, name in _imported(ast.parse(source), module):
        top = name.split(".")
        outside_rules = top[0] == "bot" and top[:2] != ["bot", "rules"]
        if outside_rules or top[0] == "storage":
            bad.append(f"{module}:{line} imports {name}")
    return sorted(set(bad))


def _rules_modules() -> list[Path]:
    return sorted(RULES.rglob("*.py"))


@pytest.mark.parametrize("path", _rules_modules(), ids=lambda p: p.name)
def test_rules_import_nothing_else_from_bot_and_nothing_from_storage(path: Path) -> None:
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    assert rule_violations(path.read_text(encoding="utf-8"), module) == []


@pytest.mark.parametrize(
    "source",
    [
        "from storage.models import PostStatus",
        "import storage.votes",
        "from bot.config import Config",
        "from bot import config",
        "from .. import publishing",
        "def f():\n    from bot.slack.card_message import vote_rules",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from storage.articles import A",
    ],
)
def test_the_check_catches_every_kind_of_import(source: str) -> None:
    assert rule_violations(source, "bot.rules.example") != []


def test_the_check_lets_rules_import_each_other() -> None:
    source = "from bot.rules.states import OPEN\nfrom . import tally\nimport datetime"
    assert rule_violations(source, "bot.rules.example") == []


def _bot_sources() -> dict[str, ast.AST]:
    return {
        path.relative_to(ROOT).as_posix(): ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted((ROOT / "bot").rglob("*.py"))
    }


def test_rules_are_built_from_config_in_one_place() -> None:
    """Each builder is defined once, and only its module calls the constructor (the rules
    themselves and tests may build any rules they like)."""
    defined: dict[str, list[str]] = {}
    built: dict[str, list[str]] = {}
    for where, tree in _bot_sources().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                defined.setdefault(node.name, []).append(where)
            elif isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if name in BUILDERS:
                    built.setdefault(name, []).append(f"{where}:{node.lineno}")
    for cls, (builder, home) in BUILDERS.items():
        assert defined.get(builder) == [home], f"{builder} defined in {defined.get(builder)}"
        calls = built.get(cls, [])
        assert calls and all(c.startswith(f"{home}:") for c in calls), f"{cls}(...) in {calls}"


def test_rule_states_are_the_words_storage_keeps() -> None:
    """bot/ names a post's state by the rules' words: they are every word storage keeps."""
    words = {v for k, v in vars(states).items() if k.isupper() and isinstance(v, str)}
    assert words == set(states.ALL) == {s.value for s in PostStatus}


@pytest.mark.parametrize(
    ("protocol", "row"), [(tally.Reaction, Reaction), (candidates.Article, ArticleView)]
)
def test_storage_rows_have_what_the_rules_read(protocol: type, row: type) -> None:
    wanted = {n for n, v in vars(protocol).items() if isinstance(v, property)}
    assert wanted and wanted <= {f.name for f in fields(row)}
