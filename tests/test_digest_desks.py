"""``/digest`` with desks, on SQLite and PostgreSQL: asked in a desk's channel it answers for
that desk, elsewhere (a DM, another channel) for every desk; ``desk:Policy`` and
``desk:all`` say otherwise; each card shows its own desk's votes and quorum.

Slack-signed slash commands go into the bot's endpoint under the production server; the
answers arrive at the command's response_url on the local Slack stand-in. The cards were
posted by each desk's daily post, the votes read from Slack by reconcile.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy.engine import Engine

from bot.config import Config
from bot.rules.digest_query import DigestError, parse_digest_query
from bot.slack.digest import answer_digest
from bot.slack.editors import editors_from
from bot.slack.voting import reconcile
from tests.desk_newsroom import (
    DESKS,
    NOW,
    DeskStandIn,
    cards,
    client,
    desk_config,
    post_a_day,
    running_standin,
    write_stories,
)
from tests.helpers import Newsroom
from tests.slack_requests import SIGNING_SECRET, post, serve_bot, sign
from tests.slack_standin import BOT_USER

ALL_TITLES = {"AI alpha", "AI beta", "Policy alpha", "Policy beta", "Science alpha",
              "Science beta", "Sports alpha", "Sports beta"}  # fmt: skip


@pytest.fixture
def standin() -> Iterator[DeskStandIn]:
    with running_standin({"UALICE": "Alice", "UBOB": "Bob", "UDAVE": "Dave"}) as s:
        yield s


@pytest.fixture
def config(tmp_path: Path, db_url: str, newsroom: Newsroom) -> Config:
    return desk_config(tmp_path, db_url, newsroom.remote)


@pytest.fixture
def day(engine, newsroom, content_repo, standin, config) -> None:
    """Two cards per desk; Dave's ✅ on a Policy card (1 of 2), Alice's rocket approves a
    Science card (quorum 1)."""
    post_a_day(newsroom, content_repo, engine, standin, config)
    by_title = cards(engine)
    policy, science = by_title["Policy alpha"], by_title["Science beta"]
    standin.react(policy.channel, policy.ts, "white_check_mark", "UDAVE")
    standin.react(science.channel, science.ts, "rocket", "UALICE")
    editors = editors_from(config)
    reconcile(engine, client(standin), config, NOW, bot_user=BOT_USER, editors=editors)
    assert cards(engine)["Science beta"].status == "approved"
    standin.calls.clear()


@pytest.fixture
def endpoint(config: Config, engine: Engine, standin: DeskStandIn) -> Iterator[str]:
    with serve_bot(config, engine, standin.url) as url:
        yield url


_commands = iter(range(1, 1_000_000))


def slash(endpoint: str, standin: DeskStandIn, text: str, channel: str) -> tuple[int, bytes, str]:
    """``/digest text`` typed in ``channel`` (an ID; D… for a DM), signed as Slack signs it."""
    key = f"desk{next(_commands)}"
    body = urllib.parse.urlencode({
        "token": "unused", "team_id": "T1", "team_domain": "newsroom", "channel_id": channel,
        "channel_name": standin.channels.get(channel, "directmessage"), "user_id": "UALICE",
        "user_name": "alice", "command": "/digest", "text": text, "api_app_id": "A1",
        "is_enterprise_install": "false", "response_url": standin.response_url(key),
        "trigger_id": "1.2.3",
    }).encode()  # fmt: skip
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body, SIGNING_SECRET)}
    status, answer = post(endpoint, body, headers)
    return status, answer, key


def ask(endpoint: str, standin: DeskStandIn, text: str, channel: str) -> str:
    """The answer's mrkdwn and fallback text, as one string."""
    status, ack_body, key = slash(endpoint, standin, text, channel)
    assert status == 200 and ack_body == b"", (text, channel, ack_body)
    deadline = time.monotonic() + 10
    while key not in standin.responses:
        assert time.monotonic() < deadline, "no answer was posted to the response_url"
        time.sleep(0.02)
    (message,) = standin.responses[key]
    assert message["response_type"] == "ephemeral"
    return json.dumps(message["blocks"], ensure_ascii=False) + message["text"]


def shown_titles(answer: str) -> set[str]:
    return {t for t in ALL_TITLES if t in answer}


