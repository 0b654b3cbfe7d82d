"""Text from others (file names, titles, reasons) never reaches a terminal raw (issue 9, 13)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli.terminal import mrkdwn_to_text, render_blocks
from storage.controls import CONTROLS, escape_controls


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("news/a.md", "news/a.md"),
        ("évé/ü — “quoted”.md", "évé/ü — “quoted”.md"),
        ("red\x1b[31m.md", "red\\x1b[31m.md"),
        ("a.md\nfake.md: forged line", "a.md\\nfake.md: forged line"),
        ("tab\tcr\r", "tab\\tcr\\r"),
        ("nul\x00del\x7f", "nul\\x00del\\x7f"),
        ("c1\x9b31m nel\x85", "c1\\x9b31m nel\\x85"),
        ("evil\u202egnp.md", "evil\\u202egnp.md"),  # right-to-left override
        ("iso\u2066late\u2069 mark\u200f", "iso\\u2066late\\u2069 mark\\u200f"),
        ("line\u2028sep", "line\\u2028sep"),
        ("caf\udce9.md", "caf\\udce9.md"),  # a name that is not UTF-8 (surrogateescape)
        ("zero\u200bwidth\ufeff bom\u2060", "zero\\u200bwidth\\ufeff bom\\u2060"),  # invisible
        (
            "family \U0001f468\u200d\U0001f469",
            "family \U0001f468\u200d\U0001f469",
        ),  # a joined emoji
    ],
)
def test_control_characters_show_as_escapes(raw: str, shown: str) -> None:
    assert escape_controls(raw) == shown
    escape_controls(raw).encode("utf-8")  # writable to any UTF-8 terminal


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_nothing_escape_controls_leaves_is_a_control(text: str) -> None:
    assert not CONTROLS.search(escape_controls(text))


def test_cards_in_the_terminal_keep_their_lines_and_escape_the_rest() -> None:
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Title\x1b[2J*\nsecond line"}},
        {"type": "image", "image_url": "https://x/\x1b]8;;evil", "alt_text": "a\nb"},
        {"type": "header", "text": {"type": "plain_text", "text": "Head\x07er"}},
    ]
    out = render_blocks(blocks, color=True)
    assert "\x1b[2J" not in out and "\x07" not in out and "\x1b]8" not in out
    assert "Title\\x1b[2J" in out and "Head\\x07er" in out
    assert "second line" in out.splitlines()  # the card's own line break is layout
    assert "[image: a\\nb]" in out
    assert "\x1b[1m" in out  # our own bold still works
    assert mrkdwn_to_text("a\u202eb\nc") == "a\\u202eb\nc"


def test_json_for_a_terminal_decodes_to_the_same_values() -> None:
    import json

    from bot.cli.terminal import json_safe

    value = {"title": "a\x1b[2J\x9b\u202e\x7f\nb", "path": "caf\\xe9.md", "n": [1, 2]}
    text = json_safe(json.dumps(value, indent=2, ensure_ascii=False))
    assert not CONTROLS.search(text.replace("\n", ""))
    assert json.loads(text) == value


def test_log_messages_cannot_forge_lines_or_reach_the_terminal_raw() -> None:
    import io
    import logging

    from bot.cli.logs import RedactingFilter
    from storage.credentials import Scrubber

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactingFilter(Scrubber({"SLACK_BOT_TOKEN": "xoxb-secret-token"})))
    logger = logging.getLogger("tests.terminal")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("refused %s: %s", "a.md\n2026 INFO all fine\x1b[2J", "xoxb-secret-token")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed on %s", "b\u202e.md")
    finally:
        logger.removeHandler(handler)
    text = out.getvalue()
    assert text.splitlines()[0] == "refused a.md\\n2026 INFO all fine\\x1b[2J: ***"
    assert "failed on b\\u202e.md\nTraceback (most recent call last):" in text
    assert "\x1b" not in text and "\u202e" not in text
