"""storage.frontmatter over the shapes articles come in: reading, the fast path, byte edits."""

from __future__ import annotations

import contextlib
import difflib
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from storage import frontmatter
from storage.frontmatter import (
    EditError,
    FrontmatterError,
    edit,
    fast_path,
    parse,
    parse_keys,
    read,
    set_keys,
    split,
)
from tests.helpers import same

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "samples" / "nlc-facial-recognition.md"
LISTING = frozenset(
    {"published", "title", "excerpt", "quality", "heat", "topics", "provider", "webUrl"}
    | {"publishedDateTime", "images"}
)
BOM = b"\xef\xbb\xbf"
REAL_THRESHOLDS = (fast_path.MIN_BYTES, fast_path.MAX_SHARE)


def doc(
    yaml_text: str, *, nl: str = "\n", bom: bool = False, close: str = "---", body: str = "Body\n"
) -> bytes:
    """A file: opening '---', the YAML text, the closing line, a body; all with newline nl."""
    text = f"---\n{yaml_text}{close}\n{body}".replace("\r\n", "\n").replace("\n", nl)
    return (BOM if bom else b"") + text.encode()


def diff(old: bytes, new: bytes) -> tuple[list[bytes], list[bytes]]:
    """The lines removed from old and added in new (difflib, line by line)."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    removed: list[bytes] = []
    added: list[bytes] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            removed += a[i1:i2]
            added += b[j1:j2]
    return removed, added


def restricted(data: bytes, keys: frozenset[str] | set[str]) -> dict[str, Any]:
    """What parse_keys(data, keys) must give: parse, refusing those keys twice, restricted."""
    full = parse(data, unique=keys)
    return {k: v for k, v in full.items() if k in keys}


@pytest.fixture(autouse=True)
def always_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let parse_keys take its fast path on documents of any size, to test the scanner."""
    monkeypatch.setattr(fast_path, "MIN_BYTES", 0)
    monkeypatch.setattr(fast_path, "MAX_SHARE", 1.0)


