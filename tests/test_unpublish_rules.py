"""The pure rules of unpublish and veto (bot/rules/tally.py): plain data in, a state out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.rules import states
from bot.rules.tally import VoteRules, next_status, tally

RULES = VoteRules(
    frozenset({"white_check_mark"}), frozenset({"x"}), 2, timedelta(days=3),
    unpublish=frozenset({"rewind"}), veto=frozenset({"no_entry"}), chiefs=frozenset({"UCHIEF"}),
)  # fmt: skip


@dataclass(frozen=True)
class R:
    user: str
    reaction: str
    event_ts: str
    present: bool = True


def test_a_chiefs_veto_rejects_whatever_the_votes_and_only_a_chiefs():
    yes = [R("UA", "white_check_mark", "1.1"), R("UB", "white_check_mark", "1.2")]
    assert next_status(states.OPEN, tally(yes, RULES), RULES) == states.APPROVED
    vetoed = tally([*yes, R("UCHIEF", "no_entry", "1.3")], RULES)
    assert vetoed.veto == ("UCHIEF",) and vetoed.publish == ("UA", "UB")
    for current in (states.OPEN, states.APPROVED, states.BLOCKED, states.REJECTED):
        assert next_status(current, vetoed, RULES) == states.REJECTED
    assert next_status(states.PUBLISHED, vetoed, RULES) == states.PUBLISHED  # too late
    not_a_chief = tally([*yes, R("UA", "no_entry", "1.3")], RULES)
    assert not_a_chief.veto == () and not_a_chief.publish == ("UA", "UB")
    taken_off = tally([*yes, R("UCHIEF", "no_entry", "1.4", present=False)], RULES)
    assert next_status(states.REJECTED, taken_off, RULES) == states.APPROVED
    no_veto = VoteRules(RULES.publish, RULES.reject, 2, RULES.window, chiefs=RULES.chiefs)
    assert (
        next_status(
            states.APPROVED, tally([*yes, R("UCHIEF", "no_entry", "1.3")], no_veto), no_veto
        )
        == states.APPROVED
    )


def test_a_quorum_of_unpublish_votes_moves_only_a_published_card_and_nothing_after():
    votes = [R("UA", "white_check_mark", "1.1"), R("UB", "white_check_mark", "1.2")]
    one = tally([*votes, R("UA", "rewind", "2.1")], RULES)
    assert one.unpublish == ("UA",) and one.publish == ("UA", "UB")  # apart from the vote
    assert next_status(states.PUBLISHED, one, RULES) == states.PUBLISHED
    two = tally([*votes, R("UA", "rewind", "2.1"), R("UB", "rewind", "2.2")], RULES)
    assert next_status(states.PUBLISHED, two, RULES) == states.UNPUBLISHING
    assert next_status(states.APPROVED, two, RULES) == states.APPROVED
    for final in (states.UNPUBLISHING, states.UNPUBLISHED):
        assert next_status(final, tally([], RULES), RULES) == final
        assert next_status(final, two, RULES) == final
