"""Reading an article from what changed since its last whole read (changed_values and
extract_change) gives what a whole read of the new version gives, or declines."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from storage.extract import PUBLISHED_COLUMNS, ArticleData, extract, extract_change
from storage.fields import FieldMap
from storage.frontmatter import GONE, FrontmatterError, changed_values, parse, set_keys
from tests.conftest import SAMPLE
from tests.helpers import same
from tests.test_frontmatter_corpora import CORPORA, FILES

# Lines a change may put into a document: simple entries, and every construct that must
# make changed_values decline (or be read right): blocks, multi-line and quoted values that
# run on at column 0, anchors, tags, merge keys, keep-chomped block scalars, bad values.
LINES = [
    "quality: 7", "quality: 8 # tuned", "heat: -1", "heat:", "published: true",
    "published: false", "published: 'false'", "published: no", "draft: true",
    "title: 'It''s new'", 'title: "A: b"', "title: Plain words", "webUrl: http://x.y/z?a=b",
    "topics: AI", "extra: 1", "date: 2021-04-29", "date: 2021-02-30", "count: !!int 3",
    "", "   ", "# a comment", "  # indented comment", "  indented: 1", "- item",
    "  - item", "block: |+", "  kept line", "fold: >", "quoted: \"runs on", "quality: 9\"",
    "flow: [a,", "b]", "anchor: &a 1", "alias: *a", "<<: {x: 1}", "? complex", ": value",
    "title: [list]", "dup: 1", "dup: 2", "\ttab: 1", "%YAML 1.1",
]  # fmt: skip

BASE = [
    "title: Base", "quality: 39", "heat: -1", "published: false", "", "provider:",
    "  name: GCN", "  domain: gcn.com", "topics:", "  - AI", "  - Cities", "related:",
    "  - title: Other", "    webUrl: https://example.org/o", "block: |+", "  keep", "",
    "webUrl: https://example.org/a", "secured: abc",
]  # fmt: skip


@st.composite
def edited(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """A document and an edit of it: lines replaced, inserted or deleted."""
    lines = draw(
        st.one_of(
            st.just(list(BASE)),
            st.lists(st.sampled_from(BASE + LINES), min_size=1, max_size=12),
        )
    )
    new = list(lines)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["replace", "insert", "delete"]))
        at = draw(st.integers(0, max(0, len(new) - (op != "insert"))))
        line = draw(st.sampled_from(LINES + BASE))
        if op == "insert":
            new.insert(at, line)
        elif new and op == "replace":
            new[at] = line
        elif new:
            del new[at]
    nl = draw(st.sampled_from(["\n", "\r\n"]))

    def render(body: list[str]) -> bytes:
        return nl.join(["---", *body, "---", "Body"]).encode() + nl.encode()

    return render(lines), render(new)


def apply(old: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    got = dict(old)
    for key, value in values.items():
        if value is GONE:
            got.pop(key, None)
        else:
            got[key] = value
    return got


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=edited())
def test_changed_values_is_the_new_mapping_or_declines(pair: tuple[bytes, bytes]) -> None:
    old, new = pair
    try:
        before = parse(old)
    except FrontmatterError:
        event("old does not parse: not a caller's case")
        return
    values = changed_values(old, new)
    if values is None:
        event("declined")
        return
    event("read from the change" if values else "no key changed")
    after = parse(new)  # must not raise: the old document parsed
    assert same(after, apply(before, values)), (values, after)


def test_changed_values_cases() -> None:
    doc = b"---\ntitle: T\nquality: 39\nheat: -1\npublished: false\n---\nBody\n"
    assert changed_values(doc, doc.replace(b"39", b"40")) == {"quality": 40}
    assert changed_values(doc, doc.replace(b"Body", b"Other")) == {}
    assert changed_values(doc, doc.replace(b"heat: -1\n", b"")) == {"heat": GONE}
    assert changed_values(doc, doc.replace(b"heat: -1\n", b"heat: 2\nnew: x\n")) == {
        "heat": 2,
        "new": "x",
    }
    crlf = doc.replace(b"\n", b"\r\n")
    assert changed_values(crlf, crlf.replace(b"false", b"true")) == {"published": True}
    # Declined: a block changed; a key that is also elsewhere; a value running on below.
    assert changed_values(doc, doc.replace(b"heat: -1", b"heat:\n  - 1")) is None
    assert changed_values(doc, doc.replace(b"heat: -1", b"title: U")) is None
    assert changed_values(doc, doc.replace(b"heat: -1\n", b"heat: -1\n  more\n")) is None
    # YAML breaks lines at U+2028 and NEL too: a key after one is a key, even on a line
    # that did not change.
    odd = "---\nb: 1\na: x\u2028b: 9\n---\n".encode()
    assert parse(odd.replace(b"b: 1", b"b: 2"))["b"] == 9
    assert changed_values(odd, odd.replace(b"b: 1", b"b: 2")) is None
    # A blank line handed from a keep-chomped scalar to nobody changes that scalar.
    kept = b"---\nnote: |+\n  line\n\nnext: 1\n---\n"
    assert parse(kept)["note"] == "line\n\n"
    assert changed_values(kept, kept.replace(b"  line\n", b"  line\nx: 2\n")) is None


def test_every_publish_edit_in_the_corpora_reads_from_the_change() -> None:
    # The bot's own commit sets one flag: each such edit must read back as that one change.
    read = 0
    for name in FILES:
        data = (CORPORA / name).read_bytes()
        try:
            parse(data)
            edited = set_keys(data, {"published": True})
        except (FrontmatterError, ValueError):
            continue
        values = changed_values(data, edited)
        if values is not None:
            assert values == {"published": True}, name
            read += 1
    assert read > 2000  # most files: the rest have a shape the scanner declines


# ------------------------------------------------------------------------- extract_change

FIELDS = FieldMap()


def stored(data: ArticleData, columns: frozenset[str] | None = None) -> dict[str, Any]:
    """What the article's row holds: the columns read (all, by default) and the topics."""
    row = data._asdict()
    del row["path"], row["columns"], row["blob_sha"]
    if columns is not None:
        row = {k: v for k, v in row.items() if k in columns}
    return row


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=edited())
def test_extract_change_patches_the_row_a_whole_read_would_write(
    pair: tuple[bytes, bytes],
) -> None:
    old, new = pair
    before = extract("a.md", "old", old, FIELDS)
    if before.error or before.published or before.columns is not None:
        event("not read whole while unpublished: not a caller's case")
        return
    patch = extract_change("a.md", "new", new, old, FIELDS)
    whole = extract("a.md", "new", new, FIELDS, full=True)
    if patch is None:
        event("read whole")
        return
    assert patch.columns is not None and "blob_sha" in patch.columns
    assert patch.error is None and whole.error is None
    row = stored(before) | {k: getattr(patch, k) for k in patch.columns if k != "blob_sha"}
    kept = PUBLISHED_COLUMNS if whole.published else None
    event("now published" if whole.published else "still a candidate")
    assert stored(whole, kept) == {k: v for k, v in row.items() if kept is None or k in kept}


