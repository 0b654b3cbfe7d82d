"""Properties of storage.frontmatter over generated frontmatter documents (hypothesis)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from storage.frontmatter import EditError, FrontmatterError, fast_path, parse, parse_keys, set_keys
from tests.helpers import same


@pytest.fixture(autouse=True, scope="module")
def always_fast() -> Iterator[None]:
    """Let parse_keys take its fast path on these small documents, to test the scanner."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fast_path, "MIN_BYTES", 0)
        patch.setattr(fast_path, "MAX_SHARE", 1.0)
        yield


KEY_POOL = ["title", "published", "draft", "quality", "heat", "topics", "excerpt", "webUrl"]
# Text that stays on one line and that YAML can hold raw.
LINE_TEXT = st.text(
    st.characters(
        blacklist_categories=("Cs", "Cc", "Cn", "Zl", "Zp"), blacklist_characters="\x85\ufeff"
    ),
    max_size=20,
)
PLAIN_WORDS = st.sampled_from(
    ["false", "true", "no", "off", "On", "39", "-1", "2.5", "null", "~", "2021-04-29",
     "2021-04-29T20:46:00Z", "Hello world", "C# rocks", "http://x.y/z?a=b", "it's",
     'say "hi"', "a:b", "x &mdash; y", "-dash", ".5", "0x1F", "1_000", "Überraschung"]
)  # fmt: skip


@dataclass
class Doc:
    """A generated file and what the generator knows about its lines."""

    data: bytes
    nl: str
    close_line: int  # index of the closing delimiter line, counting lines by '\n'
    key_lines: dict[str, int] = field(default_factory=dict)  # top-level key -> its line
    editable: dict[str, bool] = field(default_factory=dict)  # single-line scalar on its line


@st.composite
def values(draw: st.DrawFn, key: str) -> tuple[list[str], bool]:
    """The text after 'key:' (first line, then more lines) and whether it is editable."""
    kind = draw(st.sampled_from([0, 0, 1, 1, 2, 2, 3, 3, 4, *range(5, 14)]))  # half editable
    comment = draw(st.sampled_from(["", "", "  # note", " #"]))
    gap = draw(st.sampled_from([" ", " ", "   ", "\t"]))
    if kind == 0:
        return [gap + draw(PLAIN_WORDS) + comment], True
    if kind == 1:
        words = draw(
            st.from_regex(r"[A-Za-z][A-Za-z0-9 ,.()/'\"-]{0,15}[A-Za-z0-9.)]", fullmatch=True)
        )
        return [gap + words + comment], True
    if kind == 2:
        return [gap + "'" + draw(LINE_TEXT).replace("'", "''") + "'" + comment], True
    if kind == 3:
        ascii_only = draw(st.booleans())
        return [gap + json.dumps(draw(LINE_TEXT), ensure_ascii=ascii_only) + comment], True
    if kind == 4:
        return [comment], True  # null
    if kind == 5:
        return ["", "  a: 1", "  b: 'x'  # c", "  c:", "    - d"], False
    if kind == 6:
        return ["", "- a", "- 'b'"], False
    if kind == 7:
        return ["", '  - url: "u"', "    width: 3"], False
    if kind == 8:
        return [" [a, 'b, c', \"d]\"]" + comment], False
    if kind == 9:
        return [
            " " + draw(st.sampled_from(["|", ">", "|-", ">+", "|2"])),
            "  line one",
            "  'quote",
            "",
            "  end",
        ], False
    if kind == 10:
        return [" first words", "  second 'words"], False
    if kind == 11:
        # A quoted string that runs on at column 0 over a line that looks like a key.
        hidden = draw(st.sampled_from(["published", *KEY_POOL]))
        return [' "starts here', f'{hidden}: true"'], False
    if kind == 12:
        return [" &anchor" + key + " value"], False
    return [" {a: 1,", "  b: [2]}"], False


