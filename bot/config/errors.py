"""The error raised for an unusable config file, and how bad values are shown in it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from storage.credentials import (
    find_credential,
    scrub,
)


class ConfigError(Exception):
    """A config file that cannot be used; ``errors`` holds one line per problem.

    Each line names the file, the dotted key and what was expected, e.g.
    ``curator.yml: votes.quorum: expected an integer >= 1, got 'two'``.
    """

    def __init__(self, errors: str | Iterable[str]) -> None:
        self.errors: list[str] = [errors] if isinstance(errors, str) else list(errors)
        super().__init__("\n".join(self.errors))


# ---------------------------------------------------------------------------------- checking


def _describe(value: object) -> str:
    """A short, YAML-flavoured rendering of a bad value for an error message."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and (shape := find_credential(value)) is not None:
        return f"{shape.kind} (not shown; secrets belong in the environment)"
    text = scrub(repr(value))
    if len(text) > 60:
        text = text[:57] + "..."
    if isinstance(value, Mapping):
        return f"a mapping {text}"
    if isinstance(value, list | tuple):
        return f"a list {text}"
    return text
