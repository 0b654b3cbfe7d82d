"""The schema objects migrations make that the models cannot describe.

Indexes with a sort order, included columns or for one database only (migration 0017's
``ix_post_best`` and SQLite's covering ``ix_post_scope``), and ``url_twin``, a table only
triggers write (migration 0020, ``storage.url_twins``): Alembic's comparison of the models
with the schema (``curator db revision``, tests/test_migrations.py) leaves them out rather
than report them as extra.
"""

from __future__ import annotations

from typing import Any

MIGRATION_ONLY = frozenset({"ix_post_best", "ix_post_scope", "url_twin"})


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic's hook: the comparison of models and schema skips :data:`MIGRATION_ONLY`."""
    return name is None or name not in MIGRATION_ONLY
