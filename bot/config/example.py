"""The commented example config that ``curator init`` writes."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from bot.config.errors import ConfigError


def example_path() -> Path:
    """The commented example, ``manifests/curator.example.yml``, shipped as ``bot.manifests``."""
    # A file on disk either way: pip installs a wheel unpacked, and an editable install maps
    # bot.manifests onto the repo's manifests/ folder.
    return Path(str(resources.files("bot.manifests") / "curator.example.yml"))


def example_config() -> str:
    """The text of the commented example config, the single source for ``curator init``."""
    return example_path().read_text(encoding="utf-8")


def write_example(target: Path, *, force: bool = False) -> Path:
    """Write the example config to ``target`` and return it; never clobber an edited file.

    Refuses (ConfigError) when ``target`` exists unless ``force`` is true; missing parent
    directories are created.
    """
    target = Path(target)
    text = example_config()
    if target.is_dir():
        raise ConfigError(f"{target}: is a directory; give the path of the file to create")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        # "x" creates exclusively, so a file appearing after a check is never overwritten.
        with target.open("w" if force else "x", encoding="utf-8") as out:
            out.write(text)
    except FileExistsError:
        raise ConfigError(
            f"{target}: already exists; not overwriting it (use --force to replace it)"
        ) from None
    return target
