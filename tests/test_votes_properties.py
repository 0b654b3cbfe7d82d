"""Any sequence of reaction events, duplicated and reordered, settles on the tally that the
final set of reactions implies."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine

from bot.config import Config, config_from_mapping
from bot.house_rules import vote_rules
from bot.rules.tally import closed_if_window_started_before, decide, tally, voting_closes
from bot.slack.voting import apply_reaction
from storage import migrate
from storage.db import make_engine
from storage.models import Article, Post, Vote
from storage.votes import reactions_of

USERS = ("UAAA", "UBBB", "UCCC")
EMOJI = ("white_check_mark", "+1", "x", "tada")  # tada is not a vote
PUBLISH, REJECT = {"white_check_mark", "+1"}, {"x"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, Config]:
    tmp: Path = tmp_path_factory.mktemp("votes")
    engine = make_engine(f"sqlite:///{tmp / 'votes.db'}")
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(insert(Article.__table__).values(id=1, path="a.md", blob_sha="0"))
        conn.execute(
            insert(Post.__table__).values(id=1, article_id=1, channel="C", ts="1.000000", day="d")
        )
    config = config_from_mapping(
        {
            "content": {"remote": str(tmp)},
            "slack": {"channel": "CVOTES", "editors": list(USERS)},
            "votes": {"publish": sorted(PUBLISH), "reject": sorted(REJECT), "quorum": 2},
        },
        path=tmp / "curator.yml",
        env={"DATABASE_URL": "sqlite://"},
    )
    return engine, config


events = st.lists(
    st.tuples(st.sampled_from(USERS), st.sampled_from(EMOJI), st.booleans()), max_size=25
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=events, data=st.data())
def test_tally_depends_only_on_the_final_reactions(world, history, data):
    engine, config = world
    with engine.begin() as conn:
        conn.execute(delete(Vote.__table__))
    timed = [
        (u, e, added, f"{1_800_000_000 + i}.000100") for i, (u, e, added) in enumerate(history)
    ]
    # Slack may deliver late, out of order, and more than once.
    delivered = data.draw(st.permutations(timed)) if timed else []
    if timed:
        delivered += data.draw(st.lists(st.sampled_from(timed), max_size=10))
    for user, emoji, added, ts in delivered:
        event = {
            "type": "reaction_added" if added else "reaction_removed",
            "user": user,
            "reaction": emoji,
            "item": {"type": "message", "channel": "C", "ts": "1.000000"},
            "event_ts": ts,
        }
        apply_reaction(
            engine, config, event, present=added, bot_user="UBOT", is_editor=lambda d, u: True
        )

    # What the message shows at the end, replaying the true order once.
    final: dict[tuple[str, str], tuple[bool, str]] = {}
    for user, emoji, added, ts in timed:
        final[(user, emoji)] = (added, ts)
    expected_publish, expected_reject = set(), set()
    for user in USERS:
        mine = [(ts, e) for (u, e), (on, ts) in final.items() if u == user and on and e != "tada"]
        if mine:
            _, latest = max(mine)
            (expected_publish if latest in PUBLISH else expected_reject).add(user)

    rules = vote_rules(config.default_desk)
    with engine.connect() as conn:
        got = tally(reactions_of(conn, post_id=1), rules)
    assert set(got.publish) == expected_publish
    assert set(got.reject) == expected_reject
    expected = type(got)(tuple(expected_publish), tuple(expected_reject))
    assert decide(got, rules) == decide(expected, rules)


def test_simultaneous_votes_tally_one_after_the_other(world, monkeypatch):
    """Two listener threads on one post: the second waits for the first to commit and tallies
    against the state it left (on SQLite too, where SELECT ... FOR UPDATE does nothing)."""
    import threading
    import time

    import bot.slack.voting as voting
    from storage.models import PostStatus

    engine, config = world
    config = replace(config, votes=replace(config.votes, quorum=1))
    with engine.begin() as conn:
        conn.execute(delete(Vote.__table__))
        conn.execute(Post.__table__.update().values(status=PostStatus.OPEN))
    holding, second_read, original = threading.Event(), threading.Event(), voting.find_post

    def interleaved(conn, **kw):
        """Both threads read the post before either writes, unless the lock stops that."""
        post = original(conn, **kw)
        if threading.current_thread().name == "first":
            holding.set()
            second_read.wait(1)  # with the lock, the second is still waiting: go on
        else:
            second_read.set()
            time.sleep(0.3)  # without it, the first commits "approved" meanwhile
        return post

    monkeypatch.setattr(voting, "find_post", interleaved)

    def vote(added: bool, ts: str) -> None:
        event = {
            "user": USERS[0], "reaction": "white_check_mark", "event_ts": ts,
            "item": {"type": "message", "channel": "C", "ts": "1.000000"},
        }  # fmt: skip
        apply_reaction(
            engine, config, event, present=added, bot_user="UBOT", is_editor=lambda d, u: bool(u)
        )

    first = threading.Thread(target=vote, args=(True, "1800000000.000100"), name="first")
    first.start()
    holding.wait(5)
    second = threading.Thread(target=vote, args=(False, "1800000001.000100"), name="second")
    second.start()
    first.join(10)
    second.join(10)
    with engine.connect() as conn:
        status = conn.execute(select(Post.__table__.c.status)).scalar_one()
        assert tally(reactions_of(conn, post_id=1), vote_rules(config.default_desk)).publish == ()
    assert status == PostStatus.OPEN  # added, then withdrawn: not approved with no votes


@given(
    window_days=st.integers(min_value=1, max_value=30),
    posted=st.datetimes(timezones=st.just(UTC)),
    now=st.datetimes(timezones=st.just(UTC)),
)
def test_a_card_closes_when_expiry_says_it_has(
    world: tuple[Engine, Config], window_days: int, posted: datetime, now: datetime
) -> None:
    """The card's "voting closes" line and the expire job read one window from the config:
    a card is past its window exactly when the expire job's cutoff takes it."""
    _, config = world
    config = replace(config, votes=replace(config.votes, window_days=window_days))
    rules = vote_rules(config.default_desk)
    assert rules.window == timedelta(days=window_days)
    try:
        closes, cutoff = voting_closes(posted, rules), closed_if_window_started_before(now, rules)
    except OverflowError:
        return  # beyond datetime's years, no card is posted
    assert (closes < now) == (posted < cutoff)


def test_a_tally_reads_each_emoji_once_however_many_reactions(monkeypatch):
    """A vote tallies its card again (each vote of a burst too): the choice an emoji
    stands for is worked out once per emoji, not once per reaction."""
    from bot.rules.tally import VoteRules
    from storage.votes import Reaction

    rules = VoteRules(frozenset({"white_check_mark"}), frozenset({"x"}), 2, timedelta(days=3))
    asked: list[str] = []
    choice = VoteRules.choice
    monkeypatch.setattr(VoteRules, "choice", lambda self, r: asked.append(r) or choice(self, r))
    reactions = [
        Reaction(f"U{n:02d}", emoji, True, f"1800000000.{n:06d}")
        for n, emoji in enumerate(["white_check_mark", "x", "eyes"] * 10)
    ]
    t = tally(reactions, rules)
    assert sorted(asked) == ["eyes", "white_check_mark", "x"]
    assert (len(t.publish), len(t.reject)) == (10, 10)
