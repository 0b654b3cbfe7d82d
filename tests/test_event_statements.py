"""The work behind an event, by its shape (bench/events.py times it): a vote and a card
refresh each read the card's post row once (counted in SQL statements), a burst of votes is
one look for the Home tabs, and the writers of one process queue for SQLite's write lock.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.engine import Engine

from bot.config import Config, config_from_mapping
from bot.slack import daily_post
from bot.slack import home as home_module
from bot.slack.card_message import refresh_cards
from bot.slack.client import make_client
from bot.slack.editors import editors_from
from bot.slack.home import HomeTabs
from bot.slack.voting import apply_reaction, reaction_of, record_votes, refresh_card
from storage.db import transaction
from storage.fields import FieldMap
from storage.home_readers import reader_opened
from storage.models import Post
from storage.pathfilter import PathFilter
from storage.scan import scan
from tests.helpers import Newsroom, article
from tests.slack_standin import BOT_USER, SlackStandIn
from tests.test_slack_loop import eventually

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
EDITORS = ("UALICE", "UBOB", "UCAROL")
CH = "CCURATION"
# A statement whose own table is ``post`` (a join from the vote table does not count).
ON_POST = re.compile(r"^\s*(SELECT\b.*?\bFROM post\b|UPDATE post\b)", re.S | re.I)
READERS = re.compile(r"^\s*SELECT\b.*?\bFROM home_reader\b", re.S | re.I)


@pytest.fixture
def config(tmp_path: Path, db_url: str, newsroom: Newsroom) -> Config:
    return config_from_mapping(
        {
            "content": {"remote": str(newsroom.remote)},
            "slack": {"channel": "#curation", "editors": list(EDITORS)},
            "votes": {"quorum": 3, "window_days": 3},
            "candidates": {"per_day": 1, "max_age_days": 100000},
        },
        path=tmp_path / "curator.yml",
        env={"DATABASE_URL": db_url},
    )


@pytest.fixture
def card(config, engine, standin: SlackStandIn, newsroom: Newsroom, content_repo) -> Post:
    """One card posted to the stand-in."""
    newsroom.write("a.md", article("Alpha", quality=90))
    newsroom.commit()
    content_repo.fetch()
    scan(engine, content_repo, FieldMap(), PathFilter())
    client = make_client("xoxb-test-token", standin.url)
    assert daily_post.post_day(engine, client, config, NOW).posted == 1
    with engine.connect() as conn:
        return conn.execute(select(Post.__table__)).one()


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL ``engine`` runs inside the block."""
    seen: list[str] = []

    def keep(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def vote(engine: Engine, config: Config, card: Post, user: str, at: str) -> bool:
    editors = editors_from(config)
    change = apply_reaction(
        engine,
        config,
        {
            "type": "reaction_added",
            "user": user,
            "reaction": "white_check_mark",
            "item": {"type": "message", "channel": card.channel, "ts": card.ts},
            "event_ts": at,
        },
        present=True,
        bot_user=BOT_USER,
        is_editor=lambda desk, u: editors.contains(desk, u, None),  # listed users: no Slack
    )
    return change is not None


def test_a_card_refresh_reads_its_post_once(card, config, engine, standin):
    client = make_client("xoxb-test-token", standin.url)
    with statements(engine) as seen:
        assert refresh_card(engine, client, config, card.id, NOW)
    assert len([s for s in seen if ON_POST.match(s)]) == 1, seen
    assert len(standin.called("chat.update")) == 1


def test_cards_refreshed_together_are_read_together(
    tmp_path, db_url, engine, standin, newsroom, content_repo
):
    """Cards due at once (CardRefresher's ``refresh_many``) are read in one transaction, a
    statement each for all of them: three cards cost the reads of one, and three sends."""
    config = config_from_mapping(
        {
            "content": {"remote": str(newsroom.remote)},
            "slack": {"channel": "#curation", "editors": list(EDITORS)},
            "candidates": {"per_day": 3, "max_age_days": 100000},
        },
        path=tmp_path / "curator.yml",
        env={"DATABASE_URL": db_url},
    )
    for name in ("a", "b", "c"):
        newsroom.write(f"{name}.md", article(name.upper(), quality=90, topics=("AI", "Policy")))
    newsroom.commit()
    content_repo.fetch()
    scan(engine, content_repo, FieldMap(), PathFilter())
    client = make_client("xoxb-test-token", standin.url)
    assert daily_post.post_day(engine, client, config, NOW).posted == 3
    with engine.connect() as conn:
        ids = list(conn.execute(select(Post.id).order_by(Post.id)).scalars())
    for post_id in ids:
        assert vote(engine, config, conn_card(engine, post_id), "UALICE", "1800000000.000100")
    with statements(engine) as one:
        refresh_cards(engine, client, config, ids[:1], NOW)
    with statements(engine) as three:
        refresh_cards(engine, client, config, ids, NOW)
    assert len(three) == len(one), three
    assert len([s for s in three if ON_POST.match(s)]) == 1, three
    updates = standin.called("chat.update")
    assert [u.params["ts"] for u in updates[-3:]] == [conn_card(engine, i).ts for i in ids]
    assert all("ALICE" in json.dumps(u.params["blocks"]) for u in updates[-3:])


def conn_card(engine: Engine, post_id: int) -> Post:
    with engine.connect() as conn:
        return conn.execute(select(Post.__table__).where(Post.id == post_id)).one()


def test_a_vote_locks_and_reads_its_card_in_one_statement(card, config, engine):
    assert vote(engine, config, card, "UALICE", "1800000000.000100")  # keeps the version
    with statements(engine) as seen:
        assert vote(engine, config, card, "UBOB", "1800000000.000200")
    # The row is locked and read at once; the version the first vote kept is not written
    # again. Then only the vote itself and the tally (quorum 3: no move yet).
    assert len([s for s in seen if ON_POST.match(s)]) == 1, seen
    assert len(seen) == 3, seen
    # A duplicate delivery changes nothing and goes no further than the upsert.
    with statements(engine) as seen:
        assert not vote(engine, config, card, "UBOB", "1800000000.000200")
    assert len(seen) == 2, seen


def test_a_burst_of_votes_is_one_transaction_with_each_vote_as_alone(card, config, engine):
    """The events thread records the votes waiting together: one commit for the burst, and
    each vote sees the ones before it (the third editor's vote approves, quorum 3)."""
    editors = editors_from(config)
    votes = [
        reaction_of(
            config,
            {
                "type": "reaction_added",
                "user": user,
                "reaction": "white_check_mark",
                "item": {"type": "message", "channel": card.channel, "ts": card.ts},
                "event_ts": f"1800000000.00{n}100",
            },
            present=True,
            bot_user=BOT_USER,
            is_editor=lambda desk, u: editors.contains(desk, u, None),
        )
        for n, user in enumerate(EDITORS)
    ]
    commits: list[object] = []

    def commit(conn: object) -> None:
        commits.append(conn)

    event.listen(engine, "commit", commit)
    try:
        changes = record_votes(engine, config, [v for v in votes if v is not None])
    finally:
        event.remove(engine, "commit", commit)
    assert len(commits) == 1
    assert [(c.old, c.new) for c in changes] == [("open", "open")] * 2 + [("open", "approved")]
    with engine.connect() as conn:
        assert conn.execute(select(Post.status)).scalar_one() == "approved"


def test_a_burst_of_votes_on_one_card_locks_reads_and_tallies_it_once(card, config, engine):
    """The card's row and its votes are read once and kept as the burst's votes change
    them: a withdrawn vote stops counting, the one that makes the quorum still moves the
    card, the version is kept once, a duplicate is not counted again; what the burst leaves
    is written once, whatever its length."""
    editors = editors_from(config)

    def reaction(user: str, n: int, present: bool = True) -> object:
        return reaction_of(
            config,
            {
                "type": "reaction_added" if present else "reaction_removed",
                "user": user,
                "reaction": "white_check_mark",
                "item": {"type": "message", "channel": card.channel, "ts": card.ts},
                "event_ts": f"1800000000.00{n}100",
            },
            present=present,
            bot_user=BOT_USER,
            is_editor=lambda desk, u: editors.contains(desk, u, None),
        )

    votes = [
        reaction("UALICE", 1), reaction("UBOB", 2), reaction("UALICE", 3, present=False),
        reaction("UCAROL", 4), reaction("UBOB", 2), reaction("UALICE", 5),
    ]  # fmt: skip
    with statements(engine) as seen:
        changes = record_votes(engine, config, [v for v in votes if v is not None])
    assert [(c.old, c.new) for c in changes] == [("open", "open")] * 4 + [("open", "approved")]
    touches = [s for s in seen if re.match(r"^\s*UPDATE post\b.*RETURNING", s, re.S | re.I)]
    reads = [s for s in seen if re.search(r"\bFROM vote\b", s, re.I)]
    versions = [s for s in seen if re.match(r"^\s*UPDATE post SET voted_hash", s, re.I)]
    writes = [s for s in seen if re.match(r"^\s*INSERT INTO vote\b", s, re.I)]
    assert (len(touches), len(reads), len(versions), len(writes)) == (1, 1, 1, 1), seen
    # Each vote tallied in memory as it would be alone, then written together: the votes'
    # rows in one statement and the card's move (its decision, its state) in two.
    assert len(seen) == 6, seen
    with engine.connect() as conn:
        assert conn.execute(select(Post.status)).scalar_one() == "approved"


def test_a_burst_of_votes_is_one_look_for_the_home_tabs(config, engine, standin):
    """Every vote pokes the Home tabs' watcher: the pokes of a burst wait out a settle and
    are seen by one look at the database (a lock and a read), not a look each."""
    home = HomeTabs(
        engine, config, make_client("xoxb-test-token", standin.url), editors_from(config),
        poll=3600, settle=3600,
    )  # fmt: skip
    with statements(engine) as seen:
        home.watch()

        def looks() -> int:
            return len([s for s in seen if READERS.match(s)])

        eventually(lambda: looks() == 1)  # its first look, at once
        for _ in range(10):
            home.poke()
            time.sleep(0.02)  # time enough for a look each, were they not settled
        assert looks() == 1, seen
        home.stop()  # a stop ends the settle: stop() waits for the watcher to end
    assert not home._watcher.is_alive()


def test_a_look_for_the_home_tabs_takes_its_lock_only_once_there_is_a_reader(
    config, engine, standin, monkeypatch
):
    """The lock of a look guards the refreshes it claims; with no reader there are none, and
    on PostgreSQL the lock is a connection made and closed at each look (every burst's)."""
    locks: list[str] = []
    real = home_module.run_lock

    def counted(engine_: Engine, name: str, **kw: object):  # type: ignore[no-untyped-def]
        locks.append(name)
        return real(engine_, name, **kw)

    monkeypatch.setattr(home_module, "run_lock", counted)
    home = HomeTabs(
        engine, config, make_client("xoxb-test-token", standin.url), editors_from(config),
        poll=3600, settle=0,
    )  # fmt: skip
    with statements(engine) as seen:
        home.watch()

        def looks() -> int:
            return len([s for s in seen if READERS.match(s)])

        eventually(lambda: looks() == 1)
        home.poke()
        eventually(lambda: looks() == 2)
        assert locks == []
        with transaction(engine) as tx:
            reader_opened(tx, user="UALICE", at=NOW)
        home.poke()
        eventually(lambda: locks == ["home"])
    home.stop()


def test_sqlite_writers_of_one_process_queue_for_each_other(engine):
    """Two listener threads voting at once on SQLite: the second waits for the first to
    commit on a lock that wakes it at once, not in SQLite's busy handler, which sleeps on
    however soon the database is free. PostgreSQL locks rows: neither waits there."""
    first_in, first_may_end, second_in = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with transaction(engine) as tx:
            tx.execute(update(Post.__table__).values(day="d"))  # the database's write lock
            first_in.set()
            first_may_end.wait(10)

    def second() -> None:
        with transaction(engine):
            second_in.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert first_in.wait(10)
    threads[1].start()
    sqlite = engine.dialect.name == "sqlite"
    assert second_in.wait(0 if sqlite else 10) is not sqlite
    if sqlite:
        time.sleep(0.2)  # time enough to begin, were it not queued
        assert not second_in.is_set()
    first_may_end.set()
    assert second_in.wait(10)
    for t in threads:
        t.join(10)
