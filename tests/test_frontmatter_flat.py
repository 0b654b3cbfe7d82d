"""storage.frontmatter.flat: the common shape built as PyYAML builds it, anything else left
to PyYAML (which still reports every error the scan shows)."""

from __future__ import annotations

import re

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.extract import extract
from storage.fields import FieldMap
from storage.frontmatter import LOADER, FrontmatterError, fast_path, flat, parse, parse_keys
from storage.frontmatter import read as read_module
from tests.helpers import same


def _yaml(text: str) -> object:
    return yaml.load(text.encode(), Loader=LOADER)


COMMON = {
    "scalars": (
        "title: \"A 'quoted' title: yes\"\nexcerpt: 'it''s'\nquality: 39\nheat: -1\n"
        "published: false\nwhen: 2021-04-29T20:46:00Z\nday: 2021-04-29\nratio: 2.5\n"
        "none: ~\nempty:\nurl: https://x.y/z?a=b#frag\nyes: y\nOff: on\nhex: 0x1F\n"
        "big: 1_000\ninf: .inf\nsexa: 1:30\nplain: C# rocks, [really] {ok}\n"
    ),
    "comments": "# lead\ntitle: x # a comment\n  # indented\n\nb: 'q'  # c\nc: \"d\" #e\n",
    "blocks": (
        "provider:\n  name: GCN\n  domain: gcn.com\ntopics:\n  - Computer Vision\n  - AI\n"
        'images: []\nflow: {}\nrelated:\n  - title: "T"\n    provider:\n      name: P\n'
        '    images:\n      - url: "u"\n        width: 760\n  -   title: second\n'
        "    # a comment between\n      quality: 5\n"
    ),
    "indentless": "tags:\n- a\n- b: 1\n  c: 2\nafter: x\nnested:\n  list:\n  - 1\n  - 2\n",
    "unicode": "title: Überraschung “smart” city’s 😀\nkey_with-dash_: naïve\n",
}


@pytest.mark.parametrize("name", sorted(COMMON))
def test_the_common_shape_is_read_as_pyyaml_reads_it(name: str) -> None:
    text = COMMON[name]
    got = flat.read(text.encode())
    assert got is not None
    assert same(got, _yaml(text))


# Each is read by PyYAML differently from what a line-by-line reading would make of it, or
# is an error PyYAML reports: flat must leave every one of them to PyYAML.
UNUSUAL = {
    "anchor and alias": "a: &x one\nb: *x\n",
    "anchored block": "a: &x\n  k: v\nb: *x\n",
    "merge key": "base: &b\n  k: v\nm:\n  <<: *b\n",
    "tag": "provider: !!python/object:feeds.Provider\n  name: x\n",
    "str tag": "n: !!str 12\n",
    "binary": "b: !!binary aGk=\n",
    "set": "s: !!set {a, b}\n",
    "literal block": "excerpt: |\n  line one\n  line two\n",
    "folded block": "excerpt: >\n  line one\n  line two\n",
    "plain over two lines": "title: first words\n  second words\n",
    "plain on the next line": "title:\n  words\n",
    "double quoted over two lines": 'title: "starts here\n  ends here"\n',
    "double quoted hides a key": 'summary: "starts here\npublished: true"\n',
    "single quoted over two lines": "title: 'starts\n  ends'\n",
    "escape": 'title: "tab\\there \\u00e9 \\x41"\n',
    "flow sequence": "topics: [a, 'b, c']\n",
    "flow mapping": "p: {name: x}\n",
    "duplicate key": "published: true\ntitle: x\npublished: false\n",
    "duplicate nested key": "p:\n  a: 1\n  a: 2\n",
    "quoted key": '"title": x\n',
    "key with a space": "my key: x\n",
    "complex key": "? a\n: b\n",
    "value mapping on one line": "title: a: b\n",
    "trailing colon": "title: ends:\n",
    "tab": "title:\tx\n",
    "CRLF": "title: x\r\nheat: 1\r\n",
    "NEL": "title: a\x85b\n",
    "line separator": "title: a\u2028b\n",
    "BOM inside": "title: x\n\ufeffheat: 1\n",
    "control character": "title: a\x07b\n",
    "DEL": "title: a\x7fb\n",
    "C1 control": "title: a\x9fb\n",
    "not a character": "title: a\ufffeb\n",
    "bad date": "date: 2021-02-30\n",
    "value tag": "v: =\n",
    "list at the top": "- a\n- b\n",
    "scalar at the top": "just words\n",
    "indented top": "  title: x\n  heat: 1\n",
    "odd indentation": "p:\n    a: 1\n  b: 2\n",
    "deeper after a scalar": "a: 1\n  b: 2\n",
    "sequence in sequence": "s:\n  - - a\n",
    "entry alone": "s:\n  -\n    a: 1\n",
    "directive": "%YAML 1.1\ntitle: x\n",
    "second document": "title: x\n--- more\n",
    "comment with no space": "title: x#not a comment\nn: 'q'#c\n",
    "indicator first": "title: @handle\n",
    "empty": "",
    "only comments": "# nothing\n",
}


