"""The scan's fast path reads the same article as a full parse would."""

from __future__ import annotations

import pytest

from storage import frontmatter
from storage.extract import extract
from storage.fields import FieldMap
from tests.conftest import SAMPLE, SHARED
from tests.helpers import article

CORPORA = SHARED / "corpora"
CORPUS_FILES = sorted(CORPORA.rglob("*.md")) if CORPORA.is_dir() else []
SAMPLE_FIELDS = FieldMap()
HUGO_FIELDS = FieldMap(flag="draft", flag_style="draft", date="date", excerpt="summary")


@pytest.fixture(autouse=True)
def always_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take the fast path even for small documents, where it would normally step aside."""
    monkeypatch.setattr(frontmatter, "_FAST_PATH_MIN_BYTES", 0)
    monkeypatch.setattr(frontmatter, "_FAST_PATH_MAX_SHARE", 1.0)


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
