"""The installation id: made once, kept, the same for every process on the database."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from storage.db import make_engine
from storage.installation import INSTALLATION, installation_id


def test_made_once_and_kept(engine: Engine, db_url: str):
    engines = [make_engine(db_url) for _ in range(4)]
    try:
        with ThreadPoolExecutor(4) as pool:  # first use from several processes at once
            ids = set(pool.map(installation_id, engines))
        assert len(ids) == 1 and len(ids.pop()) == 32
        assert installation_id(engine) == installation_id(engines[0])
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(INSTALLATION)) == 1
    finally:
        for e in engines:
            e.dispose()
