"""Slack's documented limits for a message, and a pure checker every built message passes.

The numbers are Slack's Block Kit reference (https://docs.slack.dev/reference/block-kit/):
blocks (50 per message), section block (text 3,000, fields 10 of 2,000 each), header block
(plain_text 150), context block (10 elements), image block and element (image_url 3,000,
alt_text 2,000), text object (1 to 3,000), button element (text 75, url 3,000, value 2,000),
actions block (25 elements), block_id 255. The message's own ``text`` is truncated by Slack
past 40,000 characters and should stay under 4,000 (chat.postMessage; "Truncating really long
messages", api.slack.com/changelog/2018-04-truncating-really-long-messages): we keep the 4,000.

Slack also refuses a chat.postMessage or chat.update whose blocks hold too much text in all
(``msg_blocks_too_long``). The limit is not documented; Slack's staff spoke of "12,000 text
characters with a buffer for block containers" and messages were refused from about 11,300
(slackapi/bolt-js#2509, #2867). Messages the bot posts keep their blocks' text within
``POSTED_TEXT_MAX``; a /digest answer goes back through the command's response_url, which
that limit does not reach.

A Home tab view (views.publish; https://docs.slack.dev/reference/views/home-tab-views) holds
at most 100 blocks, each under the same block limits; ``private_metadata`` at most 3,000
characters, ``callback_id`` 255; Slack refuses a view over 250 kB (``view_too_large``).

Slack does not say what a "character" is. Lengths here are counted in UTF-16 code units,
which is never less than the number of code points, so a text that passes here passes
however Slack counts (an emoji is one code point and two code units).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slack_sdk.models.blocks import Block


MESSAGE_BLOCKS_MAX = 50
MESSAGE_TEXT_MAX = 4_000  # recommended; Slack truncates at 40,000
TEXT_OBJECT_MAX = 3_000  # any text object: section text, context element, ...
SECTION_TEXT_MAX = 3_000
SECTION_FIELDS_MAX = 10
SECTION_FIELD_MAX = 2_000
HEADER_TEXT_MAX = 150
CONTEXT_ELEMENTS_MAX = 10
IMAGE_URL_MAX = 3_000
ALT_TEXT_MAX = 2_000
IMAGE_TITLE_MAX = 2_000
BUTTON_TEXT_MAX = 75
BUTTON_URL_MAX = 3_000
BUTTON_VALUE_MAX = 2_000
ACTIONS_ELEMENTS_MAX = 25
BLOCK_ID_MAX = 255
ACTION_ID_MAX = 255
POSTED_TEXT_MAX = 10_000  # all text in the blocks of a posted message; see above
VIEW_BLOCKS_MAX = 100
VIEW_METADATA_MAX = 3_000  # private_metadata
VIEW_CALLBACK_ID_MAX = 255
VIEW_BYTES_MAX = 250_000  # the view as JSON; Slack answers view_too_large past 250 kB


class MessageLimitError(ValueError):
    """A built message breaks one of Slack's limits; the message names which."""


def length(text: str) -> int:
    """Length as Slack may count it at most: UTF-16 code units."""
    if text.isascii():  # one code unit a character: most text, counted without a copy
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def message_problems(
    text: str | None, blocks: Sequence[Block | Mapping[str, Any]], *, posted: bool = False
) -> list[str]:
    """Every way ``text`` and ``blocks`` break Slack's limits; empty when the message fits.

    ``posted``: sent with chat.postMessage or chat.update, where the blocks' text in all
    is limited too (``POSTED_TEXT_MAX``)."""
    # here, not at the top: text.py measures with this module, and `status` or `scan` show
    # text without loading the SDK
    from slack_sdk.errors import SlackObjectFormationError
    from slack_sdk.models.blocks import Block

    problems: list[str] = []
    if not isinstance(text, str) or not text.strip():
        problems.append("text: the message needs a fallback text")
    elif length(text) > MESSAGE_TEXT_MAX:
        problems.append(f"text: {length(text)} characters, over {MESSAGE_TEXT_MAX}")
    if len(blocks) > MESSAGE_BLOCKS_MAX:
        problems.append(f"blocks: {len(blocks)}, over {MESSAGE_BLOCKS_MAX}")
    total = 0
    for i, block in enumerate(blocks):
        try:
            data = block.to_dict() if isinstance(block, Block) else dict(block)
        except SlackObjectFormationError as exc:  # the SDK's own checks
            problems.append(f"blocks[{i}]: {exc}")
            continue
        problems += _block(f"blocks[{i}]", data)
        total += text_length(data)
    if posted and total > POSTED_TEXT_MAX:
        problems.append(f"blocks: {total} characters of text in all, over {POSTED_TEXT_MAX}")
    return problems


def ensure_fits(
    text: str | None, blocks: Sequence[Block | Mapping[str, Any]], *, posted: bool = False
) -> None:
    """The last check before a message leaves: raise MessageLimitError naming each problem."""
    problems = message_problems(text, blocks, posted=posted)
    if problems:
        shown = "; ".join(problems[:3]) + (
            f"; and {len(problems) - 3} more" if problems[3:] else ""
        )
        raise MessageLimitError(f"the message breaks Slack's limits: {shown}")


