"""A newsroom of four desks for the per-desk tests: its config, a Slack stand-in that knows
the desks' channels, a day of cards posted in each desk's channel, and reactions sent to the
bot's endpoint as Slack sends them.

Plain helpers, not fixtures: each test module keeps thin fixtures that call them (a fixture
imported from another module would shadow its own parameter names).

- AI (``#ai-desk``): Alice and Dave edit it; quorum 1, a 2-day voting window.
- Policy (``#policy``): Bob, Carol and Dave; quorum 2, a 5-day window.
- Science (configured by ID, ``CSCIENCE``): Alice and Bob; publish emoji ``rocket``, quorum 1.
- General (``#curation``): the catch-all, with ``slack.editors`` (Alice, Bob) and the defaults.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.config import Config, config_from_mapping
from bot.slack import daily_post
from bot.slack.client import make_client
from bot.slack.home import HomeTabs
from storage.fields import FieldMap
from storage.gitrepo import ContentRepo
from storage.models import Post, Vote
from storage.pathfilter import PathFilter
from storage.scan import scan
from tests.helpers import Newsroom, article
from tests.slack_requests import reaction_event, send_event, serve_bot
from tests.slack_standin import SlackStandIn

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
CHANNELS = {"CAIDESK": "ai-desk", "CPOLICY": "policy", "CSCIENCE": "science",
            "CCURATION": "curation", "CRANDOM": "random"}  # fmt: skip
DESK_CHANNEL = {"AI": "CAIDESK", "Policy": "CPOLICY", "Science": "CSCIENCE", "General": "CCURATION"}
DESKS: list[dict[str, Any]] = [
    {"name": "AI", "channel": "#ai-desk", "topics": ["AI"], "editors": ["UALICE", "UDAVE"],
     "quorum": 1, "window_days": 2},
    {"name": "Policy", "channel": "#policy", "topics": ["Policy"],
     "editors": ["UBOB", "UCAROL", "UDAVE"], "quorum": 2, "window_days": 5},
    {"name": "Science", "channel": "CSCIENCE", "topics": ["Science"],
     "editors": ["UALICE", "UBOB"], "publish": ["rocket"], "quorum": 1},
    {"name": "General", "channel": "#curation"},
]  # fmt: skip


@dataclass
class DeskStandIn(SlackStandIn):
    """The stand-in, with every desk's channel (and one that belongs to no desk)."""

    channels: dict[str, str] = field(default_factory=lambda: dict(CHANNELS))

    def _conversations_list(self, p: dict[str, Any]) -> dict[str, Any]:
        listed = [{"id": i, "name": n} for i, n in self.channels.items()]
        return {"ok": True, "channels": listed}

    def _conversations_info(self, p: dict[str, Any]) -> dict[str, Any]:
        name = self.channels.get(p["channel"], "unknown")
        return {"ok": True, "channel": {"id": p["channel"], "name": name, "is_member": True}}


EDITORS = {"UALICE": "Alice", "UBOB": "Bob", "UCAROL": "Carol", "UDAVE": "Dave"}


@contextmanager
def running_standin(users: dict[str, str] = EDITORS) -> Iterator[DeskStandIn]:
    """A started stand-in that knows ``users`` by name (the four editors unless told)."""
    standin = DeskStandIn(users=dict(users)).start()
    try:
        yield standin
    finally:
        standin.stop()


def desk_config(tmp_path: Path, db_url: str, remote: Path, **extra: Any) -> Config:
    data = desk_settings(remote, **extra)
    return config_from_mapping(data, path=tmp_path / "curator.yml", env={"DATABASE_URL": db_url})


def desk_settings(remote: Path, **extra: Any) -> dict[str, Any]:
    """The newsroom's ``curator.yml``, as a mapping."""
    data: dict[str, Any] = {
        "content": {"remote": str(remote)},
        "slack": {"editors": ["UALICE", "UBOB"]},
        "votes": {"quorum": 2, "window_days": 3},
        "candidates": {"per_day": 5, "max_age_days": 100000},
        "schedule": {"publish": "0 10 * * *"},
        "desks": DESKS,
    }
    data.update(extra)
    return data


