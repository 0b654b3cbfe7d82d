"""What no single desk shows: how the desks agree with each other and with the shared sections.

Told with the file's other errors, all at once: the names, channels and topics are compared as
written, so a desk with a mistake of its own still takes part; whether anyone can vote in a
desk, and whether one emoji means both votes, is asked of each desk that reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from bot.config.models import DeskSection, File, SlackSection, VotesSection
from bot.config.values import CHANNEL

_EMOJI_KEYS = ("publish", "reject", "unpublish", "veto")  # the order votes.* checks them in
_UNQUOTED = ' (an unquoted #name is a YAML comment: write channel: "#curation")'


def desk_problems(data: Any, file: File | None) -> list[tuple[str, str]]:
    """(dotted key, message) for every problem between desks, and a missing slack.channel
    when there are no desks to post in."""
    if not isinstance(data, Mapping):
        return []
    told = _channel_needed(data)
    raw = data.get("desks")
    if not isinstance(raw, list) or not raw:
        return told
    slack = file.slack if file is not None else _valid(SlackSection, data.get("slack"))
    votes = file.votes if file is not None else _valid(VotesSection, data.get("votes"))
    return told + _as_written(raw) + _each_desk(raw, slack, votes or VotesSection())


def _channel_needed(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    if data.get("desks"):
        return []  # with desks, failures are told in the first desk's channel
    slack = data.get("slack")
    if slack is None:
        return [("slack.channel", f"missing; expected {CHANNEL}")]
    if isinstance(slack, Mapping) and slack.get("channel") is None:
        hint = _UNQUOTED if "channel" in slack else ""
        return [("slack.channel", f"missing; expected {CHANNEL}{hint}")]
    return []


def _as_written(raw: list[Any]) -> list[tuple[str, str]]:
    """Names and channels used twice, a catch-all desk before another: from the values as
    written, whatever else is wrong with a desk."""
    told: list[tuple[str, str]] = []
    names: dict[str, int] = {}
    channels: dict[str, int] = {}
    for i, desk in enumerate(raw):
        if not isinstance(desk, Mapping):
            continue
        name, channel = _text(desk.get("name")), _text(desk.get("channel"))
        if name and (first := names.setdefault(name.casefold(), i)) != i:
            told.append((f"desks[{i}].name", f"{name!r} is also the name of desks[{first}]"))
        if channel and (first := channels.setdefault(channel, i)) != i:
            told.append((f"desks[{i}].channel", f"{channel} is also the channel of desks[{first}]"))
        if not desk.get("topics") and i != len(raw) - 1:
            catch_all = "a desk without topics takes every article left, so it must be the last"
            told.append((f"desks[{i}].topics", f"{catch_all} desk: move it down or give it topics"))
    return told


def _each_desk(
    raw: list[Any], slack: SlackSection | None, votes: VotesSection
) -> list[tuple[str, str]]:
    """Who can vote, and which emoji mean what, in each desk that reads on its own."""
    told: list[tuple[str, str]] = []
    for i, item in enumerate(raw):
        desk = _valid(DeskSection, item)
        if desk is None:
            continue  # its own errors are told by the file's validation
        at = f"desks[{i}]"
        if slack is not None:
            editors, group = desk.voters(slack.editors, slack.editor_group)
            if not editors and group is None:
                told.append((at, "no editor can vote in this desk: set its editors or "
                             "editor_group (or slack.editors / slack.editor_group)"))  # fmt: skip
        # Each reaction means one thing in the desk, whichever lists it sets itself and which
        # it shares: a desk's reject: [rewind] beside the shared unpublish: [rewind] is a desk
        # that can never unpublish by vote.
        own = desk.own(_EMOJI_KEYS)
        lists = {key: own.get(key, getattr(votes, key)) for key in _EMOJI_KEYS}
        for n, first in enumerate(_EMOJI_KEYS):
            for second in _EMOJI_KEYS[n + 1 :]:
                both = [name for name in lists[first] if name in lists[second]]
                if both:
                    told.append((at, f"{', '.join(both)} means both {first} and {second} in "
                                 "this desk; one reaction cannot mean both"))  # fmt: skip
    return told


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _valid(section: type[Any], data: Any) -> Any:
    try:
        return section.model_validate(data if data is not None else {})
    except ValidationError:
        return None
