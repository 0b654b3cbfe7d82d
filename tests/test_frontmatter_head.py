"""storage.frontmatter.head: the wanted keys from the first `key: scalar` lines, or None
whenever anything below could change what PyYAML makes of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.extract import extract
from storage.fields import FieldMap
from storage.frontmatter import (
    LOADER,
    FrontmatterError,
    fast_path,
    head,
    parse,
    parse_keys,
    split,
)
from tests.helpers import same

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "samples" / "nlc-facial-recognition.md"
LIVE = frozenset({"published", "title", "webUrl"})


def _doc(text: str) -> bytes:
    return f"---\n{text}---\nBody\n".encode()


def _restricted(data: bytes, keys: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in parse(data, unique=keys).items() if k in keys}


@pytest.fixture(autouse=True)
def always_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let parse_keys take its shortcuts on documents of any size."""
    monkeypatch.setattr(fast_path, "MIN_BYTES", 0)


@pytest.fixture
def slow_path(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records each time parse_keys goes past the head: the line scanner or a full parse."""
    calls: list[str] = []
    plan, load = fast_path._plan, fast_path.load_mapping
    monkeypatch.setattr(fast_path, "_plan", lambda *a: calls.append("scanner") or plan(*a))
    monkeypatch.setattr(fast_path, "load_mapping", lambda *a: calls.append("full") or load(*a))
    return calls


def test_a_collectors_live_article_is_read_from_its_first_lines(slow_path: list[str]) -> None:
    if not SAMPLE.exists():
        pytest.skip(f"sample not found at {SAMPLE}")
    data = SAMPLE.read_bytes().replace(b"\npublished: false\n", b"\npublished: true\n")
    read = extract("a.md", "0" * 40, data, FieldMap())
    assert (read.published, read.title, read.error) == (True, parse(data)["title"], None)
    assert read.url == "https://gcn.com/articles/2021/04/29/nlc-facial-recognition.aspx"
    assert slow_path == []  # neither the line scanner over every line nor PyYAML


def test_the_keys_come_out_as_pyyaml_builds_them(slow_path: list[str]) -> None:
    text = (
        "# made by the collector\ncategory: news\n\ntitle: \"A: 'quoted' title\"  # c\n"
        "excerpt: 'it''s'\npublished: yes\nwebUrl: https://x.y/z?a=b#frag\nquality: 39\n"
        "provider:\n  name: GCN\ntopics:\n- AI\nrelated:\n  - title: other\n    published: no\n"
    )
    data = _doc(text)
    assert same(parse_keys(data, LIVE), _restricted(data, LIVE))
    assert parse_keys(data, LIVE)["published"] is True
    assert slow_path == []


# Wanted keys all in the head, and something below that makes PyYAML read them otherwise (or
# refuse the file): the head must leave each to the long way, which gets it right.
DECLINED = {
    "named again": "published: false\ntitle: t\nwebUrl: u\nx:\n  - 1\npublished: true\n",
    "named again with a space": "published: false\ntitle: t\nwebUrl: u\npublished : true\n",
    "twice in the head": "published: false\ntitle: t\ntitle: u\nwebUrl: u\n",
    "quoted key below": 'published: false\ntitle: t\nwebUrl: u\n"published": true\n',
    "single-quoted key below": "published: false\ntitle: t\nwebUrl: u\n'published': true\n",
    "complex key below": "published: false\ntitle: t\nwebUrl: u\n? published\n: true\n",
    "tagged key below": "published: false\ntitle: t\nwebUrl: u\n!!str published: true\n",
    "alias key below": "published: false\ntitle: t\nwebUrl: u\nk: &p published\n*p : true\n",
    "merge below": "published: false\ntitle: t\nwebUrl: u\nb: &b {published: 1}\n<<: *b\n",
    "LS before a key": "published: false\ntitle: t\nwebUrl: u\nx: a\u2028published: true\n",
    "PS before a key": "published: false\ntitle: t\nwebUrl: u\nx: a\u2029published: true\n",
    "NEL before a key": "published: false\ntitle: t\nwebUrl: u\nx: a\u0085published: true\n",
    "lone CR before a key": "published: false\ntitle: t\nwebUrl: u\nx: a\rpublished: true\n",
    "BOM at a line's start": "published: false\ntitle: t\nwebUrl: u\n\ufeffpublished: true\n",
    "value goes on below": "title: t\nwebUrl: u\npublished: false\n  or not\n",
    "value goes on after a comment": "title: t\nwebUrl: u\npublished: no\n# c\n  really\n",
    "value goes on after a blank": "title: t\nwebUrl: u\npublished: no\n\n  really\n",
    "an entry after the last value": "title: t\nwebUrl: u\npublished: no\n- really\n",
    "quote open before": 'x: "open\npublished: true"\npublished: false\ntitle: t\nwebUrl: u\n',
    "tab in a value": "title: t\twith tab # c\nwebUrl: u\npublished: false\n",
    "tab at column 0 below": "title: t\nwebUrl: u\npublished: false\n\tx: 1\n",
    "control character": "title: t\x07\nwebUrl: u\npublished: false\n",
    "C1 control in a value": "title: a\u0081b\nwebUrl: u\npublished: false\n",
    "C1 control quoted": "title: 'a\u009fb'\nwebUrl: u\npublished: false\n",
    "U+FFFE in a value": "title: a\ufffeb\nwebUrl: u\npublished: false\n",
    "U+FFFF in a value": "title: t\nwebUrl: u\uffff\npublished: false\n",
    "CRLF": "title: t\r\nwebUrl: u\r\npublished: false\r\n",
    "directive below": "title: t\nwebUrl: u\npublished: false\n%YAML 1.1\n",
    "flow collection first": "topics: [a,\n  b]\ntitle: t\nwebUrl: u\npublished: false\n",
    "block scalar first": "x: |\n  a\ntitle: t\nwebUrl: u\npublished: false\n",
    "anchor in the head": "title: &t t\nwebUrl: u\npublished: false\n",
    "empty wanted value": "title:\nwebUrl: u\npublished: false\n",
    "indented document": "  title: t\n  webUrl: u\n  published: false\n",
}


@pytest.mark.parametrize("name", sorted(DECLINED))
def test_anything_below_that_could_change_the_keys_sends_them_the_long_way(name: str) -> None:
    data = _doc(DECLINED[name])
    assert head.read(data, 4, LIVE) is None
    try:
        expected = _restricted(data, LIVE)
    except FrontmatterError as exc:
        with pytest.raises(FrontmatterError) as raised:
            parse_keys(data, LIVE)
        assert raised.value.reason == exc.reason
    else:
        assert same(parse_keys(data, LIVE), expected)


CLOSINGS = {
    "dashes": b"---\nBody\n",
    "dots": b"...\nBody\n",
    "trailing blanks": b"--- \t\nBody\n",
    "at the end of the file": b"---",
    "dashes then a body with keys": b"---\npublished: true\ntitle: other\n",
}


@pytest.mark.parametrize("name", sorted(CLOSINGS))
def test_the_head_ends_the_frontmatter_where_split_does(name: str) -> None:
    data = b"---\ntitle: t\nwebUrl: u\npublished: false\nx:\n  - 1\n" + CLOSINGS[name]
    values, end = head.read(data, 4, LIVE) or ({}, -1)
    assert (values, end) == ({"title": "t", "webUrl": "u", "published": False}, split(data).end)


def test_no_closing_line_is_left_to_split_which_says_so() -> None:
    data = b"---\ntitle: t\nwebUrl: u\npublished: false\n--- not a close\n"
    assert head.read(data, 4, LIVE) is None
    with pytest.raises(FrontmatterError, match="unterminated"):
        parse_keys(data, LIVE)


def test_keys_that_are_not_plain_words_are_never_looked_for_in_the_head() -> None:
    text = b"true: x\n'on': y\npublished: false\n"
    for wanted in ({"true"}, {"on"}, {"a key"}, set()):
        assert head.read(b"---\n" + text + b"---\n", 4, frozenset(wanted)) is None


# Lines common and hostile, put together at random: whenever the head answers, PyYAML reads
# the same keys, or refuses the file for a line the head did not read a key from (the blind
# spot parse_keys documents: an error in a block not asked for may go unnoticed).
LINES = [
    "title: t", "title: 'q'", 'title: "d # not a comment"', "title: x # c", "title: 3",
    "published: no", "published: true", "published: 'false'", "published: 1",
    "webUrl: https://x.y/z#f", "webUrl: ~", "a: b", "a: 2021-04-29", "a: \"x\" y", "a: [1, 2]",
    "a: {}", "a: |", "a: &x 1", "b: *x", "a:", "  - 1", "- 1", "  k: v", "  more", "# c",
    "  # c", "", "   ", "\tx: 1", '"published": true', "? published", ": x",
    "!!str title: z", "<<: {a: 1}", "a: 'open", "close'", 'a: "open', 'close"',
    "x: a\u2028published: false", "x: a\u0085title: z", "\ufefftitle: z", "title : w",
    "a: b: c", "%TAG ! x", "[a]: 1", "title: t\x07",
]  # fmt: skip


def _key_lines(text: bytes, wanted: frozenset[str]) -> set[int]:
    """The 0-based lines the head read each wanted key from (the first `key:` line)."""
    lines = b"\n" + text
    return {lines.count(b"\n", 0, lines.index(f"\n{key}:".encode())) for key in wanted}


VALUES = [
    "t", "'q'", '"d # not a comment"', "x # c", "3", "no", "true", "'false'", "~", "-1",
    "2021-04-29", "https://x.y/z#f", "Überraschung “x”", "a: b", '"x" y', "[1]", "&a 1", "|", "",
]  # fmt: skip


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.permutations(["published", "title", "webUrl", "a"]),
    st.lists(st.sampled_from(VALUES), min_size=4, max_size=4),
    st.lists(st.tuples(st.integers(0, 6), st.sampled_from(LINES)), max_size=6),
    st.sampled_from([LIVE, frozenset({"title"}), frozenset({"published", "a"})]),
)
def test_the_head_reads_what_pyyaml_reads_or_nothing(
    keys: list[str], values: list[str], extra: list[tuple[int, str]], wanted: Any
) -> None:
    lines = [f"{key}: {value}" for key, value in zip(keys, values, strict=True)]
    for at, line in extra:
        lines.insert(at, line)
    text = "".join(line + "\n" for line in lines).encode()
    answer = head.read(_doc(text.decode()), 4, wanted)
    if answer is None:
        return
    got, end = answer
    assert end == split(_doc(text.decode())).end
    try:
        doc = yaml.load(text, Loader=LOADER)
    except yaml.YAMLError as exc:
        if isinstance(exc, yaml.reader.ReaderError):  # a character YAML refuses, by offset
            line = text.count(b"\n", 0, exc.position)
        else:
            assert exc.problem_mark is not None, text
            line = exc.problem_mark.line
        assert line not in _key_lines(text, wanted), text
        return
    assert isinstance(doc, dict), text
    assert same(got, {k: v for k, v in doc.items() if k in wanted}), text
    # Nothing PyYAML keeps silently: parse (which refuses a wanted key twice) agrees.
    assert same(got, _restricted(_doc(text.decode()), wanted)), text