@pytest.mark.parametrize("name", sorted(UNUSUAL))
def test_anything_unusual_is_left_to_pyyaml(name: str) -> None:
    text = UNUSUAL[name]
    assert flat.read(text.encode()) is None
    data = b"---\n" + text.encode() + b"---\nbody\n"
    try:
        expected = _yaml(text)
    except Exception:
        with pytest.raises(FrontmatterError):
            parse(data)
        return
    if not isinstance(expected, dict) or "duplicate" in name:
        return  # parse refuses these itself; tests/test_frontmatter.py has the messages
    assert same(parse(data), expected)


def test_a_repeated_key_is_still_refused_with_its_lines() -> None:
    data = b"---\n" + UNUSUAL["duplicate key"].encode() + b"---\n"
    with pytest.raises(FrontmatterError, match="duplicate key 'published' on lines 2 and 4"):
        parse(data, unique={"published"})
    with pytest.raises(FrontmatterError, match="duplicate key 'published'"):
        parse_keys(data, {"published", "title"})


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("non-UTF-8", b"---\ntitle: caf\xe9\npublished: false\n---\n", "not UTF-8 at byte"),
        ("binary", b"---\ntitle: x\0\n---\n", "file is binary"),
        ("huge", b"---\ntitle: x\npublished: false\n---\n" + b"x" * 1_000_001, "too large"),
        ("python tag", b"---\np: !!python/object:x.Y\n  a: 1\npublished: false\n---\n", "tag"),
        ("bad YAML", b"---\npublished: false\nquality: [3\n---\n", "flow sequence at line 3"),
        ("bad date", b"---\npublished: false\nd: 2021-02-30\n---\n", "at line 3 is not a valid"),
    ],
)
def test_broken_candidates_still_get_their_error(
    name: str, data: bytes, reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = extract("a.md", "0" * 40, data, FieldMap())
    assert row.error is not None and reason in row.error, row.error
    reference_only(monkeypatch)
    assert extract("a.md", "0" * 40, data, FieldMap(), full=True) == row


def reference_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every frontmatter read goes to PyYAML, as before storage.frontmatter.flat."""
    for module in (read_module, fast_path):
        monkeypatch.setattr(module, "read_flat", lambda text: None)


def test_the_characters_flat_reads_are_yaml_printable_less_tab_cr_and_breaks() -> None:
    """YAML 1.1 printable, less TAB and CR (left to PyYAML), NEL/LS/PS and BOM."""
    printable = re.compile(
        "[\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
    )
    points = [*range(0x3000), *range(0xE000, 0x10000), 0x10000, 0x1FFFE, 0x10FFFF]
    for char in map(chr, points):
        for text in (f"a{char}b\n", f"x: é{char}"):
            assert flat.usual(text.encode(), text) == all(map(printable.match, text)), text


def test_flat_never_reads_bytes_that_are_not_utf8() -> None:
    assert flat.read(b"title: caf\xe9\n") is None


# Fragments of frontmatter, common and not, put together at random.
FRAGMENTS = [
    *(f"{k}: {v}" for k in ("title", "a", "yes", "n", "_k-1") for v in ("x", "'q'", '"d"')),
    "heat: -1", "q: 0.5", "w: 0o17", "d: 2021-04-29 10:00:00 -05:00", "z: ~", "e:",
    "t: Tue", "f: .NaN", "s: 190:20:30", "i: +12", "b: NO", "u: '#x'", "v: x #c",
    "topics:\n  - a\n  - 'b'", "tags:\n- x\n- y: 1\n  z: 2", "p:\n  name: n\n  d:\n    e: 1",
    "r:\n  - title: t\n    images: []\n  - q: 1", "# c", "", "   ",
    "x: &a 1", "y: *a", "m: |\n  text", "k: !!str 3", "l: [1, 2]", "o: a\n  b",
    "dup: 1\ndup: 2", "c: a: b", "g: \"a\\tb\"", "h:\n   - a\n  - b", "bad: [",
]  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=8))
def test_flat_reads_what_pyyaml_reads_or_nothing(parts: list[str]) -> None:
    text = "".join(part + "\n" for part in parts)
    got = flat.read(text.encode())
    if got is None:
        return
    assert same(got, _yaml(text)), text