# Two stories per desk; each article's topic routes it to its desk.
STORIES = {
    "AI": [("AI alpha", 90), ("AI beta", 80)],
    "Policy": [("Policy alpha", 85), ("Policy beta", 75)],
    "Science": [("Science alpha", 70), ("Science beta", 60)],
    "General": [("Sports alpha", 65), ("Sports beta", 55)],
}
TOPIC = {"AI": "AI", "Policy": "Policy", "Science": "Science", "General": "Sports"}


def write_stories(newsroom: Newsroom, content_repo: ContentRepo, engine: Engine) -> None:
    for desk, stories in STORIES.items():
        for title, quality in stories:
            slug = title.lower().replace(" ", "-")
            newsroom.write(f"{slug}.md", article(title, quality=quality, topics=(TOPIC[desk],)))
    newsroom.commit()
    content_repo.fetch()
    scan(engine, content_repo, FieldMap(), PathFilter())


def client(standin: SlackStandIn) -> WebClient:
    return make_client("xoxb-test-token", standin.url)


def post_every_desk(engine: Engine, standin: SlackStandIn, config: Config) -> None:
    for desk in config.desks:
        report = daily_post.post_day(engine, client(standin), config, NOW, desk)
        assert report.posted == 2, (desk.name, report)


def post_a_day(
    newsroom: Newsroom, content_repo: ContentRepo, engine: Engine, standin: SlackStandIn,
    config: Config,
) -> None:  # fmt: skip
    """Two cards in each desk's channel, posted at NOW."""
    write_stories(newsroom, content_repo, engine)
    post_every_desk(engine, standin, config)


@dataclass(frozen=True)
class ServedDay:
    """A day of cards in every desk's channel, and the bot serving Slack's requests."""

    engine: Engine
    newsroom: Newsroom
    repo: ContentRepo
    config: Config
    standin: DeskStandIn
    endpoint: str


@contextmanager
def home_tabs_stopped(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every Home tab watcher started inside ends with it: it would go on reading a database
    that is gone (and log so into later tests). Only the instances are recorded."""
    made: list[HomeTabs] = []
    build = HomeTabs.__init__

    def recorded(self: HomeTabs, *args: Any, **kwargs: Any) -> None:
        build(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(HomeTabs, "__init__", recorded)
    try:
        yield
    finally:
        for home in made:
            home.stop()


@contextmanager
def served_day(
    engine: Engine, newsroom: Newsroom, repo: ContentRepo, config: Config,
    monkeypatch: pytest.MonkeyPatch, **serve: Any,
) -> Iterator[ServedDay]:  # fmt: skip
    """The four editors' stand-in, the day's cards, and the bot's endpoint (``serve``: its
    options, as ``serve_bot`` takes them), its Home tab watchers stopped before the rest."""
    with running_standin() as standin:
        post_a_day(newsroom, repo, engine, standin, config)
        # Watchers are recorded from the app's start on, and stopped once it no longer serves.
        with (
            home_tabs_stopped(monkeypatch),
            serve_bot(config, engine, standin.url, **serve) as endpoint,
        ):
            yield ServedDay(engine, newsroom, repo, config, standin, endpoint)


def cards(engine: Engine) -> dict[str, Any]:
    """Each post row by its article's title."""
    from storage.models import Article

    a, p = Article.__table__, Post.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(p, a.c.title).join(a, a.c.id == p.c.article_id))
        return {r.title: r for r in rows}


def voters(engine: Engine, post_id: int) -> set[tuple[str, str]]:
    """(user, reaction) of the votes recorded and present on a card."""
    v = Vote.__table__
    with engine.connect() as conn:
        rows = conn.execute(
            select(v.c.user_id, v.c.reaction, v.c.present).where(v.c.post_id == post_id)
        )
        return {(r.user_id, r.reaction) for r in rows if r.present}


def status(engine: Engine, title: str) -> str:
    return str(cards(engine)[title].status)


_stamps = itertools.count(1)


def stamp() -> str:
    """A Slack timestamp later than every one before it."""
    return f"{1_800_000_100 + next(_stamps)}.000001"


def react(endpoint: str, title: str, user: str, emoji: str, engine: Engine, *,
          removed: bool = False) -> None:  # fmt: skip
    """``user`` adds (or removes) ``emoji`` on the card of ``title``, as Slack tells the bot."""
    card = cards(engine)[title]
    kind = "reaction_removed" if removed else "reaction_added"
    event = reaction_event(
        kind, user=user, reaction=emoji, channel=card.channel, ts=card.ts, event_ts=stamp()
    )
    assert send_event(endpoint, event) == 200
