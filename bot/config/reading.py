"""Read curator.yml: the file's text and its YAML, problems told with line and column."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.config.errors import ConfigError
from storage.frontmatter.read import VALUE_ERRORS


def read_yaml(path: Path) -> Any:
    """The parsed file; ConfigError for a missing or unreadable file or invalid YAML."""
    label = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{label}: not found; run 'curator init' to create one") from None
    except IsADirectoryError:
        raise ConfigError(f"{label}: is a directory, expected a YAML file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{label}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{label}: cannot read: {exc.strerror or exc}") from None
    return _parse_yaml(text, label)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe loader that also notes duplicate keys, which PyYAML would silently collapse."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[str, int, int]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[tuple[str, str]] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue
            ident = (key_node.tag, key_node.value)
            if ident in seen:
                mark = key_node.start_mark
                self.duplicates.append((key_node.value, mark.line + 1, mark.column + 1))
            seen.add(ident)
        return super().construct_mapping(node, deep=deep)


def _parse_yaml(text: str, label: str) -> Any:
    """Parse YAML safely; syntax errors and duplicate keys become errors with line and column."""
    loader = _Loader(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{label}:{mark.line + 1}:{mark.column + 1}" if mark else label
        problem = exc.problem or "syntax error"
        if exc.context:
            problem = f"{problem} ({exc.context})"
        if exc.context and "alias" in exc.context:
            problem += "; values starting with '*' must be quoted, e.g. \"*/15 * * * *\""
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{label}: invalid YAML: {exc}") from None
    except VALUE_ERRORS as exc:  # a value shaped like a date or number that is not one
        raise ConfigError(f"{label}: invalid YAML value: {exc}") from None
    finally:
        loader.dispose()
    if loader.duplicates:
        raise ConfigError(
            f"{label}:{line}:{col}: duplicate key {key!r}; YAML would silently keep only the last"
            for key, line, col in loader.duplicates
        )
    return data