def test_the_default_desk_follows_the_channel(day, engine, standin, endpoint):
    # Science's channel is configured by ID: known without asking Slack.
    science = ask(endpoint, standin, "", "CSCIENCE")
    assert shown_titles(science) == {"Science alpha", "Science beta"}
    assert "*Digest* · the Science desk — 2 matches" in science
    assert ":rocket: 1 (<@UALICE>)" in science  # Science's emoji, counted by its rules
    assert standin.called("conversations.list") == []

    # AI's is '#ai-desk': resolved once, with every '#name' desk channel, then cached.
    ai = ask(endpoint, standin, "", "CAIDESK")
    assert shown_titles(ai) == {"AI alpha", "AI beta"}
    assert "the AI desk" in ai and "1 needed" in ai and "2 needed" not in ai
    policy = ask(endpoint, standin, "", "CPOLICY")
    assert shown_titles(policy) == {"Policy alpha", "Policy beta"}
    assert ":white_check_mark: 1 (<@UDAVE>) · :x: 0 · 2 needed" in policy
    general = ask(endpoint, standin, "", "CCURATION")
    assert shown_titles(general) == {"Sports alpha", "Sports beta"}
    assert len(standin.called("conversations.list")) == 1

    # A DM, or a channel of no desk: every desk, each card with its desk, quorum and emoji.
    for elsewhere in ("D0123DM", "CRANDOM"):
        every = ask(endpoint, standin, "", elsewhere)
        assert shown_titles(every) == ALL_TITLES, elsewhere
        assert "*Digest* · every desk — 8 matches" in every
        assert "Policy desk" in every and "Science desk" in every
        assert "1 needed" in every and "2 needed" in every and ":rocket: 1" in every
    assert len(standin.called("conversations.list")) == 1
    assert standin.called("chat.postMessage") == []  # private: nothing went to a channel


def test_desk_filter_overrides_the_channel(day, engine, standin, endpoint):
    asked_in_ai = [
        ("desk:Policy", {"Policy alpha", "Policy beta"}, "the Policy desk"),
        ("desk:policy status:pending", {"Policy alpha", "Policy beta"}, "the Policy desk"),
        ("desk:all", ALL_TITLES, "every desk"),
        ("desk:ALL topic:Science", {"Science alpha", "Science beta"}, "every desk"),
        ("desk:General", {"Sports alpha", "Sports beta"}, "the General desk"),
    ]
    for text, titles, where in asked_in_ai:
        answer = ask(endpoint, standin, text, "CAIDESK")
        assert shown_titles(answer) == titles, text
        assert where in answer, text
    # desk:Policy from a DM too; and min: still narrows within the desk.
    assert shown_titles(ask(endpoint, standin, "desk:Policy min:80", "D0123DM")) == {"Policy alpha"}
    # Nothing in this desk: the hint offers every desk.
    nothing = ask(endpoint, standin, "topic:Science", "CAIDESK")
    assert "Nothing matches topic:Science in the AI desk" in nothing and "desk:all" in nothing


def test_an_unknown_desk_is_told_in_the_ack_with_the_desks(day, standin, endpoint):
    status, ack_body, key = slash(endpoint, standin, "desk:Sports", "CAIDESK")
    answer = json.loads(ack_body)
    assert status == 200 and answer["response_type"] == "ephemeral"
    assert answer["text"].startswith(
        ":warning: no desk is named 'Sports'; the desks are AI, Policy, Science and General, "
        "and desk:all asks about every desk"
    ), answer["text"]
    assert "\n" not in answer["text"]
    time.sleep(0.1)
    assert key not in standin.responses


def test_help_documents_desk(standin, endpoint, engine):
    status, ack_body, _ = slash(endpoint, standin, "help", "CPOLICY")
    assert status == 200
    help_text = json.loads(ack_body)["blocks"][0]["text"]["text"]
    assert "desk:Policy" in help_text and "desk:all" in help_text
    assert "The desks: AI, Policy, Science, General." in help_text


def test_the_desk_filter_is_read_in_any_case():
    assert parse_digest_query("desk:All", NOW, NOW.tzinfo).desk == "all"
    assert parse_digest_query('desk:"Policy"', NOW, NOW.tzinfo).desk == "Policy"
    assert parse_digest_query("desk:ai desk:AI", NOW, NOW.tzinfo).desk.casefold() == "ai"
    with pytest.raises(DigestError, match="desk: given twice"):
        parse_digest_query("desk:AI desk:Policy", NOW, NOW.tzinfo)
    with pytest.raises(DigestError, match="desk: expected a desk name like desk:Policy"):
        parse_digest_query("desk:", NOW, NOW.tzinfo)


