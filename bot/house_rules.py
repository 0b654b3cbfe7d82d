"""The newsroom's rules as its config sets them: the one place rules are built from config.

The rules themselves (``bot.rules``) take plain data and know nothing of the config file;
everything that needs a rule asks here, so a setting means the same everywhere it is used.
Votes and candidates are a desk's: each desk has its own (``Config.desks``).
"""

from __future__ import annotations

from datetime import timedelta

from bot.config import Config, Desk
from bot.rules.candidates import CandidateRules
from bot.rules.desks import Route
from bot.rules.tally import VoteRules


def vote_rules(desk: Desk) -> VoteRules:
    """``desk``'s vote rules, built once per desk: every event asks for them (each desk's, to
    know whether it is a vote) and every vote again."""
    kept = _VOTE_RULES.get(id(desk))
    if kept is not None and kept[0] is desk:  # the desk is kept too: its id is not reused
        return kept[1]
    v = desk.votes
    rules = VoteRules(
        frozenset(v.publish), frozenset(v.reject), v.quorum, timedelta(days=v.window_days),
        unpublish=frozenset(v.unpublish), veto=frozenset(v.veto), chiefs=frozenset(desk.chiefs),
    )  # fmt: skip
    if len(_VOTE_RULES) >= _KEPT_DESKS:  # configs loaded again and again (tests): start over
        _VOTE_RULES.clear()
    _VOTE_RULES[id(desk)] = (desk, rules)  # one item set whole: safe across threads
    return rules


_VOTE_RULES: dict[int, tuple[Desk, VoteRules]] = {}
_KEPT_DESKS = 256


def routes(config: Config) -> tuple[Route, ...]:
    """Every desk in config order, as routing reads them."""
    return tuple(Route.of(desk.name, desk.topics) for desk in config.desks)


def candidate_rules(config: Config, desk: Desk) -> CandidateRules:
    c = desk.candidates
    return CandidateRules(
        per_day=c.per_day, min_quality=c.min_quality, max_age_days=c.max_age_days,
        topics=tuple(c.topics), require_score=c.require_score, desk=desk.name,
        routes=routes(config),
    )  # fmt: skip
