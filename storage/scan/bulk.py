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
        # Only the few columns with a processor (timestamps; booleans on SQLite) are touched;
        # a value seen in the column before (the batch's one `now`) is processed once.
        done: dict[tuple[int, int], Any] = {}
        converted = []
        for row in rows:
            values = list(row)
            for i, process in processors:
                value = values[i]
                if value is not None:
                    key = (i, id(value))  # per column: each has its own processor
                    if key not in done:
                        done[key] = (value, process(value))  # held: the id stays its own
                    values[i] = done[key][1]
            converted.append(tuple(values))
        rows = converted
    params: list[Any] = (
        list(rows) if positional else [dict(zip(columns, r, strict=True)) for r in rows]
    )
    conn.exec_driver_sql(sql, params)


@functools.lru_cache(maxsize=32)
def _compiled(
    table: Table, columns: tuple[str, ...], dialect: Dialect
) -> tuple[str, bool, list[tuple[int, Callable[[Any], Any]]]]:
    """The INSERT's text, whether the driver takes tuples, and (index, processor) of the
    columns that have one."""
    compiled = insert(table).compile(dialect=dialect, column_keys=list(columns))
    # The driver takes values in the order of the statement's parameters, or by their names.
    names = list(compiled.positiontup or ()) if compiled.positional else sorted(compiled.binds)
    if names != (list(columns) if compiled.positional else sorted(columns)):
        raise ValueError(f"{table.name}: the INSERT's parameters are {names}, not {columns}")
    processors = [
        (i, process)
        for i, name in enumerate(columns)
        if (process := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
    ]
    return compiled.string, compiled.positional, processors
