"""Whether the database's schema is at the newest migration, asked without Alembic.

Every command that opens the database first checks its schema. Importing Alembic for that
takes a good part of a second (its DDL for every database, Mako, Pygments), and on every
start but the first the answer is "up to date". This reads the two facts directly: the
revision recorded in ``alembic_version``, and the newest revision named by the migration
files themselves. When they agree the schema is current; in any other case, or when either
cannot be read, the caller asks Alembic (``storage.migrate``), which decides as always.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

VERSIONS = Path(__file__).resolve().parent / "migrations" / "versions"
VERSION_TABLE = "alembic_version"  # Alembic's default, which storage.migrate keeps
# The lines Alembic writes at the top of every migration: revision: str = "0007"
_LINE = re.compile(r'^(down_revision|revision)\b[^=\n]*=\s*(?:"([^"\n]*)"|None)\s*$', re.M)


def newest_revision() -> str | None:
    """The revision no migration builds on, from the files' own ``revision`` and
    ``down_revision`` lines; None when they do not make one line of history."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in VERSIONS.glob("*.py"):
        lines = dict(m.groups() for m in _LINE.finditer(path.read_text(encoding="utf-8")))
        if not lines.get("revision") or "down_revision" not in lines:
            return None  # not a file as Alembic writes them: let Alembic read it
        revisions.add(lines["revision"])
        if lines["down_revision"]:
            parents.add(lines["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def recorded_revisions(engine: Engine) -> list[str]:
    """The revisions ``alembic_version`` holds: none for a database never migrated."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return []
        return list(conn.scalars(text(f"SELECT version_num FROM {VERSION_TABLE}")))


def schema_is_current(engine: Engine) -> bool:
    """True when the database is known to be at the newest migration; False means "ask
    Alembic", not "behind"."""
    newest = newest_revision()
    return newest is not None and recorded_revisions(engine) == [newest]
