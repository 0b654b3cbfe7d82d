"""This database's installation id: a uuid made once and kept in the database.

The bot's Slack cards carry it in their metadata, so that a resumed post adopts only the
cards this database posted: not those of another database posting to the same channel
(staging beside production) or of the database this one replaced.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.engine import Engine

from storage.db import dialect_insert
from storage.models import Installation, utcnow

INSTALLATION = Installation.__table__


def installation_id(engine: Engine) -> str:
    """The id, made on first use; processes that make it at once all get the one kept."""
    query = select(INSTALLATION.c.uuid).where(INSTALLATION.c.id == 1)
    with engine.begin() as conn:
        found = conn.scalar(query)
        if found is None:
            conn.execute(
                dialect_insert(conn, INSTALLATION)
                .values(id=1, uuid=uuid.uuid4().hex, created_at=utcnow())
                .on_conflict_do_nothing(index_elements=["id"])
            )
            found = conn.scalar(query)
    assert found is not None
    return str(found)
