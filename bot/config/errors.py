"""How a problem in curator.yml is told: the error, the bad value as shown, and the two kinds
of error the file's validators raise (both become ``file: key: message`` lines)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic_core import PydanticCustomError

from storage.credentials import find_credential, scrub

# The error type of our validators' messages: said as written, where pydantic's own errors
# (wrong type, out of range, unknown key) are put in words by ``bot.config.explain``.
TOLD = "curator_config"


class ConfigError(Exception):
    """A config file that cannot be used; ``errors`` holds one line per problem.

    Each line names the file, the dotted key and what was expected, e.g.
    ``curator.yml: votes.quorum: expected an integer >= 1, got 'two'``.
    """

    def __init__(self, errors: str | Iterable[str]) -> None:
        self.errors: list[str] = [errors] if isinstance(errors, str) else list(errors)
        super().__init__("\n".join(self.errors))


def describe(value: object) -> str:
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


def problem(message: str, *, at: str | None = None) -> PydanticCustomError:
    """A validator's error, said as written after ``file: key:``. ``at`` (a dotted key from the
    top) names the key the message is about when a check across keys raises it elsewhere."""
    # The message goes in the context, not the template: templates read "{sha}" as a field.
    return PydanticCustomError(TOLD, "{message}", {"message": message, "at": at})


def expected(what: str, got: object, hint: str = "") -> PydanticCustomError:
    """``expected <what>, got <the value>``, the shape of most messages."""
    return problem(f"expected {what}, got {describe(got)}{hint}")
