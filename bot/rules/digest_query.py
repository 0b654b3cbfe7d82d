"""What a ``/digest`` query means: the filters an editor types, read into plain data.

``topic:AI since:7d "facial recognition"`` becomes a :class:`DigestQuery`; a filter that
cannot be read raises :class:`DigestError` with one line that shows the right form.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from bot.rules.states import (
    APPROVED,
    BLOCKED,
    EXPIRED,
    OPEN,
    PUBLISHED,
    REJECTED,
    UNPUBLISHED,
    UNPUBLISHING,
)

DEFAULT_LIMIT = 10
MAX_LIMIT = 50
RECENT = timedelta(days=7)  # "published recently", when no status: or since: is given
MAX_SINCE = timedelta(days=3650)

# What an editor types after status:, and the post states each one covers. A blocked post
# is approved; only publishing refused it for now (PublishHold says why).
STATUS_WORDS: dict[str, tuple[str, ...]] = {
    "pending": (OPEN,),
    "approved": (APPROVED, BLOCKED),
    "published": (PUBLISHED,),
    "rejected": (REJECTED,),
    "expired": (EXPIRED,),
    "unpublished": (UNPUBLISHING, UNPUBLISHED),  # queued to be taken back, or taken back
}
_STATUS_ALIASES = {"open": "pending", "waiting": "pending", "blocked": "approved"}
_KEYS = {
    "topic": "topic", "topics": "topic", "status": "status", "since": "since", "min": "min",
    "quality": "min", "limit": "limit", "desk": "desk",
}  # fmt: skip
ALL_DESKS = "all"  # desk:all
_HELP_WORDS = {"help", "?", "-h", "--help"}
# Smart quotes from phones and macOS count as straight ones.
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"'})
_KEY = re.compile(r"^([A-Za-z_]+):(.*)$", re.DOTALL)
_RELATIVE = re.compile(r"^(\d{1,5})\s*([hdw])$", re.IGNORECASE)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class DigestError(ValueError):
    """A filter that cannot be read; the message is one line that shows the right form."""


@dataclass(frozen=True)
class DigestQuery:
    """What an editor asked for; empty fields mean "no filter"."""

    topics: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()  # keys of STATUS_WORDS; empty: the default view
    since: datetime | None = None
    since_text: str | None = None  # as typed, to repeat it back
    min_quality: float | None = None
    words: tuple[str, ...] = ()
    limit: int = DEFAULT_LIMIT
    help: bool = False
    # desk:NAME as typed (any case; checked against the config's desks where it is answered),
    # ALL_DESKS for desk:all; None: the desk of the channel asked in, elsewhere every desk.
    desk: str | None = None

    def describe(self) -> str:
        """The filters in the form they are typed, e.g. ``topic:AI since:7d``."""
        parts = [f"topic:{_quoted(t)}" for t in self.topics]
        if self.statuses:
            parts.append("status:" + ",".join(self.statuses))
        if self.since_text:
            parts.append(f"since:{self.since_text}")
        if self.min_quality is not None:
            parts.append(f"min:{self.min_quality:g}")
        if self.limit != DEFAULT_LIMIT:
            parts.append(f"limit:{self.limit}")
        if self.desk is not None:
            parts.append(f"desk:{_quoted(self.desk)}")
        parts += [_quoted(w) for w in self.words]
        return " ".join(parts)


def _quoted(text: str) -> str:
    return f'"{text}"' if any(c.isspace() for c in text) else text


# ----------------------------------------------------------------------------------- parsing


@dataclass
class _Token:
    parts: list[tuple[str, bool]] = field(default_factory=list)  # (text, was quoted)

    @property
    def text(self) -> str:
        return " ".join("".join(t for t, _ in self.parts).split())

    @property
    def quoted(self) -> bool:
        return any(q for _, q in self.parts)

    def filter(self) -> tuple[str, str] | None:
        """(name, value) when the token is ``name:value`` with an unquoted name."""
        if not self.parts or self.parts[0][1]:
            return None
        match = _KEY.match(self.parts[0][0])
        if not match:
            return None
        value = match.group(2) + "".join(t for t, _ in self.parts[1:])
        return match.group(1).lower(), " ".join(value.split())


def _tokens(text: str) -> list[_Token]:
    """Split on whitespace; double quotes group words, also inside a token (topic:"a b")."""
    text = text.translate(_QUOTES)
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        token = _Token()
        while i < n and not text[i].isspace():
            if text[i] == '"':
                end = text.find('"', i + 1)
                end = n if end == -1 else end  # an unclosed quote runs to the end
                token.parts.append((text[i + 1 : end], True))
                i = end + 1
            else:
                j = i
                while j < n and not text[j].isspace() and text[j] != '"':
                    j += 1
                token.parts.append((text[i:j], False))
                i = j
        tokens.append(token)
    return tokens


def parse_digest_query(text: str, now: datetime, tz: tzinfo) -> DigestQuery:
    """Read ``/digest`` text like ``topic:AI since:7d "facial recognition"``.

    Filters: ``topic:`` (repeatable; any of them), ``status:`` (pending, approved, published,
    rejected, expired, unpublished, all; commas or repeats for several), ``since:`` (7d, 24h,
    2w or a date, midnight in ``tz``), ``min:`` quality, ``limit:`` (1-50). Other words must
    all appear in the title or excerpt; double quotes keep a phrase together. Raises
    DigestError.
    """
    tokens = _tokens(text)
    if tokens and not tokens[0].quoted and tokens[0].text.lower() in _HELP_WORDS:
        return DigestQuery(help=True)
    topics: list[str] = []
    statuses: list[str] = []
    words: list[str] = []
    single: dict[str, str] = {}  # since/min/limit/desk as typed: each may be given once
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        pair = token.filter()
        if pair is None or (pair[0] not in _KEYS and pair[1].startswith("//")):
            if token.text and token.text.casefold() not in {w.casefold() for w in words}:
                words.append(token.text)  # a word, a quoted phrase, or a URL
            continue
        name, value = pair
        if name not in _KEYS:
            raise DigestError(_unknown_filter(name))
        key = _KEYS[name]
        if not value and i < len(tokens) and tokens[i].filter() is None:
            value = tokens[i].text  # "topic: AI", with a space after the colon
            i += 1
        if not value:
            raise DigestError(f"{key}: expected {_EXPECTED[key](now, tz)}, got nothing")
        if key == "topic":
            if value.casefold() not in {t.casefold() for t in topics}:
                topics.append(value)
        elif key == "status":
            statuses += [s for s in _statuses(value, now, tz) if s not in statuses]
        elif key in single and _differ(key, single[key], value):
            first, second = _shown(single[key]), _shown(value)
            raise DigestError(f"{key}: given twice ({first!r} and {second!r}); use one")
        else:
            single[key] = value
    since = parse_since(single["since"], now, tz) if "since" in single else None
    if "all" in statuses:
        statuses = list(STATUS_WORDS)
    return DigestQuery(
        topics=tuple(topics),
        statuses=tuple(statuses),
        since=since,
        since_text=single.get("since"),
        min_quality=_min_quality(single["min"], now, tz) if "min" in single else None,
        words=tuple(words),
        limit=_limit(single["limit"], now, tz) if "limit" in single else DEFAULT_LIMIT,
        desk=_desk(single["desk"]) if "desk" in single else None,
    )


def _example_date(now: datetime, tz: tzinfo) -> str:
    return (now.astimezone(tz).date() - timedelta(days=6)).isoformat()


_EXPECTED = {
    "topic": lambda now, tz: 'a topic like topic:AI or topic:"Computer Vision"',
    "status": lambda now, tz: "pending, approved, published, rejected, expired, unpublished or all",
    "since": lambda now, tz: f"7d, 24h or a date like {_example_date(now, tz)}",
    "min": lambda now, tz: "a quality number like min:60",
    "limit": lambda now, tz: f"a whole number from 1 to {MAX_LIMIT}",
    "desk": lambda now, tz: "a desk name like desk:Policy, or desk:all",
}


def _bad(key: str, value: str, now: datetime, tz: tzinfo, why: str = "") -> DigestError:
    return DigestError(f"{key}: expected {_EXPECTED[key](now, tz)}, got {_shown(value)!r}{why}")


def _shown(typed: str) -> str:
    """What was typed, quoted back in an error: 40 characters at most."""
    return typed if len(typed) <= 40 else typed[:39] + "…"


def _unknown_filter(name: str) -> str:
    close = difflib.get_close_matches(name, list(_KEYS), n=1, cutoff=0.6)
    hint = f"did you mean {_KEYS[close[0]]}:? " if close else ""
    return (
        f"unknown filter '{_shown(name)}:'; {hint}"
        "filters are topic:, status:, since:, min:, limit:, desk: "
        '(put other words with a colon in quotes, like "Update: budget")'
    )


def _statuses(value: str, now: datetime, tz: tzinfo) -> list[str]:
    found = []
    for word in (w.strip().lower() for w in value.split(",")):
        word = _STATUS_ALIASES.get(word, word)
        if word not in STATUS_WORDS and word != "all":
            raise _bad("status", word or value, now, tz)
        found.append(word)
    return found


def parse_since(value: str, now: datetime, tz: tzinfo) -> datetime:
    """``7d``, ``24h``, ``2w`` back from ``now``, or a date (its midnight in ``tz``)."""
    relative = _RELATIVE.match(value)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2).lower()
        delta = {"h": timedelta(hours=amount), "d": timedelta(days=amount)}.get(
            unit, timedelta(weeks=amount)
        )
        if amount == 0 or delta > MAX_SINCE:
            raise _bad("since", value, now, tz, " (from 1h up to 10 years back)")
        return now - delta
    if _DATE.match(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise _bad("since", value, now, tz, " (no such day)") from None
        start = datetime.combine(day, time(0), tzinfo=tz)
        if start > now:
            raise DigestError(f"since: {value} is in the future")
        return start
    raise _bad("since", value, now, tz)


def _min_quality(value: str, now: datetime, tz: tzinfo) -> float:
    try:
        number = float(value)
    except ValueError:
        raise _bad("min", value, now, tz) from None
    if not math.isfinite(number):
        raise _bad("min", value, now, tz)
    return number


def _differ(key: str, first: str, second: str) -> bool:
    """Whether a filter given twice was given two values (desk names match in any case)."""
    return first.casefold() != second.casefold() if key == "desk" else first != second


def _desk(value: str) -> str:
    """A desk's name as typed; ``all`` in any case is every desk."""
    return ALL_DESKS if value.casefold() == ALL_DESKS else value


def _limit(value: str, now: datetime, tz: tzinfo) -> int:
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise _bad("limit", value, now, tz)
    return int(value)


def scope(query: DigestQuery, now: datetime) -> tuple[list[str], datetime | None]:
    """The post states asked for, and since when published cards count as "recent"."""
    if query.statuses:
        return [s for word in query.statuses for s in STATUS_WORDS[word]], None
    default = [*STATUS_WORDS["pending"], *STATUS_WORDS["approved"], *STATUS_WORDS["published"]]
    # With since: given, it bounds every card, published ones included.
    return default, (None if query.since else now - RECENT)