@pytest.fixture
def load_spy(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Records each full parse, to tell the fast path of parse_keys from its fallback."""
    calls: list[bytes] = []
    real = fast_path.load_mapping

    def spy(data: bytes, where: frontmatter.Split, unique: Any = ()) -> dict[str, Any]:
        calls.append(data)
        return real(data, where, unique)

    monkeypatch.setattr(fast_path, "load_mapping", spy)
    return calls


# --------------------------------------------------------------------------------------------
# The shared sample, in the variants a repo may hold it


def _sample() -> bytes:
    if not SAMPLE.exists():
        pytest.skip(f"sample not found at {SAMPLE}")
    return SAMPLE.read_bytes()


def _dots(data: bytes) -> bytes:
    head, _, body = data.partition(b"\n---\n")
    return head + b"\n...\n" + body


def _trailing_blanks(data: bytes) -> bytes:
    head, _, body = data[4:].partition(b"\n---\n")
    return b"--- \t\n" + head + b"\n---  \n" + body


VARIANTS: dict[str, Callable[[bytes], bytes]] = {
    "lf": lambda d: d,
    "crlf": lambda d: d.replace(b"\n", b"\r\n"),
    "bom": lambda d: BOM + d,
    "bom-crlf": lambda d: BOM + d.replace(b"\n", b"\r\n"),
    "dots": _dots,
    "trailing-blanks": _trailing_blanks,
    "close-at-eof": lambda d: d[: d.index(b"\n---\n") + 4],
    "no-body": lambda d: d[: d.index(b"\n---\n") + 5],
}


@pytest.fixture(params=list(VARIANTS))
def sample(request: pytest.FixtureRequest) -> bytes:
    return VARIANTS[request.param](_sample())


def test_sample_parses(sample: bytes) -> None:
    data = parse(sample)
    assert data["published"] is False
    assert data["quality"] == 39 and data["heat"] == -1
    assert data["topics"] == ["Computer Vision", "AI"]
    assert data["provider"] == {"name": "GCN", "domain": "gcn.com"}
    assert len(data["related"]) > 3
    assert data["secured"].startswith("IJEsU+")


def test_sample_split(sample: bytes) -> None:
    where = split(sample)
    text = sample[where.start : where.end]
    assert text.startswith(b"category: news")
    assert text.rstrip().endswith(b'O3xKFgiv2uqv9o+N3wHeag=="')
    assert where.bom == sample.startswith(BOM)
    assert where.newline == (b"\r\n" if b"\r\n" in sample else b"\n")
    assert sample[where.end :].startswith((b"---", b"..."))


def test_sample_fast_path(sample: bytes, load_spy: list[bytes]) -> None:
    fast = parse_keys(sample, LISTING)
    assert load_spy == [], "the sample should not need a full parse"
    assert fast == restricted(sample, LISTING)
    assert set(fast) == LISTING


def test_sample_publish_changes_one_line(sample: bytes) -> None:
    new = set_keys(sample, {"published": True})
    nl = b"\r\n" if b"\r\n" in sample else b"\n"
    assert diff(sample, new) == ([b"published: false" + nl], [b"published: true" + nl])
    assert parse(new) == {**parse(sample), "published": True}


def test_sample_missing_key_is_one_added_line_at_the_end(sample: bytes) -> None:
    new = set_keys(sample, {"draft": False})
    nl = b"\r\n" if b"\r\n" in sample else b"\n"
    assert diff(sample, new) == ([], [b"draft: false" + nl])
    where = split(new)
    assert new[where.start : where.end].endswith(b'=="' + nl + b"draft: false" + nl)


# --------------------------------------------------------------------------------------------
# Shapes: parse_keys must equal parse restricted to the keys, whichever path it takes.
# fast: whether parse_keys(doc, {"published"}) may skip the full parse (None: either).

SHAPES: list[tuple[str, str, bool | None]] = [
    ("flat", "title: Hello\npublished: false\nquality: 39\n", True),
    ("comment after value", "title: Hello\npublished: false # not yet\n", True),
    ("comments and blanks", "# top\n\ntitle: Hi  # c\n\n# mid\npublished: false\n\n# end\n", True),
    ("quoted values", "title: \"Hello: world\"\npublished: \"false\"\nexcerpt: 'it''s'\n", True),
    ("yaml 1.1 no", "published: no\n", True),
    ("yaml 1.1 off", "published: off\n", True),
    ("yaml 1.1 False", "published: False\n", True),
    ("yaml 1.1 On", "published: On\n", True),
    ("empty", "", True),
    ("only comments", "# nothing here\n", True),
    ("nested map", "provider:\n  name: GCN\n  domain: gcn.com\npublished: false\n", True),
    ("compact sequence", "topics:\n- AI\n- Vision\npublished: false\n", True),
    ("indented sequence", "topics:\n  - AI\n  - url: 'x'\n    width: 3\npublished: false\n", True),
    ("block literal with a quote", 'excerpt: |\n  one\n  "two\n\n  three\npublished: no\n', True),
    ("block keep then comment", "excerpt: >+\n  folded\n\n\n# col 0\npublished: false\n", True),
    ("block indent indicator", "excerpt: |2\n   more\n  less\npublished: false\n", True),
    ("multi-line plain", "excerpt: first line\n  second 'line\n  third\npublished: false\n", None),
    ("multi-line plain before", "excerpt: first line\n  second line\npublished: false\n", True),
    ("multi-line dq indented", 'excerpt: "first\n  second"\npublished: false\n', True),
    ("flow sequence", "topics: [AI, \"a, b\", 'c]']\npublished: false\n", True),
    ("flow over lines", "topics: [AI,\n  Vision]\npublished: false\n", True),
    ("anchors elsewhere", "base: &b\n  x: 1\nother: *b\npublished: false\n", True),
    ("html entities", "title: A &mdash; B\nsummary: 'x &ldquo;y&rdquo;'\npublished: false\n", True),
    (
        "timestamps",
        "publishedDateTime: 2021-04-29T20:46:00Z\ndate: 2021-04-29\npublished: no\n",
        True,
    ),
    ("long secured", 'published: false\nsecured: "' + "A" * 5000 + '"\n', True),
    ("empty value", "draft:\npublished:\n", True),
    ("non-ascii", "title: Überraschung — “quoted”\nauthor: José\npublished: false\n", True),
    ("quoted keys", "\"published\": false\n'title': t\n", True),
    ("html paragraph key", '<p>In the movies, hackers: are "bad".</p>\npublished: false\n', True),
    ("tab after list item", "authors:\n- melody\t\t\npublished: false\n", None),
    ("non-str keys", "true: yes\n2021: year\npublished: off\n", True),
    ("dq hides a key", 'summary: "Starts here\npublished: true"\ntitle: t\n', False),
    ("sq hides a key", "summary: 'it''s\npublished: yes'\npublished: no\n", False),
    ("flow hides a key", "provider: {name: GCN,\npublished: true}\ntitle: t\n", False),
    ("alias in wanted block", "a: &x false\npublished: *x\n", False),
    ("anchor in wanted block", "published: &x false\nb: *x\n", False),
    ("merge key", "base: &b\n  published: true\n<<: *b\ntitle: t\n", False),
    ("complex key", "? published\n: false\ntitle: t\n", False),
    ("duplicate key", "published: false\ntitle: t\npublished: true\n", False),
    ("int value", "published: 1\n", True),
    ("NEL is a line break", "title: a\u0085published: true\n", False),
    ("LS is a line break", "title: a\u2028published: true\n", False),
    ("lone CR is a line break", "title: a\rpublished: true\n", False),
    ("flow mapping document", "{title: t, published: false}\n", False),
    ("indented top level", "  title: t\n  published: false\n", False),
    ("directive", "%YAML 1.1\npublished: false\n", False),
    ("tab at column 0", "title: t\n\tpublished: false\n", False),
    ("list document", "- a\n- b\n", False),
    ("scalar document", "just text\n", False),
    ("error in wanted block", "title: t\npublished: [unclosed\n", False),
    ("python tag in wanted block", "published: !!python/object/apply:os.getcwd []\n", False),
]
SHAPE_IDS = [name for name, _, _ in SHAPES]


def _keysets(data: bytes) -> list[frozenset[str]]:
    try:
        every = frozenset(k for k in parse(data) if isinstance(k, str))
    except FrontmatterError:
        every = frozenset()
    return [frozenset({"published"}), frozenset({"title", "published"}), every, frozenset()]


@pytest.mark.parametrize("nl", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize(("name", "text", "fast"), SHAPES, ids=SHAPE_IDS)
def test_parse_keys_equals_parse(name: str, text: str, fast: bool | None, nl: str) -> None:
    data = doc(text, nl=nl)
    for keys in [*_keysets(data), frozenset({"nope"})]:
        try:
            expected = restricted(data, keys)
        except FrontmatterError as exc:
            # The fast path raises too when a wanted block is broken; see the next tests.
            with pytest.raises(FrontmatterError) as raised:
                parse_keys(data, keys | {"published"})
            assert raised.value.reason == exc.reason
            continue
        assert parse_keys(data, keys) == expected, keys
        assert parse_keys(data, list(keys)) == expected  # any Collection will do


@pytest.mark.parametrize(("name", "text", "fast"), SHAPES, ids=SHAPE_IDS)
def test_fast_path_is_taken_only_when_safe(
    name: str, text: str, fast: bool | None, load_spy: list[bytes]
) -> None:
    data = doc(text)
    with contextlib.suppress(FrontmatterError):
        parse_keys(data, {"published"})
    if fast is not None:
        assert (load_spy == []) is fast


def test_small_documents_and_big_shares_get_a_full_parse(
    monkeypatch: pytest.MonkeyPatch, load_spy: list[bytes]
) -> None:
    monkeypatch.setattr(fast_path, "MIN_BYTES", REAL_THRESHOLDS[0])
    monkeypatch.setattr(fast_path, "MAX_SHARE", REAL_THRESHOLDS[1])
    small = doc("title: t\nrelated:\n  - x\n")
    assert parse_keys(small, {"title"}) == {"title": "t"}
    assert len(load_spy) == 1  # a full parse costs about what the scanner does
    big = doc("title: t\nrelated:\n" + "  - x\n" * 1000)
    assert parse_keys(big, {"title"}) == {"title": "t"}
    assert len(load_spy) == 1  # the fast path
    assert parse_keys(big, {"related"}) == {"related": ["x"] * 1000}
    assert len(load_spy) == 2  # most of the text asked for: one full load is cheaper


def test_fast_path_misses_errors_only_in_blocks_not_asked_for() -> None:
    data = doc("title: t\nbroken: [unclosed\nmore: x\n")
    with pytest.raises(FrontmatterError, match="line 4"):
        parse(data)
    assert parse_keys(data, {"title"}) == {"title": "t"}  # the documented blind spot
    with pytest.raises(FrontmatterError, match="line 4"):
        parse_keys(data, {"title", "broken"})


def test_a_key_that_is_not_a_str_is_not_found_by_its_text(load_spy: list[bytes]) -> None:
    data = doc("true: x\n2021: y\n'on': z\npublished: no\n")
    assert parse_keys(data, {"true", "2021", "on"}) == {"on": "z"}
    assert load_spy == []
    assert parse(data) == {True: "x", 2021: "y", "on": "z", "published": False}
    new = set_keys(data, {"true": 1})  # the str key "true" is new: a line is added
    assert diff(data, new) == ([], [b'"true": 1\n'])


def test_hidden_key_in_a_quoted_string_is_not_a_key() -> None:
    # Real case (digitalgov uswds-monthly-call-october-2024): a double-quoted summary runs
    # on, at column 0, over a line that looks like the next key.
    data = doc('summary: "The team will share\nevent_organizer: Digital.gov"\nhost: GSA\n')
    assert "event_organizer" not in parse(data)
    assert parse_keys(data, {"event_organizer"}) == {}
    assert parse_keys(data, {"event_organizer", "host"}) == {"host": "GSA"}
    new = set_keys(data, {"event_organizer": "TTS"})
    assert diff(data, new) == ([], [b"event_organizer: TTS\n"])


# --------------------------------------------------------------------------------------------
# set_keys: the value token changes, nothing else

EDITS: list[tuple[str, str, dict[str, Any], str]] = [
    ("flip", "published: false\n", {"published": True}, "published: true\n"),
    (
        "comment kept",
        "published: false # not yet\n",
        {"published": True},
        "published: true # not yet\n",
    ),
    ("spacing kept", "published:   false   \n", {"published": True}, "published:   true   \n"),
    (
        "tab spacing kept",
        "published:\tfalse\t# x\n",
        {"published": True},
        "published:\ttrue\t# x\n",
    ),
    ("no", "published: no\n", {"published": True}, "published: true\n"),
    ("off", "published: off\n", {"published": True}, "published: true\n"),
    ("False", "published: False\n", {"published": True}, "published: true\n"),
    ("to false", "published: yes\n", {"published": False}, "published: false\n"),
    ("dq string stays dq", 'published: "false"\n', {"published": "true"}, 'published: "true"\n'),
    ("dq string to bool", 'published: "false"\n', {"published": True}, "published: true\n"),
    ("sq string stays sq", "published: 'false'\n", {"published": "it's"}, "published: 'it''s'\n"),
    ("sq cannot hold a newline", "title: 'x'\n", {"title": "a\nb"}, 'title: "a\\nb"\n'),
    ("plain stays plain", "title: Hello\n", {"title": "Hello again"}, "title: Hello again\n"),
    ("plain needs quotes", "title: Hello\n", {"title": "a: b # c"}, 'title: "a: b # c"\n'),
    ("str that reads as bool", "title: Hello\n", {"title": "yes"}, 'title: "yes"\n'),
    ("str that reads as int", "title: Hello\n", {"title": "39"}, 'title: "39"\n'),
    ("empty str", "title: Hello\n", {"title": ""}, 'title: ""\n'),
    ("dq escapes", 'title: "x"\n', {"title": 'say "hi" \\'}, 'title: "say \\"hi\\" \\\\"\n'),
    ("control chars", "title: x\n", {"title": "a\x00b\tc\u2028"}, 'title: "a\\0b\\tc\\u2028"\n'),
    (
        "non-ascii stays raw",
        "title: x\n",
        {"title": "Überraschung — “q”"},
        "title: Überraschung — “q”\n",
    ),
    ("null to bool", "draft:\n", {"draft": True}, "draft: true\n"),
    ("null with comment", "draft:   # later\n", {"draft": True}, "draft: true   # later\n"),
    ("to null", "draft: true\n", {"draft": None}, "draft: null\n"),
    ("int", "quality: 39\n", {"quality": 40}, "quality: 40\n"),
    ("negative to float", "heat: -1\n", {"heat": 2.5}, "heat: 2.5\n"),
    ("big float keeps a dot", "heat: -1\n", {"heat": 1e20}, "heat: 1.0e+20\n"),
    ("inf", "heat: -1\n", {"heat": -math.inf}, "heat: -.inf\n"),
    ("added", "title: t\n", {"published": True}, "title: t\npublished: true\n"),
    (
        "added after comments",
        "title: t\n# end\n\n",
        {"draft": False},
        "title: t\n# end\n\ndraft: false\n",
    ),
    ("added to empty", "", {"published": True}, "published: true\n"),
    ("added key that reads as bool", "title: t\n", {"yes": True}, 'title: t\n"yes": true\n'),
    ("added key with colon", "title: t\n", {"a: b": 1}, 'title: t\n"a: b": 1\n'),
    ("added str value", "title: t\n", {"note": "x: y"}, 'title: t\nnote: "x: y"\n'),
    (
        "edit and add",
        "published: false\n",
        {"published": True, "draft": False},
        "published: true\ndraft: false\n",
    ),
    ("equal value untouched", "published: no\n", {"published": False}, "published: no\n"),
    ("equal str untouched", "title: 'Hi'\n", {"title": "Hi"}, "title: 'Hi'\n"),
    (
        "multi-line plain before",
        "excerpt: one\n  two\npublished: false\n",
        {"published": True},
        "excerpt: one\n  two\npublished: true\n",
    ),
    (
        "block scalar before",
        "excerpt: |\n  text\npublished: false\n",
        {"published": True},
        "excerpt: |\n  text\npublished: true\n",
    ),
    ("quoted key", '"published": false\n', {"published": True}, '"published": true\n'),
    (
        "other keys untouched",
        "a: 'x'\npublished: false\nb: \"y\"  # c\n",
        {"published": True},
        "a: 'x'\npublished: true\nb: \"y\"  # c\n",
    ),
    (
        "key hidden in a string is added",
        'summary: "a\npublished: no"\n',
        {"published": True},
        'summary: "a\npublished: no"\npublished: true\n',
    ),
]


@pytest.mark.parametrize("style", ["lf", "crlf", "bom", "dots"])
@pytest.mark.parametrize(("name", "before", "changes", "after"), EDITS, ids=[e[0] for e in EDITS])
def test_set_keys(name: str, before: str, changes: dict[str, Any], after: str, style: str) -> None:
    options: dict[str, Any] = {
        "lf": {},
        "crlf": {"nl": "\r\n"},
        "bom": {"bom": True},
        "dots": {"close": "..."},
    }[style]
    old = doc(before, **options)
    new = set_keys(old, changes)
    assert new == doc(after, **options)
    before_map = parse(old)
    assert same(parse(new), {**before_map, **changes})
    changed = [k for k in changes if not same(before_map.get(k, ...), changes[k])]
    removed, added = diff(old, new)
    assert len(added) == len(changed)  # one line per changed key, edited or added
    assert len(removed) == len([k for k in changed if k in before_map])


def test_set_keys_returns_the_same_bytes_when_nothing_changes() -> None:
    data = doc("published: no\n")
    assert set_keys(data, {"published": False}) is data
    assert set_keys(data, {}) is data


def test_set_keys_nan() -> None:
    new = set_keys(doc("heat: 1\nscore: .nan\n"), {"heat": math.nan})
    assert new == doc("heat: .nan\nscore: .nan\n")


REFUSALS: list[tuple[str, str, dict[str, Any], str]] = [
    ("nested map", "provider:\n  name: GCN\n", {"provider": "x"}, "nested mapping or list"),
    ("compact list", "topics:\n- AI\n", {"topics": "x"}, "nested mapping or list"),
    ("block literal", "excerpt: |\n  text\n", {"excerpt": "x"}, "block scalar ('|')"),
    ("block folded", "excerpt: >-\n  text\n", {"excerpt": "x"}, "block scalar ('>')"),
    ("flow list", "topics: [a]\n", {"topics": "x"}, "flow collection"),
    (
        "multi-line plain",
        "title: one\n  two\n",
        {"title": "x"},
        "multi-line scalar (continued on line 3)",
    ),
    ("multi-line quoted", 'title: "one\n  two"\n', {"title": "x"}, "quoted string spanning lines"),
    ("anchored", "published: &p false\nother: *p\n", {"published": True}, "anchored"),
    ("alias", "a: &p false\npublished: *p\n", {"published": True}, "alias"),
    ("tagged", "published: !!bool false\n", {"published": True}, "tagged"),
    (
        "twice",
        "published: false\ntitle: t\npublished: false\n",
        {"published": True},
        "twice (lines 2 and 4)",
    ),
    (
        "flow mapping document",
        "{published: false}\n",
        {"published": True},
        "not on a 'key: value' line",
    ),
    (
        "merged in",
        "base: &b\n  published: false\n<<: *b\n",
        {"published": True},
        "not on a 'key: value' line",
    ),
    ("complex key", "? published\n: false\n", {"published": True}, "not on a 'key: value' line"),
]


@pytest.mark.parametrize(
    ("name", "text", "changes", "message"), REFUSALS, ids=[r[0] for r in REFUSALS]
)
def test_set_keys_refuses(name: str, text: str, changes: dict[str, Any], message: str) -> None:
    with pytest.raises(EditError) as raised:
        set_keys(doc(text), changes)
    assert message in str(raised.value)
    assert raised.value.key in changes
    assert repr(raised.value.key) in str(raised.value)  # the message names the key


def test_set_keys_on_a_broken_file_raises_frontmatter_error() -> None:
    with pytest.raises(FrontmatterError, match="unterminated"):
        set_keys(b"---\npublished: false\n", {"published": True})
    with pytest.raises(FrontmatterError, match="YAML error at line 4"):
        set_keys(doc("published: false\nbad: [\n"), {"published": True})


@pytest.mark.parametrize("value", [[1], {"a": 1}, b"bytes", object()])
def test_set_keys_only_writes_scalars(value: object) -> None:
    with pytest.raises(TypeError):
        set_keys(doc("published: false\n"), {"published": value})  # type: ignore[dict-item]


def test_safety_net_catches_a_wrong_location(monkeypatch: pytest.MonkeyPatch) -> None:
    # Make the locator believe the line inside the string is the key: the re-parse refuses.
    data = doc('summary: "a\npublished: no\nb"\n')
    text = data[4:]
    pos = text.index(b"published")
    monkeypatch.setattr(edit, "key_blocks", lambda _t: {"published": [(pos, pos + 14)]})
    with pytest.raises(EditError, match=r"refusing to set 'published': the result reads"):
        set_keys(data, {"published": True})


def test_safety_net_catches_a_wrong_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(edit, "render_value", lambda value, style: b"yes please")
    with pytest.raises(EditError, match="reads 'published' as 'yes please'"):
        set_keys(doc("published: false\n"), {"published": True})
    with pytest.raises(EditError, match="would not parse"):
        monkeypatch.setattr(edit, "render_value", lambda value, style: b"[")
        set_keys(doc("published: false\n"), {"published": True})


# --------------------------------------------------------------------------------------------
# Errors: one line, and a file line number an editor can jump to

ERRORS: list[tuple[str, bytes, str, int | None]] = [
    ("empty file", b"", "no frontmatter: file is empty", 1),
    ("markdown only", b"# Title\n\nText\n", "no frontmatter: file does not start with '---'", 1),
    ("blank line first", b"\n---\ntitle: t\n---\n", "(it comes after 1 blank line)", 1),
    ("toml", b"+++\ntitle = 't'\n+++\n", "TOML frontmatter ('+++') is not supported", 1),
    ("glued", b"---title: t\n---\n", "the first line is '---title: t', not '---'", 1),
    ("unterminated", b"---\ntitle: t\n", "unterminated frontmatter", 1),
    ("only dashes", b"---", "unterminated frontmatter", 1),
    ("four dashes do not close", b"---\ntitle: t\n----\n", "unterminated frontmatter", 1),
    ("binary", b"---\ntitle: t\n---\n\x00\x01", "file is binary (NUL byte at byte 17)", 4),
    ("not utf-8", b"---\ntitle: caf\xe9\n---\n", "not UTF-8 at byte 14", 2),
    ("utf-16", "---\ntitle: t\n---\n".encode("utf-16"), "file is binary", 1),
    ("list", b"---\n- a\n- b\n---\n", "frontmatter is a list, not a mapping", 2),
    ("scalar", b"---\njust text\n---\n", "frontmatter is a string, not a mapping", 2),
    ("number", b"---\n42\n---\n", "frontmatter is a number, not a mapping", 2),
    (
        "tab",
        b"---\ntitle: t\n\tpublished: false\n---\n",
        "YAML error at line 3, column 1: found ",
        3,
    ),  # the message depends on the loader
    (
        "unclosed flow",
        b"---\ntitle: t\nbad: [x\nmore: y\n---\n",
        "YAML error at line 4, column 5: did not find expected ',' or ']' (while parsing a flow "
        "sequence at line 3)",
        4,
    ),
    (
        "another document",
        b"---\ntitle: t\n--- x\n---\n",
        "YAML error at line 3, column 1: but found another document",
        3,
    ),
    ("control char", b"---\ntitle: t\nx: a\x01b\n---\n", "YAML error at line 3: ", 3),
    (
        "python tag",
        b"---\na: !!python/object/apply:os.getcwd []\n---\n",
        "YAML error at line 2, column 4: unsupported YAML tag !!python/object/apply:os.getcwd",
        2,
    ),
    ("local tag", b"---\ntitle: !foo x\n---\n", "unsupported YAML tag !foo", 2),
    ("nested too deep", b"---\na: " + b"[" * 20000 + b"\n---\n", "nest", 2),
]


@pytest.mark.parametrize(("name", "data", "reason", "line"), ERRORS, ids=[e[0] for e in ERRORS])
def test_errors(name: str, data: bytes, reason: str, line: int | None) -> None:
    with pytest.raises(FrontmatterError) as raised:
        parse(data)
    error = raised.value
    assert reason in error.reason
    assert str(error) == error.reason and "\n" not in error.reason
    assert error.line == line
    for call in (
        lambda: parse_keys(data, {"title", "a", "x", "bad"}),
        lambda: set_keys(data, {"a": 1}),
    ):
        with pytest.raises(FrontmatterError) as again:
            call()
        assert again.value.reason == error.reason


@pytest.mark.parametrize("style", ["lf", "crlf", "bom", "bom-crlf"])
def test_error_lines_count_from_the_top_of_the_file(style: str) -> None:
    data = doc(
        "a: 1\nb: 2\n\nc: [x\n# 6\n", nl="\r\n" if "crlf" in style else "\n", bom="bom" in style
    )
    with pytest.raises(FrontmatterError) as raised:
        parse(data)
    assert raised.value.line == 7  # the closing '---' where libyaml notices the missing ']'
    assert raised.value.reason.startswith("YAML error at line 7, column 1:")


def test_too_large(monkeypatch: pytest.MonkeyPatch) -> None:
    data = doc("title: t\n", body="x" * 3_200_000)
    with pytest.raises(FrontmatterError, match=r"^file too large \(3.2 MB > 1 MB limit\)$"):
        parse(data)
    assert parse(data, max_bytes=4_000_000) == {"title": "t"}
    small = doc("title: t\n")
    with pytest.raises(FrontmatterError, match=rf"too large \({len(small)} bytes > 10 bytes limit"):
        split(small, max_bytes=10)
    monkeypatch.setattr(read, "MAX_BYTES", 10)
    for call in (parse, lambda d: parse_keys(d, {"title"}), lambda d: set_keys(d, {"a": 1})):
        with pytest.raises(FrontmatterError, match="too large"):
            call(small)


def test_python_tags_are_refused_and_never_run(tmp_path: Path) -> None:
    pwned = tmp_path / "pwned"
    data = doc(f'title: t\nx: !!python/object/apply:os.system ["touch {pwned}"]\n')
    with pytest.raises(
        FrontmatterError, match=re.escape("unsupported YAML tag !!python/object/apply:os.system")
    ):
        parse(data)
    with pytest.raises(FrontmatterError, match="unsupported YAML tag"):
        parse_keys(data, {"x"})
    assert parse_keys(data, {"title"}) == {"title": "t"}  # not asked for: not even built
    with pytest.raises(FrontmatterError):
        set_keys(data, {"title": "u"})
    assert not pwned.exists()


@pytest.mark.parametrize(
    ("yaml_text", "reason"),
    [
        ("date: 2021-02-30\n", "value '2021-02-30' at line 3 is not a valid timestamp (day is"),
        ("n: !!int zz\n", "value 'zz' at line 3 is not a valid int (invalid literal"),
        ("x: [1, {when: 2021-13-01}]\n", "value '2021-13-01' at line 3 is not a valid timestamp"),
        ("t: !!timestamp soon\n", "value 'soon' at line 3 is not a valid timestamp"),
        # An alias that refers to itself: the search for the bad value must not go round.
        ("r: &r [*r, 2021-02-30]\n", "value '2021-02-30' at line 3 is not a valid timestamp"),
    ],
)
def test_a_value_yaml_cannot_build_is_an_error_with_its_line(yaml_text: str, reason: str) -> None:
    # PyYAML raises ValueError, not YAMLError, for these: it once escaped and stopped a scan.
    data = doc("title: t\n" + yaml_text)
    with pytest.raises(FrontmatterError) as raised:
        parse(data)
    assert raised.value.reason.startswith(reason)
    assert raised.value.line == 3
    key = yaml_text.split(":")[0]
    chain = "".join(f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]\n" for i in range(1, 40))
    with pytest.raises(FrontmatterError, match="line 43 is not a valid timestamp"):
        parse(
            doc("title: t\na0: &a0 [1]\n" + chain + yaml_text.split(":", 1)[0] + ": 2021-02-30\n")
        )
    with pytest.raises(FrontmatterError, match=re.escape(reason)):
        parse_keys(data, {key})
    with pytest.raises(FrontmatterError):
        set_keys(data, {"published": True})


def test_a_string_shaped_like_a_bad_date_is_written_quoted() -> None:
    edited = set_keys(doc("title: t\n"), {"when": "2021-02-30"})
    assert b'when: "2021-02-30"\n' in edited
    assert parse(edited)["when"] == "2021-02-30"


def test_tab_after_a_list_item_depends_on_the_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    # As in 18f-posts 2016-05-19-content-debt-...: libyaml (and so Jekyll) reads it; the
    # pure-Python loader does not. This module uses libyaml when installed.
    data = doc("title: t\nauthors:\n- melody\t\t\ntags:\n- x\n")
    if frontmatter.LOADER is not yaml.SafeLoader:
        assert parse(data)["authors"] == ["melody"]
    monkeypatch.setattr(read, "LOADER", yaml.SafeLoader)
    with pytest.raises(FrontmatterError) as raised:
        parse(data)
    assert raised.value.reason == (
        "YAML error at line 4, column 9: found character '\\t' that cannot start any token"
        " (while scanning for the next token)"
    )


@pytest.mark.parametrize(
    ("data", "start", "end", "newline", "bom"),
    [
        (b"---\na: 1\n---\n", 4, 9, b"\n", False),
        (b"---\r\na: 1\r\n---\r\n", 5, 11, b"\r\n", False),
        (BOM + b"---\na: 1\n---", 7, 12, b"\n", True),
        (b"--- \t\na: 1\n...  \nbody", 6, 11, b"\n", False),
        (b"---\n---\n", 4, 4, b"\n", False),
        (b"---\n...", 4, 4, b"\n", False),
        (b"---\na: '---'\n --- \n---\n", 4, 19, b"\n", False),
    ],
)
def test_split(data: bytes, start: int, end: int, newline: bytes, bom: bool) -> None:
    assert split(data) == frontmatter.Split(start, end, newline, bom)


# ------------------------------------------------------------------------ repeated keys


@pytest.mark.parametrize("nl", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("published: true\ntitle: t\npublished: false\n", "2 and 4"),
        ("published: true\n'published': false\n\"published\": true\n", "2, 3 and 4"),
        ("# c\npublished: true\nblock: |\n  x\npublished: false\n", "3 and 6"),
    ],
)
def test_a_repeated_key_that_is_read_is_refused_with_its_lines(
    text: str, lines: str, nl: str, load_spy: list[bytes]
) -> None:
    """PyYAML keeps the last of two equal keys, silently: `published: true` then
    `published: false` would read as a draft. Refused by name, on both read paths."""
    data = doc(text, nl=nl, bom=True)
    reason = (
        f"duplicate key 'published' on lines {lines}: keep one (YAML would silently use the last)"
    )
    for reading in (
        lambda: parse(data, unique={"published"}),
        lambda: parse_keys(data, {"published"}),
    ):
        with pytest.raises(FrontmatterError) as raised:
            reading()
        assert raised.value.reason == reason
        assert raised.value.line == int(lines.split()[0].rstrip(","))
    # Keys nobody asked about may repeat, as PyYAML has it.
    assert parse(data)["published"] == parse(data, unique={"title"})["published"]
    assert parse_keys(data, {"title", "block"}) == restricted(data, {"title", "block"})


def test_a_repeated_key_hidden_from_the_line_scanner_is_still_refused() -> None:
    data = doc('"pub\\x6cished": true\ntitle: t\npublished: false\n')
    with pytest.raises(FrontmatterError, match="duplicate key 'published' on lines 2 and 4"):
        parse_keys(data, {"published"})
    assert frontmatter.key_line(data, "title") == 3
    assert frontmatter.key_line(data, "nope") is None
