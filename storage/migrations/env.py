"""Alembic environment: runs on the connection that ``storage.migrate`` hands over."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.migration_only import include_object

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_object=include_object,  # what migration 0015 makes for one database only
)
with context.begin_transaction():
    context.run_migrations()
