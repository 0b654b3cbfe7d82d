"""Shared fixtures: real databases (SQLite and PostgreSQL) and real git repositories."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from storage import migrate
from storage.db import make_engine
from storage.gitrepo import ContentRepo
from tests.helpers import Newsroom
from tests.slack_standin import SlackStandIn

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
SAMPLE = SHARED / "samples" / "nlc-facial-recognition.md"
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_available() -> bool:
    if os.environ.get("CURATOR_SKIP_POSTGRES"):
        return False
    try:
        engine = make_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


POSTGRES = _postgres_available()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each backend; PostgreSQL gets a schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'curator.db'}"
        return
    if not POSTGRES:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated database."""
    eng = make_engine(db_url)
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    """A local stand-in for Slack's Web API (tests that need users or groups override it)."""
    s = SlackStandIn().start()
    yield s
    s.stop()


@pytest.fixture
def newsroom(tmp_path: Path) -> Newsroom:
    return Newsroom(tmp_path)


@pytest.fixture
def content_repo(newsroom: Newsroom, tmp_path: Path) -> ContentRepo:
    """The bot's private clone of the newsroom's remote."""
    return ContentRepo(tmp_path / "bot-clone.git", str(newsroom.remote), newsroom.branch)
