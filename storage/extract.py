"""Turn one article file into the facts the database keeps, as the field map names them."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any, NamedTuple

from storage import frontmatter
from storage.controls import CONTROLS
from storage.fields import FieldMap
from storage.fingerprint import KEYS as FINGERPRINT_KEYS
from storage.fingerprint import body_of, dumps, fingerprint


class ArticleData(NamedTuple):
    """What a scan learns from one blob; ``error`` set means nothing else is.

    A tuple, not a dataclass: a full scan makes one per article in a worker process and
    sends it back pickled; a tuple is built in half the time and unpickled in two thirds.
    """

    path: str
    blob_sha: str
    title: str | None = None
    excerpt: str | None = None
    url: str | None = None
    quality: float | None = None
    heat: float | None = None
    published: bool | None = None
    dated: datetime | None = None
    provider_name: str | None = None
    provider_domain: str | None = None
    image_url: str | None = None
    topics: tuple[str, ...] = ()
    related_json: str | None = None
    error: str | None = None
    # Read, but a value the bot needs could not be used (a date it cannot read): one line
    # for `curator scan --errors`; the article is still a candidate.
    warning: str | None = None
    # The columns this read vouches for; the others keep what the database had. None: every
    # column, and the topics.
    columns: frozenset[str] | None = None
    # What editors vote on, per key (storage.fingerprint), as stored: unpublished only.
    content_hash: str | None = None


# What the bot needs of an article that is already live: its state, and its URL and title
# so a copy of the same story is never offered again. Nothing else is ever shown of it.
PUBLISHED_COLUMNS = frozenset({"blob_sha", "title", "url", "published", "error", "warning"})


# Bump when extract() reads a file differently: every scanned article is then read again.
# 3: repeated keys are errors; dates like `2020-05-12 9:00:00 -0500` are read; warnings.
# 4: an unpublished article's fingerprint (content_hash).
# 5: a control character in a topic reads as a space (U+001F joins topic keys in SQL).
READER_VERSION = 5


def reader_id(fields: FieldMap) -> str:
    """Names the reading the rows hold: these extraction rules with this field map."""
    spec = json.dumps([READER_VERSION, dataclasses.asdict(fields)], sort_keys=True)
    return hashlib.sha256(spec.encode()).hexdigest()[:32]


@functools.lru_cache(maxsize=16)
def _published_line(fields: FieldMap) -> bytes:
    """The line that marks an article live, as nearly every live one writes it."""
    value = b"true" if fields.published_value() else b"false"
    return b"\n" + fields.flag.encode() + b": " + value


def published_keys(fields: FieldMap) -> frozenset[str]:
    """The top-level keys read from every article: enough to tell a live one apart."""
    return frozenset((fields.flag, fields.title, fields.url))


def extract(
    path: str, blob_sha: str, data: bytes, fields: FieldMap, *, full: bool = False
) -> ArticleData:
    """Read an article, building only what the bot will need of it.

    Most articles in a content repo are live, and of those the bot needs only the flag, the
    URL and the title: the fast path builds just those three keys. An unpublished article
    is a future candidate: its whole frontmatter is parsed, which validates it (the publish
    edit will need that) and yields everything a card shows. ``full=True`` parses every
    article whole; tests use it to prove both paths read the same.

    A key the bot reads that is at the top level twice is an error (which one counts is
    unclear, and the publish edit would refuse it): for a live article among the keys read
    of it, for an unpublished one among all of them.
    """
    seen = published_keys(fields)
    whole = where = None
    if not full and _published_line(fields) not in data:
        # Most likely a candidate, which is read whole anyway: read it whole first, and once
        # (where its frontmatter ends is kept for its fingerprint's body). When that fails
        # the file goes the usual way, which reports what it always did.
        with contextlib.suppress(frontmatter.FrontmatterError):
            where = frontmatter.split(data)
            whole = frontmatter.load_mapping(data, where, fields.keys())
    try:
        if whole is not None:
            mapping = whole  # what the fast path reads is these keys of it (parse_keys)
        elif full:
            mapping = frontmatter.parse(data, unique=seen)
        else:
            mapping = frontmatter.parse_keys(data, seen)
        if read_flag(mapping, fields):
            return ArticleData(
                path, blob_sha, title=_text(mapping.get(fields.title)),
                url=_text(mapping.get(fields.url)), published=True, columns=PUBLISHED_COLUMNS,
            )  # fmt: skip
        if whole is None:
            mapping = frontmatter.parse(data, unique=fields.keys())
    except (frontmatter.FrontmatterError, FlagError) as exc:
        return ArticleData(path, blob_sha, error=_reason(exc))
    return _candidate(path, blob_sha, mapping, fields, data, where)


def extract_change(
    path: str, blob_sha: str, data: bytes, old: bytes, fields: FieldMap
) -> ArticleData | None:
    """Read an unpublished article from what changed since ``old``, or None to read it whole.

    ``old`` is the blob the article's row was last read from, whole and without error, while
    it was unpublished. A collector's refresh rewrites a score or two, and the bot's publish
    commit flips one flag: when only whole top-level `key: scalar` lines changed, the new
    version is valid as the old one was, and only the columns fed by those keys are
    returned. A changed topic list, a block, or a flag turning to something that is not a
    boolean goes the full way (which reports the error).
    """
    values = frontmatter.changed_values(old, data)
    if values is None or fields.topics in values:
        return None  # topics live in their own table: a full read rewrites them
    if any(key in values for key in _fingerprinted(fields)) or body_of(old) != body_of(data):
        return None  # what editors vote on changed: a full read makes its new fingerprint
    changed = {key: value for key, value in values.items() if value is not frontmatter.GONE}
    columns = {"blob_sha"}
    published = False
    if fields.flag in values:
        try:
            published = read_flag(changed, fields)
        except FlagError:
            return None
        columns.add("published")
    if published:
        columns.update(col for col in ("title", "url") if getattr(fields, col) in values)
        return ArticleData(
            path, blob_sha, title=_text(changed.get(fields.title)),
            url=_text(changed.get(fields.url)), published=True, columns=frozenset(columns),
        )  # fmt: skip
    for key, fed in _fed_by(fields):
        if key in values:
            columns.update(fed)
    return _candidate(path, blob_sha, changed, fields, data)._replace(columns=frozenset(columns))


def _fingerprinted(fields: FieldMap) -> tuple[str, ...]:
    return tuple(getattr(fields, key) for key in FINGERPRINT_KEYS if key != "body")


def _fed_by(fields: FieldMap) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Which columns of a candidate each frontmatter key feeds (see :func:`_candidate`)."""
    return (
        (fields.title, ("title",)),
        (fields.excerpt, ("excerpt",)),
        (fields.url, ("url",)),
        (fields.quality, ("quality",)),
        (fields.heat, ("heat",)),
        (fields.date, ("dated", "warning")),
        (fields.provider, ("provider_name", "provider_domain")),
        (fields.images, ("image_url",)),
        (fields.related, ("related_json",)),
    )