def test_a_refreshed_sample_reads_only_its_scores() -> None:
    old = SAMPLE.read_bytes()
    new = old.replace(b"quality: 39", b"quality: 41", 1).replace(b"heat: -1", b"heat: 3", 1)
    patch = extract_change("a.md", "new", new, old, FIELDS)
    assert patch is not None
    assert patch.columns == {"blob_sha", "quality", "heat"}
    assert (patch.quality, patch.heat) == (41, 3)
    published = set_keys(old, {"published": True})
    patch = extract_change("a.md", "new", published, old, FIELDS)
    assert patch is not None and patch.published is True
    assert patch.columns == {"blob_sha", "published"}


@pytest.mark.parametrize(
    ("old_line", "new_line"),
    [
        (b"published: false", b'published: "false"'),  # not a boolean: the whole read says so
        (b"topics:\n  - Computer Vision", b"topics:\n  - Policy"),  # topics: their own table
        (b"quality: 39", b"quality: 2021-02-30"),  # a bad value: the whole read reports it
    ],
)
def test_changes_extract_change_leaves_to_a_whole_read(old_line: bytes, new_line: bytes) -> None:
    old = SAMPLE.read_bytes()
    assert old_line in old
    assert extract_change("a.md", "new", old.replace(old_line, new_line, 1), old, FIELDS) is None
