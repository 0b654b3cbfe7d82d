"""storage.frontmatter against every article of two real content repos (../shared/corpora)."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml

from storage import frontmatter
from storage.extract import ArticleData, extract
from storage.fields import FieldMap
from storage.frontmatter import (
    EditError,
    FrontmatterError,
    fast_path,
    flat,
    parse,
    parse_keys,
    set_keys,
    split,
)
from storage.frontmatter import read as read_module
from tests.helpers import same

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
FILES = sorted(p.relative_to(CORPORA).as_posix() for p in CORPORA.glob("*/**/*.md"))
KEYS = frozenset(
    {"title", "draft", "date", "summary", "excerpt", "topics", "tags", "authors", "published"}
    | {"categories"}
)
NEW_TITLE = "Edited — “title” #1: ok"  # needs quotes: ': ' inside
EDITS: tuple[dict[str, Any], ...] = ({"draft": True}, {"published": True}, {"title": NEW_TITLE})

# Files that start with blank lines before '---' (Hugo reads those; Jekyll and we do not),
# and the two licences, which have no frontmatter at all.
NO_FRONTMATTER = {
    "18f-posts/LICENSE.md",
    "digitalgov/LICENSE.md",
    "digitalgov/events/2018/07/2018-07-16-emerging-technology-leadership-series-brian-behlendorf-blockchain.md",
    "digitalgov/events/2018/12/2018-12-17-emerging-technology-for-government-services-meeting.md",
    "digitalgov/news/2015/06/2015-06-29-creating-a-social-media-report-that-matters.md",
    "digitalgov/news/2016/02/2016-02-08-the-content-corner-location-aware-content.md",
    "digitalgov/news/2021/04/2021-04-06-using-chatbots-to-improve-customer-experience.md",
    "digitalgov/news/2023/05/2023-05-15-a-digital-accessibility-catalyst-for-your-next-policy-refresh.md",
}  # fmt: skip
# A tab after a list item: libyaml reads it, PyYAML's pure-Python scanner does not.
TAB_FILE = (
    "18f-posts/2016-05-19-content-debt-what-it-is-where-to-find-it-and-how-to-prevent-it-in-the-"
    "first-place.md"
)
# A double-quoted summary that runs on over a column-0 'event_organizer: Digital.gov' line.
HIDDEN_KEY_FILE = "digitalgov/events/2024/10/2024-10-17-uswds-monthly-call-october-2024.md"


SHIPPED = (fast_path.MIN_BYTES, fast_path.MAX_SHARE)


@pytest.fixture(autouse=True, scope="module")
def always_fast() -> Iterator[None]:
    """Let parse_keys take its fast path on these small files, to test the scanner on them."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fast_path, "MIN_BYTES", 0)
        patch.setattr(fast_path, "MAX_SHARE", 1.0)
        yield


needs_corpora = pytest.mark.skipif(not FILES, reason=f"no corpora at {CORPORA}")


@dataclass(frozen=True)
class Outcome:
    error: str | None  # the FrontmatterError reason, for a file that does not parse
    fast: bool = False  # parse_keys got the title without a full parse
    refused: tuple[str, ...] = ()  # keys set_keys refused to edit, with EditError


def _diff(old: bytes, new: bytes) -> tuple[list[bytes], list[bytes]]:
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    removed: list[bytes] = []
    added: list[bytes] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            removed += a[i1:i2]
            added += b[j1:j2]
    return removed, added


def _restricted(mapping: dict[str, Any], keys: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k in keys}


@functools.cache
def check(rel: str) -> Outcome:
    """Every assertion about one file; the aggregate tests below count the outcomes."""
    data = (CORPORA / rel).read_bytes()
    try:
        full = parse(data)
    except FrontmatterError as exc:
        assert exc.reason and "\n" not in exc.reason
        for call in (lambda: parse_keys(data, KEYS), lambda: set_keys(data, {"draft": True})):
            with pytest.raises(FrontmatterError):
                call()
        return Outcome(exc.reason)

    for keys in (KEYS, frozenset({"date", "draft", "published", "topics"})):
        assert parse_keys(data, keys) == _restricted(full, keys)
    with mock.patch.object(fast_path, "load_mapping", wraps=fast_path.load_mapping) as spy:
        assert parse_keys(data, {"title"}) == _restricted(full, frozenset({"title"}))
    fast = spy.call_count == 0

    refused = []
    body = data[split(data).end :]
    for changes in EDITS:
        [(key, value)] = changes.items()
        try:
            new = set_keys(data, changes)
        except EditError as exc:
            assert exc.key == key and repr(key) in str(exc)
            refused.append(key)
            continue
        removed, added = _diff(data, new)
        if key in full and full[key] == value and type(full[key]) is type(value):
            assert new is data
        elif key in full:
            assert len(removed) == len(added) == 1
            assert removed[0].startswith(key.encode()) and added[0].startswith(key.encode())
        else:
            assert removed == [] and len(added) == 1 and added[0].startswith(key.encode() + b": ")
        reread = parse(new)
        assert reread == {**full, key: value} and type(reread[key]) is type(value)
        assert parse_keys(new, KEYS) == _restricted(reread, KEYS)
        assert new[split(new).end :] == body
    return Outcome(None, fast, tuple(refused))


@pytest.mark.parametrize("rel", FILES)
def test_corpus_file(rel: str) -> None:
    check(rel)