def _candidate(
    path: str,
    blob_sha: str,
    mapping: Mapping[str, Any],
    fields: FieldMap,
    data: bytes,
    where: frontmatter.Split | None = None,
) -> ArticleData:
    """Everything a card shows of an unpublished article (``where``: its split, if known)."""
    provider_name, provider_domain = _provider(mapping.get(fields.provider))
    related_json = json.dumps(_related(mapping.get(fields.related)), ensure_ascii=False)
    raw_date = mapping.get(fields.date)
    dated = _datetime(raw_date)
    warning = None
    if dated is None and not _unset(raw_date):
        warning = _date_warning(fields.date, raw_date, frontmatter.key_line(data, fields.date))
    return ArticleData(
        path=path,
        blob_sha=blob_sha,
        title=_text(mapping.get(fields.title)),
        excerpt=_text(mapping.get(fields.excerpt)),
        url=_text(mapping.get(fields.url)),
        quality=_number(mapping.get(fields.quality)),
        heat=_number(mapping.get(fields.heat)),
        published=False,
        dated=dated,
        provider_name=provider_name,
        provider_domain=provider_domain,
        image_url=_first_image(mapping.get(fields.images)),
        topics=_topics(mapping.get(fields.topics)),
        related_json=related_json,
        warning=warning,
        content_hash=dumps(fingerprint(mapping, data, fields, where=where)),
    )