def test_one_desk_answers_as_before(tmp_path, engine, db_url, newsroom, content_repo, standin):
    """A config without desks: no desk named, no channel looked up, desk:all is that desk."""
    from bot.config import config_from_mapping

    config = config_from_mapping(
        {"content": {"remote": str(newsroom.remote)},
         "slack": {"channel": "#curation", "editors": ["UALICE"]},
         "candidates": {"max_age_days": 100000}},
        path=tmp_path / "curator.yml", env={"DATABASE_URL": db_url},
    )  # fmt: skip
    write_stories(newsroom, content_repo, engine)
    from bot.slack import daily_post

    daily_post.post_day(engine, client(standin), config, NOW)
    standin.calls.clear()
    with serve_bot(config, engine, standin.url) as url:
        plain = ask(url, standin, "", "CCURATION")
        assert "*Digest* — 8 matches" in plain and "desk" not in plain.lower()
        assert shown_titles(ask(url, standin, "desk:all", "D0123DM")) == ALL_TITLES
        assert shown_titles(ask(url, standin, "desk:curation", "CAIDESK")) == ALL_TITLES
    assert standin.called("conversations.list") == []


# ================================================================================ the CLI


@pytest.fixture
def cli_env(tmp_path: Path, db_url: str, day, newsroom, monkeypatch) -> Path:
    path = tmp_path / "desks.yml"
    path.write_text(
        yaml.safe_dump({
            "content": {"remote": str(newsroom.remote)},
            "slack": {"editors": ["UALICE", "UBOB"]},
            "desks": DESKS,
        })
    )  # fmt: skip
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("CURATOR_CONFIG", str(path))
    return path


def curator(*args: str, code: int = 0) -> str:
    from bot.cli.main import cli

    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_curator_digest_takes_a_desk(cli_env: Path):
    every = curator("digest")
    assert shown_titles(every) == ALL_TITLES and "every desk" in every
    policy = curator("digest", "--desk", "policy")
    assert shown_titles(policy) == {"Policy alpha", "Policy beta"}
    assert "the Policy desk" in policy and "2 needed" in policy
    assert shown_titles(curator("digest", "desk:Science")) == {"Science alpha", "Science beta"}
    assert shown_titles(curator("digest", "--desk", "all", "topic:AI")) == {"AI alpha", "AI beta"}
    out = curator("digest", "--desk", "Sports", code=1)
    assert "no desk is named 'Sports'; the desks are AI, Policy, Science and General" in out
    out = curator("digest", "--desk", "AI", "desk:Policy", code=1)
    assert "desk: given twice" in out


def test_answer_digest_counts_each_card_by_its_desk(day, engine, config):
    """The same answer holds cards of two desks: each shows its own desk's quorum."""
    query = parse_digest_query("desk:all status:pending", NOW, config.zone)
    _, blocks = answer_digest(engine, config, query, now=NOW)
    lines = json.dumps([b.to_dict() for b in blocks], ensure_ascii=False).split("\\n")
    after = {t: lines[i + 1] for i, line in enumerate(lines) for t in ALL_TITLES if t in line}
    assert "1 needed" in after["AI alpha"] and "2 needed" in after["Policy alpha"]
    assert ":rocket: 0" in after["Science alpha"]
    assert ":white_check_mark: 0 · :x: 0 · 2 needed" in after["Sports alpha"]


def test_cards_of_no_desk_count_as_the_default_desks(day, engine, config):
    """A card from before desks (desk NULL), or of a desk since removed, is the default
    desk's until the bot next starts and gives it to it."""
    from storage.models import Post

    by_title = cards(engine)
    p = Post.__table__
    with engine.begin() as conn:
        conn.execute(p.update().where(p.c.id == by_title["AI alpha"].id).values(desk=None))
        conn.execute(p.update().where(p.c.id == by_title["AI beta"].id).values(desk="Gone"))

    def titles(text: str) -> set[str]:
        query = parse_digest_query(text, NOW, config.zone)
        return shown_titles(json.dumps([b.to_dict() for b in answer_digest(
            engine, config, query, now=NOW)[1]], ensure_ascii=False))  # fmt: skip

    assert titles("desk:General") == {"AI alpha", "AI beta", "Sports alpha", "Sports beta"}
    assert titles("desk:AI") == set()
    assert titles("desk:all") == ALL_TITLES


def test_a_failed_channel_lookup_answers_for_every_desk_and_is_asked_again(config, standin):
    """conversations.list failing costs the asker the default (every desk), not an error;
    the next command after the retry interval asks Slack again."""
    from bot.slack.digest_desks import DeskChannels

    channels = DeskChannels(config, retry=0)
    standin.fail("conversations.list", status=200, retry_after=None, error="internal_error")
    assert channels.desk_of("CAIDESK", client(standin)) is None
    assert channels.desk_of("CSCIENCE", client(standin)).name == "Science"  # by ID: no call
    assert channels.desk_of("CAIDESK", client(standin)).name == "AI"
    assert channels.desk_of("CPOLICY", client(standin)).name == "Policy"
    assert channels.desk_of("D0123DM", client(standin)) is None
    # The failed walk and the one that found them; a DM costs no call once all are known.
    assert len(standin.called("conversations.list")) == 2
