"""The newsroom's rules as its config sets them: the one place rules are built from config.

The rules themselves (``bot.rules``) take plain data and know nothing of the config file;
everything that needs a rule asks here, so a setting means the same everywhere it is used.
"""

from __future__ import annotations

from datetime import timedelta

from bot.config import Config
from bot.rules.candidates import CandidateRules
from bot.rules.tally import VoteRules


def vote_rules(config: Config) -> VoteRules:
    v = config.votes
    return VoteRules(
        frozenset(v.publish), frozenset(v.reject), v.quorum, timedelta(days=v.window_days)
    )


def candidate_rules(config: Config) -> CandidateRules:
    c = config.candidates
    return CandidateRules(
        per_day=c.per_day, min_quality=c.min_quality, max_age_days=c.max_age_days,
        topics=tuple(c.topics), require_score=c.require_score,
    )  # fmt: skip
