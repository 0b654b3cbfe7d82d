"""Many rows into one table through the driver's own executemany, as plain tuples.

SQLAlchemy builds each row's parameters through its compiled statement, one dict at a time;
for the tens of thousands of rows of a full scan that cost more than the database's own work
on them. Here the statement is compiled once per table, columns and dialect, each value goes
through its column type's bind processor (a datetime becomes SQLite's text, as SQLAlchemy
would write it), and the rows go to ``executemany`` as they are.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, insert
from sqlalchemy.engine import Dialect


def bulk_insert(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert ``rows``, each a tuple of values in ``columns`` order."""
    sql, positional, processors = _compiled(table, tuple(columns), conn.dialect)
    if processors:
        rows = [
            tuple(v if (p := processors[i]) is None or v is None else p(v) for i, v in enumerate(r))
            for r in rows
        ]
    params: list[Any] = (
        list(rows) if positional else [dict(zip(columns, r, strict=True)) for r in rows]
    )
    conn.exec_driver_sql(sql, params)


@functools.lru_cache(maxsize=32)
def _compiled(
    table: Table, columns: tuple[str, ...], dialect: Dialect
) -> tuple[str, bool, list[Callable[[Any], Any] | None]]:
    """The INSERT's text, whether the driver takes tuples, and each column's processor."""
    compiled = insert(table).compile(dialect=dialect, column_keys=list(columns))
    # The driver takes values in the order of the statement's parameters, or by their names.
    names = list(compiled.positiontup or ()) if compiled.positional else sorted(compiled.binds)
    if names != (list(columns) if compiled.positional else sorted(columns)):
        raise ValueError(f"{table.name}: the INSERT's parameters are {names}, not {columns}")
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    ]
    return compiled.string, compiled.positional, processors if any(processors) else []