@st.composite
def documents(draw: st.DrawFn) -> Doc:
    keys = draw(
        st.lists(
            st.sampled_from(KEY_POOL) | st.from_regex(r"[a-z][a-z0-9_-]{0,6}", fullmatch=True),
            unique=True,
            max_size=8,
        )
    )
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    lines = ["---" + draw(st.sampled_from(["", " "]))]
    key_lines: dict[str, int] = {}
    editable: dict[str, bool] = {}
    if draw(st.booleans()):
        lines.append("# leading comment")
    for key in keys:
        rendered = draw(st.sampled_from([key, key, f'"{key}"', f"'{key}'", f"{key} "]))
        value_lines, can_edit = draw(values(key))
        key_lines[key] = len(lines)
        editable[key] = can_edit
        lines.append(rendered + ":" + value_lines[0])
        lines += value_lines[1:]
        lines += draw(
            st.lists(st.sampled_from(["", "# comment", "  # indented", "   "]), max_size=2)
        )
    close = len(lines)
    lines.append(draw(st.sampled_from(["---", "...", "--- "])))
    body = draw(st.sampled_from(["", "Body", "---\nnot: [yaml", "# Title\r\n\r\ntext"]))
    text = nl.join(lines) + nl + body
    bom = draw(st.booleans())
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode()
    return Doc(data, nl, close, key_lines, editable)


TRICKY_TEXT = st.sampled_from(["it's", "a: b", "yes", "", " x ", "#", "x #y", "'", '"', "\\", "-"])
CHANGE_VALUES = st.one_of(
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    TRICKY_TEXT,
    st.none(),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=documents(), data=st.data())
def test_set_keys_changes_only_what_it_should(document: Doc, data: st.DataObject) -> None:
    raw = document.data
    try:
        old = parse(raw)
    except FrontmatterError:
        event("the generated document does not parse")
        with pytest.raises(FrontmatterError):
            set_keys(raw, {"published": True})
        return
    names = [*sorted(document.key_lines), "draft", "published", "brand-new", "yes", "a: b"]
    # Mostly keys that can be edited, so that most examples get as far as the edit.
    editable = [k for k in sorted(document.key_lines) if document.editable[k]]
    pick = st.sampled_from(names + editable * 4)
    changes = data.draw(st.dictionaries(pick, CHANGE_VALUES, min_size=1, max_size=3))

    # parse_keys is parse restricted, for any keys, on the original ...
    asked = data.draw(st.sets(st.sampled_from(names + KEY_POOL)))
    assert same(parse_keys(raw, asked), {k: v for k, v in old.items() if k in asked})

    try:
        new = set_keys(raw, changes)
    except EditError as exc:
        # Only a key whose value is not a one-line scalar on its line may be refused.
        assert exc.key in changes
        assert exc.key in document.key_lines and not document.editable[exc.key], str(exc)
        event("refused")
        return

    reread = parse(new)
    assert same(reread, {**old, **changes})

    # Line by line: only the edited keys' lines changed; added lines sit before the delimiter.
    edited = {k for k in changes if k in old and not same(old[k], changes[k])}
    added = [k for k in changes if k not in old]
    event(f"edited {min(len(edited), 2)}+, added {min(len(added), 2)}+")
    old_lines = raw.split(b"\n")
    new_lines = new.split(b"\n")
    assert len(new_lines) == len(old_lines) + len(added)
    at = document.close_line
    for line, key in zip(new_lines[at : at + len(added)], added, strict=True):
        assert same(yaml.safe_load(line), {key: changes[key]})
    for n, line in enumerate(old_lines):
        after = new_lines[n if n < at else n + len(added)]
        key = next((k for k, i in document.key_lines.items() if i == n), None)
        if key in edited:
            head = line.split(b":")[0] + b":"
            assert after.startswith(head)
            if b"  # note" in line:
                assert after.rstrip(b"\r").endswith(b"  # note")
            assert line.endswith(b"\r") == after.endswith(b"\r")
        else:
            assert after == line

    # ... and on the result.
    assert same(parse_keys(new, asked), {k: v for k, v in reread.items() if k in asked})
    for key in added:
        assert same(parse_keys(new, {key}), {key: reread[key]})


@settings(max_examples=300, deadline=None)
@given(document=documents(), data=st.data())
def test_parse_keys_is_parse_restricted(document: Doc, data: st.DataObject) -> None:
    try:
        full = parse(document.data)
    except FrontmatterError as exc:
        # Asking for every key reads every block, so the fast path fails the same way.
        with pytest.raises(FrontmatterError) as raised:
            parse_keys(document.data, set(document.key_lines) | {"published"})
        assert raised.value.reason == exc.reason
        return
    asked = data.draw(st.sets(st.sampled_from([*document.key_lines, *KEY_POOL, "nope"])))
    assert same(parse_keys(document.data, asked), {k: v for k, v in full.items() if k in asked})