@needs_corpora
def test_unparseable_files_are_few_and_known() -> None:
    errors = {rel: check(rel).error for rel in FILES if check(rel).error}
    expected = set(NO_FRONTMATTER)
    if frontmatter.LOADER is yaml.SafeLoader:  # no libyaml: the tab file is an error
        expected.add(TAB_FILE)
    assert set(errors) == expected
    for rel in NO_FRONTMATTER - {"18f-posts/LICENSE.md", "digitalgov/LICENSE.md"}:
        assert errors[rel].startswith("no frontmatter: file does not start with '---' (it comes")
    if TAB_FILE in errors:
        assert errors[TAB_FILE].startswith("YAML error at line 5, column 9:")
    else:
        assert parse((CORPORA / TAB_FILE).read_bytes())["authors"] == ["melody"]


@needs_corpora
def test_edits_are_rarely_refused() -> None:
    parseable = [rel for rel in FILES if not check(rel).error]
    refused = [(rel, key) for rel in parseable for key in check(rel).refused]
    # No file has a draft or published value that is not a plain scalar ...
    assert [r for r in refused if r[1] != "title"] == []
    # ... but some titles span lines (quoted or plain); those are refused, not mangled.
    assert 0 < len(refused) < 0.05 * len(parseable)


@needs_corpora
def test_fast_path_serves_most_files() -> None:
    parseable = [rel for rel in FILES if not check(rel).error]
    fast = [rel for rel in parseable if check(rel).fast]
    # The rest fall back, mostly 18f posts whose quoted excerpts continue at column 0.
    assert len(fast) > 0.9 * len(parseable)


@needs_corpora
def test_hidden_key_file() -> None:
    data = (CORPORA / HIDDEN_KEY_FILE).read_bytes()
    assert b"\nevent_organizer: Digital.gov" in data
    assert "event_organizer" not in parse(data)
    assert parse(data)["summary"].endswith("event_organizer: Digital.gov")
    with mock.patch.object(fast_path, "load_mapping", wraps=fast_path.load_mapping) as spy:
        assert parse_keys(data, {"event_organizer"}) == {}
    assert spy.call_count == 1  # the scanner saw the string run on, and gave up
    assert parse_keys(data, {"event_organizer", "summary"}) == {"summary": parse(data)["summary"]}


@needs_corpora
def test_python_frontmatter_agrees() -> None:
    """An independent reader (python-frontmatter) gets the same mapping from every file."""
    python_frontmatter = pytest.importorskip("frontmatter")
    for rel in FILES:
        data = (CORPORA / rel).read_bytes()
        theirs = python_frontmatter.loads(data.decode("utf-8")).metadata
        if rel in NO_FRONTMATTER:
            # It skips leading blank lines (as Hugo does) and reads a licence as {}.
            assert theirs == {} or data[:1] == b"\n"
            continue
        if check(rel).error is None:
            assert parse(data) == theirs, rel


# --------------------------------------------------------------------------------------------
# storage.frontmatter.flat reads most files without PyYAML's constructor: the same mappings,
# and the scan the same rows, as with PyYAML alone.


def _reference_only(patch: pytest.MonkeyPatch) -> None:
    """Every frontmatter read goes to PyYAML, as it did before storage.frontmatter.flat."""
    for module in (read_module, fast_path):
        patch.setattr(module, "read_flat", lambda text: None)


@needs_corpora
def test_flat_reads_most_files_and_reads_them_as_pyyaml_does() -> None:
    read = 0
    parseable = [rel for rel in FILES if not check(rel).error]
    for rel in parseable:
        data = (CORPORA / rel).read_bytes()
        where = split(data)
        text = data[where.start : where.end]
        got = flat.read(text)
        if got is not None:
            read += 1
            assert same(got, yaml.load(text, Loader=frontmatter.LOADER)), rel
    # The rest are left to PyYAML: comments after a value, CRLF, multi-line scalars...
    assert read > 0.8 * len(parseable)


# Field maps over the corpora's keys: Hugo-style drafts (most files are then live and read by
# the fast path, drafts whole), and a published flag no file has (every file is a candidate,
# read whole and fingerprinted).
ROW_FIELDS = (
    FieldMap(
        flag="draft", flag_style="draft", excerpt="summary", date="date", url="source_url",
        provider="source", images="primary_image", related="authors", quality="weight",
    ),
    FieldMap(flag="draft", flag_style="draft", date="date", topics="tags", url="slug"),
    FieldMap(excerpt="summary", date="date", url="slug", images="image", related="authors"),
    FieldMap(excerpt="excerpt", date="date", topics="tags", provider="authors", heat="weight"),
)  # fmt: skip


def _rows(fields: FieldMap, *, full: bool) -> list[ArticleData]:
    return [
        extract(rel, f"{n:040x}", (CORPORA / rel).read_bytes(), fields, full=full)
        for n, rel in enumerate(FILES)
    ]


@needs_corpora
@pytest.mark.parametrize("threshold", ["always fast", "as shipped"])
@pytest.mark.parametrize("fields", range(len(ROW_FIELDS)))
def test_scan_rows_equal_those_of_pyyaml_alone(threshold: str, fields: int) -> None:
    """Every row the scan would write from both corpora, with the fast paths and without."""
    field_map = ROW_FIELDS[fields]
    with pytest.MonkeyPatch.context() as patch:
        if threshold == "as shipped":
            patch.setattr(fast_path, "MIN_BYTES", SHIPPED[0])
            patch.setattr(fast_path, "MAX_SHARE", SHIPPED[1])
        fast = _rows(field_map, full=False)
        _reference_only(patch)
        reference = _rows(field_map, full=True)
    assert fast == reference
    candidates = [row for row in fast if row.published is False]
    assert candidates and any(row.error for row in fast)
    if field_map.flag == "published":
        assert len(candidates) > 0.9 * len(FILES)
