"""The long-lived parts built from a config: database engine and content repo."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from bot.config import Config
from storage import posts
from storage.db import open_kept, redacted
from storage.db_errors import place_of
from storage.gitrepo import ContentRepo
from storage.pathfilter import PathFilter
from storage.schema_version import schema_is_current

log = logging.getLogger(__name__)


class SchemaError(RuntimeError):
    """The database schema is behind the code and will not be upgraded implicitly."""


@dataclass
class Runtime:
    config: Config
    engine: Engine
    repo: ContentRepo
    paths: PathFilter


def build_runtime(config: Config) -> Runtime:
    """Open the database (bringing its schema up to date) and the bot's content clone."""
    engine = open_kept(config.database_url)
    ensure_schema(engine, config.database_url)
    _rehome_cards(engine, config)
    repo = ContentRepo(config.content.checkout, config.content.remote, config.content.branch)
    paths = PathFilter(config.content.include, config.content.exclude)
    return Runtime(config, engine, repo, paths)


def _rehome_cards(engine: Engine, config: Config) -> None:
    """Every card belongs to a desk this config names (``posts.rehome_cards``): cards from
    before desks, or of a desk since renamed or removed, are voted on and expire somewhere."""
    desks = {d.name: d.channel for d in config.desks}  # a card keeps the channel's ID: IDs match
    moved = posts.rehome_cards(engine, desks=desks, default=config.default_desk.name)
    if moved:
        log.debug("%d card(s) of no configured desk found theirs", moved)


def ensure_schema(engine: Engine, url: str) -> None:
    """SQLite is upgraded in place; a shared PostgreSQL is upgraded by the release step
    (``curator db upgrade``) so replicas never race each other's migrations."""
    if schema_is_current(engine):
        return  # the usual case, told without loading Alembic
    from storage import migrate

    current, head = migrate.current_revision(engine), migrate.head_revision()
    if current == head:
        return
    place = place_of(url)
    if place is not None and place.backend == "sqlite":
        migrate.upgrade(engine)
        return
    raise SchemaError(
        f"database {redacted(url)} is at schema {current or 'none'}, the code needs {head}: "
        "run 'curator db upgrade'"
    )