def view_problems(view: Mapping[str, Any]) -> list[str]:
    """Every way a Home tab view (as the dict views.publish sends) breaks Slack's limits."""
    import json

    problems: list[str] = []
    if view.get("type") != "home":
        problems.append("type: a Home tab view is of type 'home'")
    blocks = view.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        return [*problems, "blocks: a view needs blocks"]
    if len(blocks) > VIEW_BLOCKS_MAX:
        problems.append(f"blocks: {len(blocks)}, over {VIEW_BLOCKS_MAX}")
    for i, block in enumerate(blocks):
        problems += _block(f"blocks[{i}]", block)
    problems += _max("private_metadata", view.get("private_metadata"), VIEW_METADATA_MAX)
    problems += _max("callback_id", view.get("callback_id"), VIEW_CALLBACK_ID_MAX)
    size = len(json.dumps(view, ensure_ascii=False).encode())
    if size > VIEW_BYTES_MAX:
        problems.append(f"view: {size} bytes, over {VIEW_BYTES_MAX}")
    return problems


def _block(where: str, b: Mapping[str, Any]) -> list[str]:
    kind = b.get("type")
    out = _max(f"{where}.block_id", b.get("block_id"), BLOCK_ID_MAX)
    if kind == "section":
        if b.get("text") is None and not b.get("fields"):
            out.append(f"{where}: a section needs text or fields")
        if b.get("text") is not None:
            out += _text_object(f"{where}.text", b["text"], SECTION_TEXT_MAX)
        fields = b.get("fields") or []
        if len(fields) > SECTION_FIELDS_MAX:
            out.append(f"{where}.fields: {len(fields)}, over {SECTION_FIELDS_MAX}")
        for j, f in enumerate(fields):
            out += _text_object(f"{where}.fields[{j}]", f, SECTION_FIELD_MAX)
        if b.get("accessory") is not None:
            out += _element(f"{where}.accessory", b["accessory"])
    elif kind == "header":
        out += _text_object(f"{where}.text", b.get("text"), HEADER_TEXT_MAX, plain_only=True)
    elif kind == "context":
        elements = b.get("elements") or []
        if not elements or len(elements) > CONTEXT_ELEMENTS_MAX:
            out.append(f"{where}.elements: {len(elements)}, expected 1 to {CONTEXT_ELEMENTS_MAX}")
        for j, e in enumerate(elements):
            if isinstance(e, Mapping) and e.get("type") == "image":
                out += _image(f"{where}.elements[{j}]", e)
            else:
                out += _text_object(f"{where}.elements[{j}]", e, TEXT_OBJECT_MAX)
    elif kind == "image":
        out += _image(where, b)
        if b.get("title") is not None:
            out += _text_object(f"{where}.title", b["title"], IMAGE_TITLE_MAX, plain_only=True)
    elif kind == "actions":
        elements = b.get("elements") or []
        if not elements or len(elements) > ACTIONS_ELEMENTS_MAX:
            out.append(f"{where}.elements: {len(elements)}, expected 1 to {ACTIONS_ELEMENTS_MAX}")
        for j, e in enumerate(elements):
            out += _element(f"{where}.elements[{j}]", e)
    elif kind != "divider":
        out.append(f"{where}: block type {kind!r} is not one the bot builds")
    return out


def _element(where: str, e: Any) -> list[str]:
    if not isinstance(e, Mapping):
        return [f"{where}: not an element"]
    if e.get("type") == "image":
        return _image(where, e)
    if e.get("type") == "button":
        out = _text_object(f"{where}.text", e.get("text"), BUTTON_TEXT_MAX, plain_only=True)
        out += _max(f"{where}.url", e.get("url"), BUTTON_URL_MAX)
        out += _max(f"{where}.value", e.get("value"), BUTTON_VALUE_MAX)
        return out + _max(f"{where}.action_id", e.get("action_id"), ACTION_ID_MAX)
    return [f"{where}: element type {e.get('type')!r} is not one the bot builds"]


def _image(where: str, e: Mapping[str, Any]) -> list[str]:
    out = []
    url, alt = e.get("image_url"), e.get("alt_text")
    if not isinstance(url, str) or not url.startswith("https://"):
        out.append(f"{where}.image_url: expected an https URL")
    if not isinstance(alt, str) or not alt:
        out.append(f"{where}.alt_text: missing")
    return (
        out
        + _max(f"{where}.image_url", url, IMAGE_URL_MAX)
        + _max(f"{where}.alt_text", alt, ALT_TEXT_MAX)
    )


def _text_object(where: str, t: Any, limit: int, *, plain_only: bool = False) -> list[str]:
    if not isinstance(t, Mapping) or t.get("type") not in ("plain_text", "mrkdwn"):
        return [f"{where}: not a text object"]
    if plain_only and t["type"] != "plain_text":
        return [f"{where}: must be plain_text"]
    text = t.get("text")
    if not isinstance(text, str) or not text:
        return [f"{where}: empty text"]
    # Slack keeps plain_text escaped (``&`` as ``&amp;``, as its payloads show): count it so.
    shown = text if t["type"] == "mrkdwn" else _escaped(text)
    out = _max(where, shown, min(limit, TEXT_OBJECT_MAX))
    if t["type"] == "mrkdwn" and "emoji" in t:
        out.append(f"{where}: emoji is only for plain_text")
    if t["type"] == "plain_text" and "verbatim" in t:
        out.append(f"{where}: verbatim is only for mrkdwn")
    return out


def _max(where: str, value: Any, limit: int) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, str):
        return [f"{where}: expected text"]
    n = length(value)
    return [f"{where}: {n} characters, over {limit}"] if n > limit else []


def text_length(value: Any) -> int:
    """The length of every text object's text below ``value`` (a block as a dict)."""
    if isinstance(value, Mapping):
        own = value.get("text")
        if value.get("type") in ("plain_text", "mrkdwn") and isinstance(own, str):
            return length(own)
        return sum(text_length(v) for v in value.values())
    if isinstance(value, list):
        return sum(text_length(v) for v in value)
    return 0


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
