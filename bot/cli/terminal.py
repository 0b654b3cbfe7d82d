"""Block Kit as readable terminal text, so the CLI and the demo show what Slack would show.

Pure functions: bold stays bold (ANSI when ``color``, otherwise plain), a link reads
``title (url)``, fields read ``Label: value``, context lines are indented, and the HTML
entities the cards escape (``&amp;``, ``&lt;``, ``&gt;``) are shown as the characters.
Control characters from articles are shown as escapes
(:func:`storage.controls.escape_controls`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from storage.controls import CONTROLS, escape_controls

if TYPE_CHECKING:
    from slack_sdk.models.blocks import Block

# The emoji the bot itself writes; others stay as :name:, which a reader understands.
EMOJI = {
    "white_check_mark": "✅", "heavy_check_mark": "✔️", "x": "❌", "warning": "⚠️",
    "+1": "👍", "thumbsup": "👍", "-1": "👎", "thumbsdown": "👎", "hourglass": "⏳",
}  # fmt: skip
RULE = "─" * 72

_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ANGLE = re.compile(r"<([^<>\n]+)>")
_EMOJI = re.compile(r":([a-z0-9_+-]+):")


def json_safe(text: str) -> str:
    """JSON text for a terminal: control characters left raw inside strings (C1, DEL, bidi
    controls; json.dumps escapes only C0) become JSON's own ``\\u`` escapes, so the
    output still decodes to the same values. Its newlines are layout, and kept."""
    return CONTROLS.sub(
        lambda m: m.group() if m.group() == "\n" else f"\\u{ord(m.group()):04x}", text
    )


def mrkdwn_to_text(text: str, *, color: bool = False) -> str:
    """One mrkdwn string as terminal text (its newlines are layout, and kept)."""
    text = escape_controls(text, keep="\n")
    text = _BOLD.sub(lambda m: _bold(m.group(1), color), text)
    text = _ANGLE.sub(_angle, text)
    text = _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)
    # Entities last: the escaped text may itself look like markup once unescaped.
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _bold(text: str, color: bool) -> str:
    return f"\x1b[1m{text}\x1b[22m" if color else text


def _angle(m: re.Match[str]) -> str:
    inner = m.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("@"):  # <@U123>: a user mention
        return "@" + (label or target[1:])
    if target.startswith("#"):  # <#C123|name>: a channel
        return "#" + (label or target[1:])
    if target.startswith("!"):  # <!here>: a special mention
        return "@" + (label or target[1:].split("^")[0])
    return f"{label} ({target})" if label and label != target else target


def render_blocks(
    blocks: Sequence[Block | Mapping[str, Any]], *, color: bool = False, spaced: bool = False
) -> str:
    """A whole message's blocks, one after the other; ``spaced`` puts a blank line between
    them (a list of sections reads better apart, a card's parts together)."""
    parts: list[str] = []
    for block in blocks:
        # A mapping is a block already as JSON; anything else is slack_sdk's, which says it.
        data = dict(block) if isinstance(block, Mapping) else block.to_dict()
        parts.append("\n".join(_block(data, color)))
    return ("\n\n" if spaced else "\n").join(parts)


def _text(obj: Mapping[str, Any] | None, color: bool) -> str:
    if not obj:
        return ""
    if obj.get("type") == "mrkdwn":
        return mrkdwn_to_text(str(obj.get("text", "")), color=color)
    text = escape_controls(str(obj.get("text", "")), keep="\n")
    if obj.get("emoji") is False:  # shown exactly as typed, :x: included
        return text
    return _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)


def _block(data: Mapping[str, Any], color: bool) -> list[str]:
    kind = data.get("type")
    if kind == "header":
        title = _text(data.get("text"), color)
        return [_bold(title, color), "═" * min(len(title), 72)]
    if kind == "divider":
        return [RULE]
    if kind == "context":
        parts = []
        for element in data.get("elements", []):
            if element.get("type") == "image":
                parts.append(f"[{escape_controls(str(element.get('alt_text', 'image')))}]")
            else:
                parts.append(_text(element, color))
        return ["  " + line for line in " ".join(parts).split("\n")]
    if kind == "image":
        alt, url = str(data.get("alt_text", "")), str(data.get("image_url", ""))
        return [f"[image: {escape_controls(alt)}] ({escape_controls(url)})"]
    if kind == "actions":
        return ["  ".join(f"[ {_text(e.get('text'), color)} ]" for e in data.get("elements", []))]
    if kind == "section":
        out = []
        if data.get("text"):
            out += _text(data["text"], color).split("\n")
        fields = [_field(_text(f, color)) for f in data.get("fields", [])]
        if fields:
            out.append(" · ".join(fields))
        accessory = data.get("accessory") or {}
        if accessory.get("type") == "image":
            out.append(f"image: {escape_controls(str(accessory.get('image_url', '')))}")
        return out
    return [f"[{kind} block]"]


def _field(text: str) -> str:
    """A card field is ``*Label*\\nvalue``: shown as ``Label: value``."""
    label, _, value = text.partition("\n")
    return f"{label}: {value.replace(chr(10), ' ')}" if value else label
