"""pydantic's validation errors in curator.yml's words: ``key: what was expected, got what``.

Every error becomes (dotted key, message), with the key as operators write it
(``votes.quorum``, ``slack.editors[1]``, ``content.set_on_publish.note``). An unknown key gets
a "did you mean" (a near-miss here, or the key in another section), a secret-looking one is
refused, and a key that is itself a credential is left to the credential check.
"""

from __future__ import annotations

import difflib
from typing import Any, get_args

from annotated_types import Ge, Le
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from bot.config.errors import TOLD, describe
from bot.config.models import File, schema_keys
from bot.config.secrets import is_credential, secret_key_problem

_NUMBERS_HINT = " (YAML reads +1 and -1 as numbers: quote them, e.g. '+1')"
_YES_NO_HINT = " (YAML reads yes/no/on/off as true/false: quote the key)"


def translate(error: ValidationError) -> list[tuple[str, str]]:
    """(dotted key, message) for each error, in the file's order; credential keys left out."""
    told = []
    items = error.errors(include_url=False)
    # A mapping entry whose key is wrong: the key's error says so, its value is not looked at.
    bad_keys = {item["loc"][:-1] for item in items if item["loc"][-1:] == ("[key]",)}
    for item in items:
        loc, kind, value = item["loc"], item["type"], item.get("input")
        if any(loc[: len(key)] == key and loc[-1] != "[key]" for key in bad_keys):
            continue
        if kind == TOLD:
            told.append((item["ctx"]["at"] or dotted(loc), item["ctx"]["message"]))
        elif kind == "invalid_key":  # YAML keys may be numbers or booleans
            if not is_credential(value):
                hint = _YES_NO_HINT if isinstance(value, bool) else ""
                where = dotted(loc[:-1]) or "(top level)"
                told.append((where, f"keys must be names, got {describe(value)}{hint}"))
        elif kind == "extra_forbidden":
            key = str(loc[-1])
            if not is_credential(key):
                message = secret_key_problem(key) or f"unknown key{_suggest(key, loc[:-1])}"
                told.append((dotted(loc), message))
        elif kind == "missing":
            told.append((dotted(loc), f"missing; expected {_what(loc)}"))
        else:
            hint = ""
            if isinstance(loc[-1], int) and type(value) is int:
                hint = _NUMBERS_HINT
            told.append((dotted(loc), f"expected {_what(loc)}, got {describe(value)}{hint}"))
    return told


def dotted(loc: tuple[int | str, ...]) -> str:
    """``('slack', 'editors', 1)`` -> ``slack.editors[1]``; a dict key's own error
    (``'[key]'``) is about the mapping holding it."""
    if loc and loc[-1] == "[key]":
        loc = loc[:-2]
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _what(loc: tuple[int | str, ...]) -> str:
    """What the setting at ``loc`` expects, from its field (or, for an item or a key of a
    list or mapping setting, the field's ``each``)."""
    model: type[BaseModel] | None = File
    field: FieldInfo | None = None
    for part in loc:
        if isinstance(part, int) and field is not None and _item_model(field) is not None:
            model = _item_model(field)  # an item of a list of sections (a desk)
            continue
        if isinstance(part, int) or part == "[key]" or model is None:
            extra = field.json_schema_extra if field is not None else None
            each = extra.get("each") if isinstance(extra, dict) else None
            return str(each) if each else _describe_field(field)
        field = model.model_fields.get(part)
        if field is None:
            return "a valid value"
        model = _model_of(field)
    return _describe_field(field)


def _model_of(field: FieldInfo) -> type[BaseModel] | None:
    """The section model a field holds, if it holds one."""
    annotation = field.annotation
    return (
        annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    )


def _item_model(field: FieldInfo) -> type[BaseModel] | None:
    """The section model each item of a list setting is (``desks``), if it is one."""
    args = get_args(field.annotation)
    item = args[0] if args else None
    return item if isinstance(item, type) and issubclass(item, BaseModel) else None


def _describe_field(field: FieldInfo | None) -> str:
    """The field's description, or for an integer its bounds: ``an integer from 1 to 50``."""
    if field is None:
        return "a valid value"
    if field.description:
        return field.description
    low = next((m.ge for m in field.metadata if isinstance(m, Ge)), None)
    high = next((m.le for m in field.metadata if isinstance(m, Le)), None)
    if high is not None:
        return f"an integer from {low} to {high}"
    return f"an integer >= {low}"


def _suggest(key: str, parent: tuple[Any, ...]) -> str:
    """' (did you mean X?)' for a near-miss here, else for the key in another section.

    A key in the wrong section (``quorum`` at the top level) is as common as a misspelling.
    """
    prefix = dotted(parent)
    known = _known(parent)
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {_join(prefix, close[0])!r}?)"
    elsewhere: dict[str, list[str]] = {}  # leaf name -> dotted keys it exists as
    keys = schema_keys()
    for section, names in keys.items():
        if section:
            for name in names:
                elsewhere.setdefault(name, []).append(f"{section}.{name}")
    for name in keys[""]:
        elsewhere.setdefault(name, []).append(name)
    close = difflib.get_close_matches(key, list(elsewhere), n=1, cutoff=0.75)
    if close:
        return f" (did you mean {' or '.join(repr(d) for d in elsewhere[close[0]])}?)"
    return f" (expected one of: {', '.join(known)})"


def _known(parent: tuple[Any, ...]) -> tuple[str, ...]:
    model: type[BaseModel] | None = File
    field: FieldInfo | None = None
    for part in parent:
        if isinstance(part, int):
            model = _item_model(field) if field is not None else None
            continue
        field = model.model_fields.get(str(part)) if model is not None else None
        model = _model_of(field) if field is not None else None
    return tuple(model.model_fields) if model is not None else ()


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key
