"""storage/ owns every database statement (issue 10, point 1): bot/ passes an engine, or a
storage.db transaction, on to storage functions, and never builds or runs a statement, nor
opens a connection itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[1] / "bot"
# What bot/ may import from SQLAlchemy: the engine's type, to pass it along.
ALLOWED = {("sqlalchemy.engine", "Engine"), ("sqlalchemy", "Engine")}
DATABASE_PACKAGES = ("sqlalchemy", "sqlmodel")
# Statement builders, called by their bare name once imported.
BUILDERS = {"select", "insert", "update", "delete", "text"}
# Methods that run a statement (``conn.execute(...)``) or build one off a table.
RUNNERS = {"execute", "scalar", "scalars", "exec_driver_sql", "select"}
# An engine's own ways in: bot/ uses storage.db.transaction and reading instead.
OPENERS = {"connect", "begin"}


def _is_database(module: str) -> bool:
    return module.split(".")[0] in DATABASE_PACKAGES


def _names_engine(node: ast.expr) -> bool:
    name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
    return name.endswith("engine")


def violations(source: str) -> list[str]:
    """What in ``source`` (one module of bot/) touches the database itself, line by line."""
    found = []
    for node in ast.walk(ast.parse(source)):
        where = f"line {getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            found += [f"{where}: import {a.name}" for a in node.names if _is_database(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.module and _is_database(node.module):
            found += [
                f"{where}: from {node.module} import {a.name}"
                for a in node.names
                if (node.module, a.name) not in ALLOWED
            ]
        elif isinstance(node, ast.Attribute) and node.attr == "__table__":
            found.append(f"{where}: __table__")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in BUILDERS:
                found.append(f"{where}: {func.id}(...)")
            elif isinstance(func, ast.Attribute) and func.attr in RUNNERS:
                on_super = (
                    isinstance(func.value, ast.Call)
                    and getattr(func.value.func, "id", None) == "super"
                )
                if not on_super:  # a class calling its base's method of the same name
                    found.append(f"{where}: .{func.attr}(...)")
            elif (
                isinstance(func, ast.Attribute)
                and func.attr in OPENERS
                and _names_engine(func.value)
            ):
                found.append(f"{where}: engine.{func.attr}()")
    return found


def _modules() -> list[Path]:
    return sorted(BOT.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(BOT.parent)))
def test_bot_runs_no_statement_of_its_own(path: Path) -> None:
    assert violations(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "source",
    [
        "from sqlalchemy import select",
        "from sqlalchemy import Connection",
        "from sqlalchemy.exc import SQLAlchemyError",
        "import sqlalchemy",
        "import sqlalchemy.engine as e",
        "from sqlmodel import Session",
        "from sqlalchemy.engine import Engine, make_url",
        "table = Post.__table__",
        "q = select(POST.c.id)",
        "q = insert(POST)",
        "q = update(POST)",
        "q = delete(POST)",
        "q = text('SELECT 1')",
        "rows = conn.execute(query)",
        "n = conn.scalar(query)",
        "ids = conn.scalars(query).all()",
        "q = table.select()",
        "with engine.connect() as conn: pass",
        "with rt.engine.begin() as conn: pass",
        "with self.engine.connect() as conn: pass",
    ],
)
def test_each_kind_of_violation_is_found(source: str) -> None:
    assert violations(source) != []


@pytest.mark.parametrize(
    "source",
    [
        "from sqlalchemy.engine import Engine",
        "from storage.db import Transaction, reading, transaction",
        "counts.update(scanned=1)",
        "blocks.insert(0, block)",
        "value = check.text(raw, 'content')",
        "super().execute()",
        "handler.connect()",
        "with reading(rt.engine) as tx: pass",
    ],
)
def test_what_bot_may_do_passes(source: str) -> None:
    assert violations(source) == []


def _storage_modules() -> list[Path]:
    storage = BOT.parent / "storage"
    return [p for p in sorted(storage.rglob("*.py")) if "migrations" not in p.parts]


def rows_handed_up(source: str) -> list[str]:
    """Public functions that say they return a SQLAlchemy row (or rows)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_") and node.returns:
            names = {n.id for n in ast.walk(node.returns) if isinstance(n, ast.Name)}
            names |= {n.attr for n in ast.walk(node.returns) if isinstance(n, ast.Attribute)}
            if names & {"Row", "CursorResult", "Result", "RowMapping"}:
                found.append(node.name)
    return found


@pytest.mark.parametrize("path", _storage_modules(), ids=lambda p: p.name)
def test_storage_hands_bot_records_not_rows(path: Path) -> None:
    """What storage reads reaches bot/ as its own records (storage/records.py), typed and
    free of the connection: bot/ never reads a column off a database row by name."""
    assert rows_handed_up(path.read_text(encoding="utf-8")) == []


def test_a_row_handed_up_is_found() -> None:
    source = "def post(conn) -> Row | None: ...\ndef _inner(conn) -> Row: ...\n"
    assert rows_handed_up(source) == ["post"]