class FlagError(ValueError):
    """The published/draft flag holds something that is not a boolean."""


def _reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or str(exc)
    return " ".join(str(reason).split())[:500]


def read_flag(mapping: Mapping[str, Any], fields: FieldMap) -> bool:
    """Whether the article is published. PyYAML already reads YAML 1.1 yes/no/on/off."""
    if fields.flag not in mapping:
        # A draft-style repo publishes by default; a published-style one needs the flag.
        return fields.flag_style == "draft"
    value = mapping[fields.flag]
    if not isinstance(value, bool):
        shown = f"the string {value!r}" if isinstance(value, str) else type(value).__name__
        raise FlagError(f"{fields.flag}: expected true or false, got {shown}")
    return value == fields.published_value()


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                return None
        else:
            return None
    number = float(value)
    return number if math.isfinite(number) else None


# What Hugo (Go's time layouts) also reads and ISO 8601 does not: a one-digit hour, a space
# before the zone, a zone without a colon: `2020-05-12 9:00:00 -0500`.
_LOOSE_DATETIME = re.compile(
    r"(?P<day>\d{4}-\d\d-\d\d)[Tt ]+(?P<hour>\d\d?):(?P<rest>\d\d(?::\d\d(?:\.\d+)?)?)"
    r"\s*(?P<zone>Z|[+-]\d\d(?::?\d\d)?)?"
)


def _datetime(value: Any) -> datetime | None:
    if isinstance(value, str):
        text = value.strip()
        loose = _LOOSE_DATETIME.fullmatch(text)
        if loose:
            zone = loose["zone"] or ""
            text = f"{loose['day']}T{int(loose['hour']):02}:{loose['rest']}{zone}"
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    if isinstance(value, datetime):
        if value.tzinfo is None:  # naive means UTC here
            return value.replace(tzinfo=UTC)
        try:
            return value.astimezone(UTC)
        except OverflowError:  # 9999-12-31T23:00:00-05:00 is past the last datetime
            return None
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    return None


def _unset(value: Any) -> bool:
    """A date left empty: no warning, the article's age comes from git."""
    return value is None or (isinstance(value, str) and not value.strip())


def _date_warning(key: str, value: Any, line: int | None) -> str:
    if isinstance(value, (str, int, float, bool)) or value is None:
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:59] + "…"
    else:
        shown = f"a {type(value).__name__}"
    where = f" (line {line})" if line else ""
    return (
        f"{key}{where}: {shown} is not a date the bot can read (write it like "
        "2020-05-12T09:00:00-05:00); its age comes from the commit that added the file"
    )


def _provider(value: Any) -> tuple[str | None, str | None]:
    if isinstance(value, Mapping):
        return _text(value.get("name")), _text(value.get("domain"))
    return _text(value), None


def _first_image(value: Any) -> str | None:
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, Mapping):
        value = value.get("url")
    return _text(value) if isinstance(value, str) else None


def _topics(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return ()
    seen: dict[str, str] = {}
    for item in value:
        text = _text(item)
        if text is not None:  # a one-line label: "AI\x1fPolicy" is not two topics
            text = " ".join(CONTROLS.sub(" ", text).split())
        if text and text.casefold() not in seen:
            seen[text.casefold()] = text
    return tuple(seen.values())


def _related(value: Any) -> list[dict[str, Any]]:
    """Keep what a card shows of each related link; drop the rest (images, AMP URLs)."""
    if not isinstance(value, list):
        return []
    links = []
    for item in value:
        if not isinstance(item, Mapping):
            continue
        url = _text(item.get("webUrl")) or _text(item.get("url"))
        title = _text(item.get("title"))
        if not (url or title):
            continue
        provider, _ = _provider(item.get("provider"))
        links.append(
            {
                "title": title,
                "url": url,
                "provider": provider,
                "quality": _number(item.get("quality")),
            }
        )
    return links
