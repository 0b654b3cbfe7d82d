"""Which files of the content repo are articles: include/exclude globs from config."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """Translate a git-style glob: ``**/`` spans directories, ``*`` and ``?`` stay in one."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


class PathFilter:
    """``matches(path)`` is true when a path matches an include glob and no exclude glob."""

    def __init__(self, include: Iterable[str] = ("**/*.md",), exclude: Iterable[str] = ()) -> None:
        self._include = _union(include)
        self._exclude = _union(exclude)

    def matches(self, path: str) -> bool:
        if self._include is None or not self._include.match(path):
            return False
        return self._exclude is None or not self._exclude.match(path)


def _union(patterns: Iterable[str]) -> re.Pattern[str] | None:
    # One alternation is much faster than a loop over patterns for 100,000 paths.
    parts = [glob_regex(p.lstrip("/")).pattern for p in patterns]
    return re.compile("|".join(f"(?:{p})" for p in parts), re.DOTALL) if parts else None
