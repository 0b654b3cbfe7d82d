"""The scan's fast path reads the same article as a full parse would."""

from __future__ import annotations

import pytest

from storage.extract import extract
from storage.fields import FieldMap
from storage.fingerprint import dumps, fingerprint_of
from storage.frontmatter import fast_path
from tests.conftest import SAMPLE, SHARED
from tests.helpers import article

CORPORA = SHARED / "corpora"
CORPUS_FILES = sorted(CORPORA.rglob("*.md")) if CORPORA.is_dir() else []
SAMPLE_FIELDS = FieldMap()
HUGO_FIELDS = FieldMap(flag="draft", flag_style="draft", date="date", excerpt="summary")


@pytest.fixture(autouse=True)
def always_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take the fast path even for small documents, where it would normally step aside."""
    monkeypatch.setattr(fast_path, "MIN_BYTES", 0)
    monkeypatch.setattr(fast_path, "MAX_SHARE", 1.0)


def sample_variants() -> list[tuple[str, bytes]]:
    raw = SAMPLE.read_bytes()
    return [
        ("sample", raw),
        ("sample-published", raw.replace(b"published: false", b"published: true")),
        ("sample-crlf", raw.replace(b"\n", b"\r\n")),
        ("sample-no-flag", raw.replace(b"published: false\n", b"")),
        ("sample-yes", raw.replace(b"published: false", b"published: yes")),
        ("sample-quoted-flag", raw.replace(b"published: false", b'published: "false"')),
        ("generated", article("Generated", related=6).encode()),
        ("generated-published", article("Live", published=True, related=6).encode()),
    ]


@pytest.mark.parametrize("name, data", sample_variants(), ids=[n for n, _ in sample_variants()])
def test_fast_equals_full_on_sample_shapes(name: str, data: bytes):
    fast = extract("a.md", "sha", data, SAMPLE_FIELDS)
    full = extract("a.md", "sha", data, SAMPLE_FIELDS, full=True)
    assert fast == full
    if name == "sample-quoted-flag":
        assert fast.error and "the string 'false'" in fast.error
    elif name.endswith("published") or name == "sample-no-flag":
        assert fast.published is (name != "sample-no-flag")


def test_sample_is_read_completely():
    got = extract("a.md", "sha", SAMPLE.read_bytes(), SAMPLE_FIELDS)
    assert got.error is None
    assert (got.title or "").startswith("What cities must do")
    assert (got.quality, got.heat, got.published) == (39, -1, False)
    assert (got.provider_name, got.provider_domain) == ("GCN", "gcn.com")
    assert got.topics == ("Computer Vision", "AI")
    assert got.image_url and got.image_url.endswith("facialrecognition2.png")
    assert got.dated and got.dated.isoformat() == "2021-04-29T20:46:00+00:00"
    assert got.related_json and got.related_json.count('"title"') == 8


@pytest.mark.skipif(not CORPUS_FILES, reason="shared corpora not present")
@pytest.mark.parametrize("fields", [SAMPLE_FIELDS, HUGO_FIELDS], ids=["sample-fields", "hugo"])
def test_fast_equals_full_on_corpora(fields: FieldMap):
    mismatched = []
    for path in CORPUS_FILES:
        data = path.read_bytes()
        fast = extract(path.name, "sha", data, fields)
        if fast != extract(path.name, "sha", data, fields, full=True):
            mismatched.append(path.name)
    assert mismatched == []


@pytest.mark.skipif(not CORPUS_FILES, reason="shared corpora not present")
def test_hugo_drafts_in_the_corpora_are_unpublished():
    drafts = [
        p
        for p in CORPUS_FILES
        if extract(p.name, "sha", p.read_bytes(), HUGO_FIELDS).published is False
    ]
    assert len(drafts) == 7  # the corpora README counts 7 `draft: true`


@pytest.mark.parametrize(
    "when", ["9999-12-31T23:00:00-05:00", '"9999-12-31T23:00:00-05:00"', "'not a date'"]
)
def test_a_date_past_the_calendar_is_no_date_not_a_crash(when: str):
    data = SAMPLE.read_bytes().replace(b"2021-04-29T20:46:00Z", when.encode(), 1)
    got = extract("a.md", "sha", data, SAMPLE_FIELDS)
    assert got.error is None and got.dated is None
    assert got.title == "What cities must do to responsibly deploy facial recognition solutions"


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("2020-05-12 9:00:00 -0500", "2020-05-12T14:00:00+00:00"),  # the issue's: Hugo reads it
        ("2020-05-12 09:00:00 -05:00", "2020-05-12T14:00:00+00:00"),
        ('"2020-05-12T09:00:00-0500"', "2020-05-12T14:00:00+00:00"),
        ("2020-05-12 9:05", "2020-05-12T09:05:00+00:00"),
        ("2020-05-12", "2020-05-12T00:00:00+00:00"),
    ],
)
def test_dates_hugo_reads_are_read(when: str, expected: str):
    data = SAMPLE.read_bytes().replace(b"2021-04-29T20:46:00Z", when.encode(), 1)
    got = extract("a.md", "sha", data, SAMPLE_FIELDS)
    assert got.dated is not None and got.dated.isoformat() == expected
    assert got.warning is None


@pytest.mark.parametrize(
    ("when", "shown"),
    [
        ("12/05/2020", "'12/05/2020'"),
        ('"2020-05-12\\u202e"', "'2020-05-12\\u202e'"),
        ("20200512", "20200512"),
        ("[2020, 5, 12]", "a list"),
    ],
)
def test_an_unreadable_date_is_a_warning_naming_key_value_and_line(when: str, shown: str):
    data = SAMPLE.read_bytes().replace(b"2021-04-29T20:46:00Z", when.encode(), 1)
    got = extract("a.md", "sha", data, SAMPLE_FIELDS)
    assert got.error is None and got.published is False and got.dated is None  # still read
    assert got.warning == (
        f"publishedDateTime (line 5): {shown} is not a date the bot can read (write it like "
        "2020-05-12T09:00:00-05:00); its age comes from the commit that added the file"
    )


def test_no_date_is_no_warning():
    data = SAMPLE.read_bytes().replace(b"publishedDateTime: 2021-04-29T20:46:00Z\n", b"", 1)
    got = extract("a.md", "sha", data, SAMPLE_FIELDS)
    assert (got.error, got.dated, got.warning) == (None, None, None)


def test_a_repeated_key_names_the_key_and_both_lines():
    data = SAMPLE.read_bytes().replace(b"heat: -1\n", b"heat: -1\npublished: true\n", 1)
    for full in (False, True):
        got = extract("a.md", "sha", data, SAMPLE_FIELDS, full=full)
        assert got.error == (
            "duplicate key 'published' on lines 11 and 12: keep one "
            "(YAML would silently use the last)"
        )
    # A live article is read for its flag, title and URL: only those may not repeat.
    live = SAMPLE.read_bytes().replace(b"published: false", b"published: true")
    live = live.replace(b"heat: -1\n", b"heat: -1\nquality: 1\n", 1)
    assert extract("a.md", "sha", live, SAMPLE_FIELDS).published is True
    assert extract("a.md", "sha", live.replace(b"true", b"false", 1), SAMPLE_FIELDS).error


@pytest.mark.skipif(not CORPUS_FILES, reason="shared corpora not present")
def test_repeated_keys_in_the_corpora_are_ones_nobody_reads():
    """14 corpus files repeat a top-level key (expirydate, event_platform, primary_image):
    none that a Hugo field map reads, so none changes outcome."""
    errors = [
        p.name
        for p in CORPUS_FILES
        if (extract(p.name, "sha", p.read_bytes(), HUGO_FIELDS).error or "").startswith(
            "duplicate key"
        )
    ]
    assert errors == []


def test_a_candidate_is_parsed_once_whole(monkeypatch: pytest.MonkeyPatch):
    """A candidate is read whole anyway: the fast path's read of its flag first was a
    second parse of the same text (a tenth of a candidate's cost in a full scan), and its
    fingerprint's body is cut where that read found the frontmatter's end."""
    from storage import frontmatter

    calls: list[str] = []
    for name, said in [
        ("parse_keys", "keys"), ("parse", "whole"), ("load_mapping", "whole"), ("split", "split")
    ]:  # fmt: skip
        real = getattr(frontmatter, name)
        spy = lambda *a, real=real, said=said, **k: calls.append(said) or real(*a, **k)  # noqa: E731
        monkeypatch.setattr(frontmatter, name, spy)
    got = extract("a.md", "sha", SAMPLE.read_bytes(), SAMPLE_FIELDS)
    assert (got.published, got.error, calls) == (False, None, ["split", "whole"])
    assert got.content_hash == dumps(fingerprint_of(SAMPLE.read_bytes(), SAMPLE_FIELDS))
    calls.clear()
    live = SAMPLE.read_bytes().replace(b"published: false", b"published: true")
    assert extract("a.md", "sha", live, SAMPLE_FIELDS).published is True
    assert calls == ["keys"]  # a live one: only the keys the bot needs of it


@pytest.mark.parametrize(
    "change, published",
    [
        (b"\nquality: 1\n", None),  # a key the bot reads twice: the candidate is refused
        (b"\nnobody: [\n", None),  # bad YAML in a block the fast path does not read
        (b"\npublished: true\nquality: 1\n", True),  # live (last flag): the read keys only
    ],
)
def test_a_candidate_that_does_not_parse_whole_reads_as_before(change: bytes, published):
    raw = SAMPLE.read_bytes()
    data = raw.replace(b"\npublished: false\n", b"\npublished: false" + change, 1)
    if published:
        data = data.replace(b"\npublished: false\n", b"\n", 1)
    got = extract("a.md", "sha", data, SAMPLE_FIELDS)
    assert got == extract("a.md", "sha", data, SAMPLE_FIELDS, full=True)
    assert got.published is published
    assert (got.error is None) is bool(published)


def test_a_control_character_in_a_topic_is_a_space_not_a_second_topic():
    """The pool and the cards join an article's topic keys with U+001F: a topic holding one
    (or a newline) would come back as two topics and route the article to a desk it is not
    for. A topic is a one-line label, so any control character in it reads as a space."""
    data = article("Split", topics=("AI",)).encode()
    data = data.replace(
        b"  - AI", b'  - "AI\\x1fPolicy"\n  - "Tech\\n\\tNews"\n  - "AI \\x1f Policy"', 1
    )
    got = extract("a.md", "sha", data, FieldMap())
    assert got.error is None
    assert got.topics == ("AI Policy", "Tech News")
