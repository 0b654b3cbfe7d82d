"""Which desk an article belongs to: pure rules over plain data.

An article belongs to the first desk, in config order, that lists one of its topics (any
case); a desk that lists none takes what no desk before it took; an article no desk takes is
not offered anywhere. Where a card was posted is decided once, when it is planned: changing
a desk's topics later moves no card.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    """One desk as routing sees it: its name and the case-folded topics it takes (empty:
    every topic left)."""

    desk: str
    topics: frozenset[str]

    @classmethod
    def of(cls, desk: str, topics: Iterable[str]) -> Route:
        return cls(desk, frozenset(t.casefold() for t in topics))


def desk_for(topics: Iterable[str], routes: Sequence[Route]) -> str | None:
    """The name of the desk that takes an article with these topics, or None."""
    keys = {t.casefold() for t in topics}
    for route in routes:
        if not route.topics or keys & route.topics:
            return route.desk
    return None


def routed_topics(routes: Sequence[Route]) -> frozenset[str] | None:
    """The case-folded topics some desk takes, so an article with none of them is on no
    desk (``desk_for`` is None); None when a desk takes every topic left."""
    if any(not route.topics for route in routes):
        return None
    return frozenset().union(*(route.topics for route in routes))
