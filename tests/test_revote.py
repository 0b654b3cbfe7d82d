"""Changed after the votes: an article that changes after the first vote on its card goes
back to a vote, and publishing never flips a version editors did not approve.

Real git repos (the article changes in the remote, then a scan), SQLite and PostgreSQL,
votes as Slack-signed events into the HTTP endpoint, cards in the local Slack stand-in.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from bot.config import Config, ConfigError, config_from_mapping
from bot.publishing.job import publish_approved
from bot.slack import daily_post
from bot.slack.revote import revote_changed
from storage.fields import FieldMap
from storage.models import Decision, Post
from storage.pathfilter import PathFilter
from storage.scan import scan
from tests.helpers import Newsroom, article, git
from tests.slack_requests import reaction_event, send_event, serve_bot
from tests.slack_standin import SlackStandIn, over_limits
from tests.test_slack_loop import client, eventually, mrkdwn_of

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
CH = "CCURATION"
# Slack event times: the first votes, the change (as the scan's "now"), the new votes.
FIRST, CHANGE, AGAIN = 1800000100, 1800000200, 1800000300
COMMIT_URL = "https://git.example/news/commit/{sha}"


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    s = SlackStandIn(users={"UALICE": "Alice", "UBOB": "Bob"}).start()
    yield s
    s.stop()


def make_config(tmp_path: Path, db_url: str, newsroom: Newsroom, **votes: Any) -> Config:
    return config_from_mapping(
        {
            "content": {"remote": str(newsroom.remote), "commit_url": COMMIT_URL},
            "slack": {"channel": "#curation", "editors": ["UALICE", "UBOB"]},
            "votes": {"quorum": 2, "window_days": 3, **votes},
            "candidates": {"per_day": 1, "max_age_days": 100000},
        },
        path=tmp_path / "curator.yml",
        env={"DATABASE_URL": db_url},
    )


@pytest.fixture
def config(tmp_path: Path, db_url: str, newsroom: Newsroom) -> Config:
    return make_config(tmp_path, db_url, newsroom)


class Desk:
    """One card on the desk: the article in the remote, its votes, its scans."""

    def __init__(self, engine: Engine, newsroom: Newsroom, repo: Any, config: Config,
                 standin: SlackStandIn, endpoint: str) -> None:  # fmt: skip
        self.engine, self.newsroom, self.repo, self.config = engine, newsroom, repo, config
        self.standin, self.endpoint = standin, endpoint
        newsroom.write("a.md", article("Alpha", quality=90))
        newsroom.commit()
        self.scan()
        daily_post.post_day(engine, client(standin), config, NOW)
        self.ts = self.post().ts

    def scan(self, *, at: int = CHANGE) -> list[int]:
        self.repo.fetch()
        result = scan(self.engine, self.repo, FieldMap(), PathFilter())
        when = datetime.fromtimestamp(at, UTC)
        return revote_changed(
            self.engine, self.config, commit=result.commit, now=when, client=client(self.standin)
        )

    def change(self, old: str, new: str) -> str:
        text = (self.newsroom.work / "a.md").read_text().replace(old, new)
        assert text != (self.newsroom.work / "a.md").read_text()
        self.newsroom.write("a.md", text)
        return self.newsroom.commit("the collector rewrote it")

    def vote(self, user: str, at: float, kind: str = "reaction_added") -> None:
        event = reaction_event(
            kind, user=user, reaction="white_check_mark", channel=CH, ts=self.ts,
            event_ts=f"{at:.6f}",
        )  # fmt: skip
        assert send_event(self.endpoint, event) == 200

    def post(self) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(select(Post.__table__)).one()

    def shown(self) -> str:
        return mrkdwn_of(self.standin.messages[(CH, self.ts)]["blocks"])

    def causes(self) -> list[str]:
        with self.engine.connect() as conn:
            return [r.cause for r in conn.execute(select(Decision.__table__))]

    def approve(self) -> None:
        self.vote("UALICE", FIRST)
        self.vote("UBOB", FIRST + 1)
        eventually(lambda: self.post().status == "approved")
        eventually(lambda: "*Approved*" in self.shown())


@pytest.fixture
def desk(engine, newsroom, content_repo, config, standin) -> Iterator[Desk]:
    with serve_bot(config, engine, standin.url) as url:
        yield Desk(engine, newsroom, content_repo, config, standin, url)


def test_a_title_change_after_the_votes_needs_new_votes(desk: Desk):
    desk.approve()
    sha = desk.change('title: "Alpha"', 'title: "Alpha, corrected"')
    assert desk.scan() == [desk.post().id]
    post = desk.post()
    assert post.status == "open" and post.changed_keys == "title"
    assert f"changed since the votes: title (at {sha[:12]})" in desk.causes()
    shown = desk.shown()
    assert "*Open*" in shown and "Changed since the votes:* title in " in shown
    assert f"<{COMMIT_URL.format(sha=sha)}|{sha[:7]}>" in shown  # the commit, linked
    assert "earlier votes: :white_check_mark: 2 · :x: 0" in shown
    assert ":white_check_mark: 0 ·" in shown  # none of them counts now
    assert over_limits(desk.standin.messages[(CH, desk.ts)]) == []
    # A rescan changes nothing twice.
    assert desk.scan() == [] and desk.post().status == "open"

    # Alice votes again (her reaction off and on): one vote is not a quorum.
    desk.vote("UALICE", AGAIN, "reaction_removed")
    desk.vote("UALICE", AGAIN + 1)
    eventually(lambda: "(<@UALICE>)" in desk.shown())
    assert desk.post().status == "open"
    # Someone voted on the new version: the card no longer says it changed since the votes
    # (storage.revotes.awaiting_revotes); Bob's earlier vote still does not count.
    assert "Changed since the votes" not in desk.shown()
    desk.vote("UBOB", AGAIN + 2, "reaction_removed")
    desk.vote("UBOB", AGAIN + 3)
    eventually(lambda: desk.post().status == "approved")
    eventually(lambda: "*Approved*" in desk.shown())


def test_a_rejected_card_goes_back_to_open_and_changes_add_up(desk: Desk):
    for user, at in (("UALICE", FIRST), ("UBOB", FIRST + 1)):
        send_event(desk.endpoint, reaction_event(
            "reaction_added", user=user, reaction="x", channel=CH, ts=desk.ts,
            event_ts=f"{at:.6f}",
        ))  # fmt: skip
    eventually(lambda: desk.post().status == "rejected")
    desk.change('title: "Alpha"', 'title: "Alpha 2"')
    desk.scan()
    assert desk.post().status == "open"
    # The body changes too before anyone votes again: the card says both.
    desk.change("Body of Alpha.", "A new body.")
    desk.scan(at=CHANGE + 50)
    assert desk.post().changed_keys == "title,body"
    assert "Changed since the votes:* title, body" in desk.shown()
    assert "earlier votes: :white_check_mark: 0 · :x: 2" in desk.shown()


def test_a_new_quality_or_heat_is_not_a_change(desk: Desk):
    desk.approve()
    desk.change("quality: 90", "quality: 95")
    desk.change("heat: 0", "heat: 7")
    assert desk.scan() == []
    post = desk.post()
    assert post.status == "approved" and post.votes_since is None
    assert "Changed since" not in desk.shown()


def test_only_the_configured_keys_count(engine, newsroom, content_repo, standin, tmp_path, db_url):
    config = make_config(tmp_path, db_url, newsroom, revote_on=["body"])
    with serve_bot(config, engine, standin.url) as url:
        desk = Desk(engine, newsroom, content_repo, config, standin, url)
        desk.approve()
        desk.change('title: "Alpha"', 'title: "Alpha, retitled"')
        assert desk.scan() == [] and desk.post().status == "approved"
        desk.change("Body of Alpha.", "Body of Alpha, rewritten.")
        assert desk.scan(at=CHANGE + 50) == [desk.post().id]
        assert desk.post().status == "open"
        assert "Changed since the votes:* body in" in desk.shown()


def test_publishing_checks_the_approved_version_at_the_tip(desk: Desk):
    desk.approve()
    sha = desk.change("Body of Alpha.", "Body of Alpha, with a late edit.")
    # No scan: the publisher sees the change itself.
    now = datetime.fromtimestamp(CHANGE, UTC)
    report = publish_approved(desk.engine, desk.repo, desk.config, now=now)
    assert report.commit_sha is None and report.count("changed") == 1
    assert "changed since the votes 1 (open again)" in report.summary()
    git("pull", "--quiet", "origin", "main", cwd=desk.newsroom.work)
    assert "published: false" in (desk.newsroom.work / "a.md").read_text()
    post = desk.post()
    assert post.status == "open" and post.changed_keys == "body"
    assert post.changed_commit == sha
    cause = f"changed since the votes (found when publishing): body (at {sha[:12]})"
    assert cause in desk.causes()
    # The scan that follows finds nothing more to say; new votes approve, then it publishes.
    assert desk.scan(at=CHANGE + 10) == []
    desk.vote("UALICE", AGAIN, "reaction_removed")
    desk.vote("UALICE", AGAIN + 1)
    desk.vote("UBOB", AGAIN + 2, "reaction_removed")
    desk.vote("UBOB", AGAIN + 3)
    eventually(lambda: desk.post().status == "approved")
    report = publish_approved(desk.engine, desk.repo, desk.config, now=now)
    assert report.commit_sha is not None and desk.post().status == "published"


def test_without_commit_url_the_commit_is_named(
    engine, newsroom, content_repo, standin, tmp_path, db_url
):
    config = make_config(tmp_path, db_url, newsroom)
    config = config_from_mapping(
        {
            "content": {"remote": str(newsroom.remote)},
            "slack": {"channel": "#curation", "editors": ["UALICE", "UBOB"]},
            "candidates": {"per_day": 1, "max_age_days": 100000},
        },
        path=tmp_path / "curator.yml",
        env={"DATABASE_URL": db_url},
    )
    with serve_bot(config, engine, standin.url) as url:
        desk = Desk(engine, newsroom, content_repo, config, standin, url)
        desk.approve()
        sha = desk.change('excerpt: "About Alpha."', 'excerpt: "More about Alpha."')
        desk.scan()
        assert f"Changed since the votes:* excerpt in `{sha[:7]}`" in desk.shown()


def test_the_card_fits_with_every_key_changed(desk: Desk):
    desk.approve()
    text = (desk.newsroom.work / "a.md").read_text()
    text = text.replace('title: "Alpha"', f'title: "{"A" * 5000}"')
    text = text.replace('excerpt: "About Alpha."', f'excerpt: "{"é" * 5000}"')
    text = text.replace("https://example.org/alpha", "https://example.org/" + "x" * 4000)
    desk.newsroom.write("a.md", text.replace("Body of Alpha.", "B" * 100000))
    desk.newsroom.commit()
    desk.scan()
    time.sleep(0.1)
    assert "Changed since the votes:* title, excerpt, url, body" in desk.shown()
    assert over_limits(desk.standin.messages[(CH, desk.ts)]) == []


@pytest.mark.parametrize("keys", [["quality"], ["heat"], ["published"], ["bodies"]])
def test_revote_on_names_what_can_count(keys, tmp_path):
    with pytest.raises(ConfigError) as exc:
        config_from_mapping(
            {"content": {"remote": "/srv/news.git"}, "slack": {"channel": "#c", "editors": ["U1"]},
             "votes": {"revote_on": keys}},
            path=tmp_path / "curator.yml", env={},
        )  # fmt: skip
    assert "votes.revote_on" in str(exc.value) and "quality and heat never count" in str(exc.value)


def test_digest_summary_and_status_say_changed(desk: Desk):
    from bot.cli.status import status_lines
    from bot.rules.digest_query import parse_digest_query
    from bot.slack.digest import answer_digest
    from bot.slack.summary import build_summary
    from bot.slack.summary_message import summary_message
    from storage.db import reading

    desk.approve()
    desk.change('title: "Alpha"', 'title: "Alpha, corrected"')
    desk.scan()
    now = datetime.fromtimestamp(CHANGE + 60, UTC)
    query = parse_digest_query("status:pending", now, desk.config.zone)
    _, blocks = answer_digest(desk.engine, desk.config, query, now=now)
    assert ":pencil2: changed since the votes" in mrkdwn_of([b.to_dict() for b in blocks])
    with reading(desk.engine) as conn:
        summary = build_summary(conn, desk.config, since=NOW, now=now)
    _, blocks = summary_message(summary, desk.config)
    assert ":pencil2: changed since the votes" in mrkdwn_of([b.to_dict() for b in blocks])
    lines = "\n".join(status_lines(desk.engine, desk.config, now))
    assert "Alpha, corrected  (changed since the votes)" in lines


def test_reconcile_does_not_count_earlier_votes_again(desk: Desk):
    """The earlier ✅ are still on the message in Slack: re-reading them is no new vote."""
    from bot.slack.editors import editors_from
    from bot.slack.voting import reconcile
    from tests.slack_standin import BOT_USER

    desk.approve()
    for user in ("UALICE", "UBOB"):
        desk.standin.react(CH, desk.ts, "white_check_mark", user)
    desk.change('title: "Alpha"', 'title: "Alpha, corrected"')
    desk.scan()
    later = datetime.fromtimestamp(AGAIN, UTC)
    report = reconcile(
        desk.engine, client(desk.standin), desk.config, later, bot_user=BOT_USER,
        editors=editors_from(desk.config),
    )  # fmt: skip
    assert report.changed == 0 and desk.post().status == "open"


def test_votes_reconcile_finds_keep_the_version_they_were_cast_on(desk: Desk):
    """Votes cast while the bot was down come in through reconcile: they approve the card as
    events would, and a later change must still send it back to a vote, never be published."""
    from bot.slack.editors import editors_from
    from bot.slack.voting import reconcile
    from tests.slack_standin import BOT_USER

    for user in ("UALICE", "UBOB"):
        desk.standin.react(CH, desk.ts, "white_check_mark", user)
    seen = datetime.fromtimestamp(FIRST, UTC)
    reconcile(
        desk.engine, client(desk.standin), desk.config, seen, bot_user=BOT_USER,
        editors=editors_from(desk.config),
    )  # fmt: skip
    assert desk.post().status == "approved" and desk.post().voted_hash is not None
    desk.change('title: "Alpha"', 'title: "Alpha, corrected"')
    assert desk.scan() == [desk.post().id]
    assert desk.post().status == "open"
    report = publish_approved(desk.engine, desk.repo, desk.config, now=seen)
    assert report.commit_sha is None


def test_a_card_voted_before_fingerprints_takes_the_version_of_the_next_scan(desk: Desk):
    """Voted before migration 0010: no version was kept. The next scan gives it the version
    it finds, and a change after that sends the card back to a vote."""
    desk.approve()
    with desk.engine.begin() as conn:
        conn.execute(update(Post.__table__).values(voted_hash=None))
    assert desk.scan() == [] and desk.post().voted_hash is not None
    desk.change('title: "Alpha"', 'title: "Alpha, corrected"')
    assert desk.scan(at=CHANGE + 10) == [desk.post().id]
    assert desk.post().status == "open"


def test_a_fingerprint_covers_what_editors_read_and_nothing_else():
    from storage.fingerprint import differing, fingerprint_of

    keys = ("title", "excerpt", "url", "date", "provider", "images", "related", "topics", "body")
    base = fingerprint_of(article("Alpha").encode(), FieldMap())
    assert base is not None and tuple(base) == keys
    rescored = article("Alpha", quality=99, heat=12).encode()
    assert fingerprint_of(rescored, FieldMap()) == base  # a collector's refresh
    flipped = article("Alpha", published=True).encode()
    assert fingerprint_of(flipped, FieldMap()) == base  # the bot's own publish commit
    crlf = article("Alpha").replace("\n", "\r\n").encode()
    assert differing(base, fingerprint_of(crlf, FieldMap()) or {}, keys) == ()
    edited = article("Alpha").replace("Body of Alpha.", "Body, edited.").encode()
    assert differing(base, fingerprint_of(edited, FieldMap()) or {}, keys) == ("body",)
    assert differing(base, fingerprint_of(edited, FieldMap()) or {}, ("title",)) == ()


def test_a_dry_run_publish_changes_nothing(desk: Desk):
    desk.approve()
    desk.change("Body of Alpha.", "Body of Alpha, with a late edit.")
    now = datetime.fromtimestamp(CHANGE, UTC)
    report = publish_approved(desk.engine, desk.repo, desk.config, now=now, dry_run=True)
    assert report.count("changed") == 1 and report.diff == ""
    post = desk.post()
    assert post.status == "approved" and post.votes_since is None
