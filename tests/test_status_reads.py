"""How ``curator status`` reads the database at scale (bench/candidates.py times it): the
cards taken back lately read without the thousands a newsroom rejects by votes alone; the
same lines as before. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import insert

from bot.cli.status import _recent, status_lines
from bot.config import Config, config_from_mapping
from storage import posts
from storage.models import Article, Post, Vote
from tests.test_candidate_reads import plan_of, statements
from tests.test_candidates import NOW

# (path, status, [(user, reaction, present)]): each card changed state a day ago.
CARDS = [
    ("vetoed.md", "rejected", [("UALICE", "white_check_mark", True), ("UDAVE", "no_entry", True)]),
    ("voted-down.md", "rejected", [("UALICE", "x", True), ("UBOB", "x", True)]),
    ("veto-withdrawn.md", "rejected", [("UDAVE", "no_entry", False), ("UBOB", "x", True)]),
    ("chief-voted-down.md", "rejected", [("UDAVE", "x", True), ("UBOB", "x", True)]),
    ("taken-back.md", "unpublished", [("UALICE", "white_check_mark", True)]),
    ("open.md", "open", [("UDAVE", "no_entry", True)]),
]


def _config(url: str, veto: bool) -> Config:
    votes = {"quorum": 2, "window_days": 3, **({"veto": ["no_entry"]} if veto else {})}
    return config_from_mapping(
        {"content": {"remote": "/dev/null/remote.git"},
         "slack": {"channel": "#curation", "editors": ["UALICE", "UBOB"], "chiefs": ["UDAVE"]},
         "votes": votes},
        path=None, env={"DATABASE_URL": url},
    )  # fmt: skip


def _cards(engine) -> None:
    with engine.begin() as conn:
        for i, (path, status, votes) in enumerate(CARDS, 1):
            conn.execute(
                insert(Article.__table__).values(
                    id=i, path=path, blob_sha="0" * 40, title=path, published=False,
                    dated=NOW - timedelta(days=2), first_seen_at=NOW, updated_at=NOW,
                )
            )  # fmt: skip
            at = NOW - timedelta(days=1)
            conn.execute(
                insert(Post.__table__).values(
                    id=i, article_id=i, channel="C1", desk="General", day="2026-11-24",
                    ts=f"1700000000.00000{i}", status=status, created_at=at - timedelta(hours=i),
                    status_changed_at=at + timedelta(minutes=i),
                )
            )  # fmt: skip
            for k, (user, reaction, present) in enumerate(votes):
                conn.execute(
                    insert(Vote.__table__).values(
                        post_id=i, user_id=user, reaction=reaction, present=present,
                        choice="reject", event_ts=f"1700000100.00000{k}", updated_at=at,
                    )
                )  # fmt: skip


def _decided_cards(engine, n: int) -> None:
    """``n`` more cards: the desk's rejected long ago, and another desk's open ones (each
    index but the one by state and desk reads hundreds); PostgreSQL's statistics then know."""
    first, at = len(CARDS) + 1, NOW - timedelta(days=30)
    with engine.begin() as conn:
        conn.execute(
            insert(Article.__table__),
            [dict(id=i, path=f"old/{i}.md", blob_sha="0" * 40, published=False,
                  first_seen_at=at, updated_at=at) for i in range(first, first + n)],
        )  # fmt: skip
        conn.execute(
            insert(Post.__table__),
            [dict(id=i, article_id=i, channel="C1", desk=("General", "Other")[i % 2],
                  day="2026-10-27", ts=f"1690000000.{i:06d}", status=("rejected", "open")[i % 2],
                  created_at=at, status_changed_at=at) for i in range(first, first + n)],
        )  # fmt: skip
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE post")
            conn.commit()


@pytest.fixture
def cards(engine):
    _cards(engine)
    return engine


def test_the_vetoed_and_the_unpublished_are_found_among_the_chiefs_cards_only(cards):
    """Only the rejected cards a chief voted on are read, with the chiefs' votes alone; the
    same cards as a tally of every vote of every rejected card finds."""
    config = _config(str(cards.url.render_as_string(hide_password=False)), veto=True)
    with statements(cards) as seen, cards.connect() as conn:
        recent = _recent(conn, config.default_desk, None, NOW)
    assert [(row.path, by) for row, by in recent] == [
        ("vetoed.md", ("UDAVE",)), ("taken-back.md", ()),
    ]  # fmt: skip
    (listed,) = [(s, p) for s, p in seen if "AS changed_at" in s]
    with cards.connect() as conn:  # the rows the report read: no card rejected by votes alone
        read = [row.path for row in conn.exec_driver_sql(*listed)]
    assert read == ["vetoed.md", "chief-voted-down.md", "taken-back.md"]  # a present vote
    votes = [(s, p) for s, p in seen if "FROM vote JOIN post" in s]
    with cards.connect() as conn:
        users = {row.user_id for s, p in votes for row in conn.exec_driver_sql(s, p)}
    assert users == {"UDAVE"}


def test_without_a_veto_no_rejected_card_and_no_vote_is_read(cards):
    config = _config(str(cards.url.render_as_string(hide_password=False)), veto=False)
    with statements(cards) as seen, cards.connect() as conn:
        recent = _recent(conn, config.default_desk, None, NOW)
    assert [(row.path, by) for row, by in recent] == [("taken-back.md", ())]
    assert not [s for s, _ in seen if "vote.user_id" in s]  # nobody's votes looked at
    (listed,) = [p for s, p in seen if "AS changed_at" in s]  # nor a rejected card's state
    assert "rejected" not in repr(listed)
    lines = status_lines(cards, config, NOW)
    assert any(line.endswith("; in the last 7 days 1 unpublished") for line in lines)
    assert not [line for line in lines if "vetoed" in line]


def test_a_desk_s_waiting_cards_are_counted_and_the_oldest_picked_from_their_own_index(cards):
    """A desk has tens of thousands of cards at scale: its waiting ones are counted, and
    the oldest few picked, from ranges of the index by state, desk and age (not every card
    of the desk read for its state); their articles are read for those few only."""
    statuses = ("open", "approved", "unpublishing")
    _decided_cards(cards, 500)
    with statements(cards) as seen, cards.connect() as conn:
        counted = posts.waiting_counts(conn, statuses=statuses, desk="General")
        listed = posts.waiting_posts(conn, statuses=statuses, desk="General", limit=1)
        every = posts.waiting_posts(conn, statuses=statuses, desk="General")
    assert counted == {"open": (1, 0)}
    assert [row.path for row in listed] == [row.path for row in every] == ["open.md"]
    count, pick, _ = seen
    with cards.connect() as conn:
        for statement, parameters in (count, pick):
            plan = plan_of(conn, statement, parameters)
            assert "ix_post_status_desk_created" in plan, plan
    # The pick is a query of post alone, inside the one that reads the articles.
    assert re.search(r"post\.id IN \(SELECT post\.id\s+FROM post\s+WHERE", pick[0])
