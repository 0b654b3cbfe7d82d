"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import dataclasses

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from storage import migrate
from storage.db import make_engine
from storage.migration_only import include_object
from storage.schema_version import newest_revision, recorded_revisions, schema_is_current


# SQLite cannot reflect an index on an expression (ix_article_on_offer_by_age), so Alembic
# compares it on PostgreSQL only.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_upgrade_matches_models(db_url: str):
    engine = make_engine(db_url)
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == [], f"models and migrations disagree; write a migration: {diff}"
    migrate.upgrade(engine)  # a second upgrade is a no-op
    engine.dispose()


def test_schema_version_agrees_with_alembic(db_url: str):
    """The check every command makes before it opens the database, without Alembic: current
    only when Alembic would say so."""
    assert newest_revision() == migrate.head_revision()
    engine = make_engine(db_url)
    assert recorded_revisions(engine) == []
    assert not schema_is_current(engine)
    migrate.upgrade(engine, "0006")  # one behind
    assert recorded_revisions(engine) == [migrate.current_revision(engine)] == ["0006"]
    assert not schema_is_current(engine)
    migrate.upgrade(engine)
    assert recorded_revisions(engine) == [migrate.head_revision()]
    assert schema_is_current(engine)
    engine.dispose()


def test_sqlite_uses_wal(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_cards_from_before_desks_join_the_default_desk(db_url: str, tmp_path):
    """Migration 0008 gives every card a desk: the ones it finds have none until the bot
    starts with a config, which knows its default desk; a card of a removed desk joins it."""
    from sqlalchemy import text

    from bot.config import Config, ContentConfig, Desk, SlackConfig
    from bot.runtime import build_runtime

    engine = make_engine(db_url)
    migrate.upgrade(engine, "0007")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO article (id, path, blob_sha, first_seen_at, updated_at) "
                          "VALUES (1, 'a.md', 'x', '2026-11-30', '2026-11-30'), "
                          "(2, 'b.md', 'y', '2026-11-30', '2026-11-30')"))  # fmt: skip
        conn.execute(text("INSERT INTO post (id, article_id, channel, day, status, "
                          "status_changed_at, created_at) VALUES (1, 1, 'C1', '2026-11-30', "
                          "'open', '2026-11-30', '2026-11-30')"))  # fmt: skip
    migrate.upgrade(engine)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT desk FROM post")).scalar_one() is None
        conn.execute(text("INSERT INTO post (id, article_id, channel, desk, day, status, "
                          "status_changed_at, created_at) VALUES (2, 2, 'C2', 'Gone', "
                          "'2026-11-30', 'open', '2026-11-30', '2026-11-30')"))  # fmt: skip
    config = Config(
        content=ContentConfig(remote=str(tmp_path / "remote"), checkout=tmp_path / "clone"),
        slack=SlackConfig(channel="#curation", editors=("U0A",)),
        database_url=db_url,
        desks=(
            Desk(name="AI", channel="#ai", topics=("AI",)),
            Desk(name="General", channel="#curation"),
        ),
    )
    build_runtime(config).engine.dispose()
    with engine.connect() as conn:
        desks = conn.execute(text("SELECT id, desk FROM post ORDER BY id")).all()
    assert [tuple(row) for row in desks] == [(1, "General"), (2, "General")]
    # A desk renamed in case keeps its cards; a card of a removed desk joins the desk whose
    # channel it was posted in (a channel configured by ID), before the default desk.
    with engine.begin() as conn:
        conn.execute(text("UPDATE post SET desk = 'ai' WHERE id = 1"))
        conn.execute(text("UPDATE post SET desk = 'Gone', channel = 'C0SCI' WHERE id = 2"))
    science = Desk(name="Science", channel="C0SCI", topics=("Science",))
    renamed = dataclasses.replace(config, desks=(config.desks[0], science, config.desks[1]))
    build_runtime(renamed).engine.dispose()
    with engine.connect() as conn:
        desks = conn.execute(text("SELECT id, desk FROM post ORDER BY id")).all()
    assert [tuple(row) for row in desks] == [(1, "AI"), (2, "Science")]
    engine.dispose()


def test_cards_sent_back_before_the_upgrade_keep_their_window_and_reminders(db_url: str):
    """Migrations 0013 and 0014 on a card already sent back to a vote (votes_since, a Slack
    timestamp): its window starts at the change, not at its posting (or the first expire
    run would close it), and a reminder claimed since the change counts for the round it is
    in (or its editor would be reminded twice), one claimed before for the first round."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import DateTime, bindparam, text

    from storage.models import as_utc
    from storage.posts import post_by_id
    from storage.reminders import reminded

    posted = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    changed = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    at = bindparam("at", type_=DateTime(timezone=True))
    engine = make_engine(db_url)
    migrate.upgrade(engine, "0011")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO article (id, path, blob_sha, first_seen_at, updated_at) "
                          "VALUES (1, 'a.md', 'x', '2026-11-20', '2026-11-20'), "
                          "(2, 'b.md', 'y', '2026-11-20', '2026-11-20')"))  # fmt: skip
        add_post = text("INSERT INTO post (id, article_id, channel, ts, day, status, "
                        "status_changed_at, created_at, votes_since) VALUES (:id, :id, 'C1', "
                        ":ts, '2026-11-20', 'open', :at, :at, :since)").bindparams(at)  # fmt: skip
        for post_id, since in ((1, f"{changed.timestamp():.6f}"), (2, None)):
            conn.execute(add_post, {"id": post_id, "ts": f"1.{post_id}", "at": posted,
                                    "since": since})  # fmt: skip
        for post_id, user, when in (
            (1, "UAFTER", changed + timedelta(hours=1)),
            (1, "UBEFORE", changed - timedelta(hours=1)),
            (2, "UAFTER", changed + timedelta(hours=1)),
        ):
            conn.execute(text("INSERT INTO reminder (post_id, user_id, claimed_at, sent_at) "
                              "VALUES (:post_id, :user, :at, :at)").bindparams(at),
                         {"post_id": post_id, "user": user, "at": when})  # fmt: skip
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert as_utc(post_by_id(conn, post_id=1).voting_from) == changed
        assert as_utc(post_by_id(conn, post_id=2).voting_from) == posted
        # Reminded in the round each card is in now: not UBEFORE, who heard of the first.
        assert reminded(conn, post_ids=[1, 2]) == {(1, "UAFTER"), (2, "UAFTER")}
    engine.dispose()
