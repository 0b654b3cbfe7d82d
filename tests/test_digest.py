"""``/digest``: rendering, the SQL filters on SQLite and PostgreSQL, and the
slash command end to end — Slack-signed requests into the bot's HTTP endpoint, the answer
posted to the command's response_url on the local Slack stand-in.
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, insert
from sqlalchemy import text as sql
from sqlalchemy.engine import Engine

from bot.cli.terminal import render_blocks
from bot.config import Config, config_from_mapping
from bot.rules.digest_query import DigestQuery, parse_digest_query
from bot.slack.digest import answer_digest, unescape_command
from bot.slack.digest_cards import run_digest
from bot.slack.digest_message import widen_hint
from bot.slack.time_words import ago, format_when
from storage import migrate
from storage.db import make_engine
from storage.models import Article, ArticleTopic, Post, PublishHold, Vote
from tests.conftest import PG_URL, POSTGRES
from tests.slack_requests import SIGNING_SECRET, post, serve_bot, sign
from tests.slack_standin import SlackStandIn

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # a Thursday
UTC_ZONE = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
EDITORS = ("UALICE", "UBOB")
COMMIT = "abc1234def5678abc1234def5678abc1234def56"
COMMIT_URL = "https://git.example.org/content/commit/{sha}"


# ============================================================= parsing, the Slack part


def q(text: str, tz: ZoneInfo = UTC_ZONE) -> DigestQuery:
    return parse_digest_query(text, NOW, tz)


def test_from_slack_unescapes_what_slack_escaped():
    assert unescape_command("AT&amp;T &lt;b&gt; &amp;lt;") == "AT&T <b> &lt;"


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=5), "just now"),
        (timedelta(minutes=1), "1 minute ago"),
        (timedelta(minutes=59), "59 minutes ago"),
        (timedelta(hours=1), "1 hour ago"),
        (timedelta(hours=30), "30 hours ago"),
        (timedelta(days=3, hours=5), "3 days ago"),
        (timedelta(seconds=-30), "just now"),
    ],
)
def test_ago(delta: timedelta, text: str):
    assert ago(delta) == text


@pytest.mark.parametrize(
    ("at", "text"),
    [
        (datetime(2026, 11, 26, 7, 30, tzinfo=UTC), "today 07:30"),
        (datetime(2026, 11, 24, 8, 30, tzinfo=UTC), "Tuesday 08:30"),
        (datetime(2026, 11, 12, 8, 30, tzinfo=UTC), "Thu 12 Nov 08:30"),
    ],
)
def test_format_when(at: datetime, text: str):
    assert format_when(at, UTC_ZONE, NOW) == text


# ======================================================================= database fixtures


def make_config(tmp_path: Path, db_url: str, **extra: object) -> Config:
    data: dict[str, object] = {
        "content": {"remote": str(tmp_path / "remote.git"), "commit_url": COMMIT_URL},
        "slack": {"channel": "#curation", "editors": list(EDITORS)},
        "votes": {"quorum": 2},
        "schedule": {"publish": "0 10 * * *", "post": "0 9 * * mon-fri"},
        "candidates": {"max_age_days": 7},
    }
    data.update(extra)
    return config_from_mapping(data, path=tmp_path / "curator.yml", env={"DATABASE_URL": db_url})


_ids = iter(range(1, 1_000_000))


def add_card(
    conn: Connection,
    *,
    title: str,
    now: datetime,
    status: str | None = "open",
    topics: Sequence[str] = ("AI",),
    quality: float | None = 50,
    excerpt: str | None = None,
    changed: timedelta = timedelta(hours=1),
    posted: timedelta | None = None,
    votes: Sequence[tuple[str, str]] = (),
    commit: str | None = None,
    removed: bool = False,
    hold: str | None = None,
    dated: timedelta = timedelta(days=1),
    published: bool = False,
    url: str | None = None,
) -> int:
    """An article with its topics and (unless ``status`` is None) its card and votes."""
    n = next(_ids)
    article_id = conn.execute(
        insert(Article.__table__).values(
            path=f"news/{n}.md",
            blob_sha=f"{n:040x}",
            title=title,
            excerpt=excerpt if excerpt is not None else f"About {title}.",
            url=url or f"https://news.example/{n}",
            quality=quality,
            heat=0,
            published=published,
            dated=now - dated,
            provider_name="Example News",
            provider_domain="news.example",
            first_seen_at=now - dated,
            removed_at=now if removed else None,
        )
    ).inserted_primary_key[0]
    for topic in topics:
        conn.execute(
            insert(ArticleTopic.__table__).values(
                article_id=article_id, key=topic.casefold(), topic=topic
            )
        )
    if status is None:
        return article_id
    posted_ago = posted if posted is not None else max(changed, timedelta(hours=2))
    ts = f"{1_800_000_000 + n}.000100"
    post_id = conn.execute(
        insert(Post.__table__).values(
            article_id=article_id,
            channel="CCURATION",
            ts=ts,
            day=(now - posted_ago).date().isoformat(),
            permalink=f"https://newsroom.slack.com/archives/CCURATION/p{ts.replace('.', '')}",
            status=status,
            status_changed_at=now - changed,
            created_at=now - posted_ago,
            commit_sha=commit,
        )
    ).inserted_primary_key[0]
    for i, (user, emoji) in enumerate(votes):
        conn.execute(
            insert(Vote.__table__).values(
                post_id=post_id,
                user_id=user,
                reaction=emoji,
                choice="publish" if emoji == "white_check_mark" else "reject",
                present=True,
                event_ts=f"{1_800_000_100 + i}.000001",
                updated_at=now,
            )
        )
    if hold:
        conn.execute(insert(PublishHold.__table__).values(post_id=post_id, reason=hold, at=now))
    return post_id


HOSTILE = "Heat pumps <!channel> & <https://evil.example|click>"


D, H = timedelta(days=1), timedelta(hours=1)
YES, NO = "white_check_mark", "x"
# Cards in every state, and articles the digest must never show (never posted, removed).
WORLD: list[dict[str, Any]] = [
    dict(title="Police face search audit", quality=90, topics=("AI", "Policing"),
         votes=[("UALICE", YES)], changed=5 * H, posted=2 * D + H),
    dict(title=HOSTILE, status="approved", quality=80, topics=("Climate",),
         excerpt="Bills fall by a third in public housing.", changed=2 * H,
         votes=[("UALICE", YES), ("UBOB", YES)]),
    dict(title="Facial recognition rules for cities", status="published", quality=70,
         topics=("AI", "Computer Vision"), changed=D, commit=COMMIT),
    dict(title="Old published AI story", status="published", quality=95, changed=30 * D,
         commit=COMMIT),
    dict(title="Smart meters reveal occupancy", status="rejected", quality=40,
         topics=("Privacy",), changed=3 * D, votes=[("UALICE", NO), ("UBOB", NO)]),
    dict(title="Expired drone story", status="expired", quality=30, topics=("Drones",),
         changed=4 * D),
    dict(title="Never posted AI article", status=None, quality=99),
    dict(title="Held back broadband map", status="blocked", quality=60, topics=("Broadband",),
         hold="file missing on the remote", changed=3 * H),
    dict(title="Removed AI article", quality=85, removed=True),
    dict(title="Renewables reach 100% on sunny days", quality=20, topics=("Energy",),
         excerpt="A grid milestone.", changed=H),
]  # fmt: skip


def build_world(engine: Engine, now: datetime) -> None:
    with engine.begin() as conn:
        for card in WORLD:
            add_card(conn, now=now, **card)


def titles(result: object) -> list[str]:
    return [e.post.article.title for e in result.entries]  # type: ignore[attr-defined]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """One migrated database per backend for the read-only tests of this module."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('digest') / 'curator.db'}"
        schema = None
    else:
        if not POSTGRES:
            pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(sql(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    build_world(engine, NOW)
    yield engine
    engine.dispose()
    if schema:
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(sql(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def world_config(tmp_path: Path, world: Engine) -> Config:
    return make_config(tmp_path, str(world.url))


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> Config:
    return make_config(tmp_path, db_url)


# ==================================================================== the query, in SQL


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Default: awaiting votes, approved (held back too), published in the last 7 days.
        ("", ["Police face search audit", HOSTILE, "Facial recognition rules for cities",
              "Held back broadband map", "Renewables reach 100% on sunny days"]),
        ("topic:AI", ["Police face search audit", "Facial recognition rules for cities"]),
        ("topic:ai topic:CLIMATE", ["Police face search audit", HOSTILE,
                                    "Facial recognition rules for cities"]),
        ('topic:"computer vision"', ["Facial recognition rules for cities"]),
        ("topic:Nothing", []),
        ("status:pending", ["Police face search audit", "Renewables reach 100% on sunny days"]),
        ("status:approved", [HOSTILE, "Held back broadband map"]),
        ("status:published", ["Old published AI story", "Facial recognition rules for cities"]),
        ("topic:AI status:published", ["Old published AI story",
                                       "Facial recognition rules for cities"]),
        ("status:rejected", ["Smart meters reveal occupancy"]),
        ("status:expired", ["Expired drone story"]),
        ("status:all", ["Old published AI story", "Police face search audit", HOSTILE,
                        "Facial recognition rules for cities", "Held back broadband map",
                        "Smart meters reveal occupancy", "Expired drone story",
                        "Renewables reach 100% on sunny days"]),
        ("status:all since:2d", ["Police face search audit", HOSTILE,
                                 "Facial recognition rules for cities", "Held back broadband map",
                                 "Renewables reach 100% on sunny days"]),
        ("since:4h", [HOSTILE, "Held back broadband map", "Renewables reach 100% on sunny days"]),
        ("status:all since:2026-11-23", ["Police face search audit", HOSTILE,
                                         "Facial recognition rules for cities",
                                         "Held back broadband map", "Smart meters reveal occupancy",
                                         "Renewables reach 100% on sunny days"]),
        ("since:60d status:published", ["Old published AI story",
                                        "Facial recognition rules for cities"]),
        ("min:75", ["Police face search audit", HOSTILE]),
        ("min:80", ["Police face search audit", HOSTILE]),
        ("min:80.5", ["Police face search audit"]),
        ("police", ["Police face search audit"]),
        ("POLICE audit", ["Police face search audit"]),
        ("police nothing", []),
        ('"facial recognition"', ["Facial recognition rules for cities"]),
        ('"recognition facial"', []),
        ("third", [HOSTILE]),  # in the excerpt only
        ("<!channel>", [HOSTILE]),
        ("100%", ["Renewables reach 100% on sunny days"]),
        ("%", ["Renewables reach 100% on sunny days"]),  # a literal %, not a wildcard
        ("_", []),
        ("topic:AI status:all min:80 since:3d police", ["Police face search audit"]),
    ],
)  # fmt: skip
def test_filters_run_in_sql(world: Engine, world_config: Config, text: str, expected: list[str]):
    with world.connect() as conn:
        result = run_digest(
            conn, world_config, parse_digest_query(text, NOW, world_config.zone), now=NOW
        )
    assert titles(result) == expected
    assert result.total == len(expected)


def test_limit_shows_the_best_and_counts_the_rest(world: Engine, world_config: Config):
    with world.connect() as conn:
        result = run_digest(conn, world_config, q("status:all limit:2"), now=NOW)
    assert titles(result) == ["Old published AI story", "Police face search audit"]
    assert result.total == 8
    _, blocks = answer_digest(world, world_config, q("status:all limit:2"), now=NOW)
    text = render_blocks(blocks)
    assert "2 of 8 matches, best first" in text and "limit:50" in text


def test_the_answer_shows_tally_card_commit_and_hold(world: Engine, world_config: Config):
    text, blocks = answer_digest(world, world_config, q(""), now=NOW)
    assert text == "Digest: 2 awaiting votes, 2 approved, 1 published"
    mrkdwn = json.dumps([b.to_dict() for b in blocks], ensure_ascii=False)
    # Awaiting votes: the tally with who voted, the quorum, how long, and the card.
    assert ":white_check_mark: 1 (<@UALICE>) · :x: 0 · 2 needed · posted 2 days ago" in mrkdwn
    assert "<https://newsroom.slack.com/archives/CCURATION/p" in mrkdwn
    # Approved: when the publisher runs next; held back: why.
    assert "approved 2 hours ago · to be published today 10:00" in mrkdwn
    assert "held back from publishing: file missing on the remote" in mrkdwn
    # Published: the short sha, linked to the commit.
    assert (
        f"published 24 hours ago in <https://git.example.org/content/commit/{COMMIT}|abc1234>"
        in mrkdwn
    )
    # Article text is inert.
    assert "<!channel>" not in mrkdwn and "<https://evil.example" not in mrkdwn
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example¦click&gt;" in mrkdwn
    # Groups in the order of the loop, best first inside each.
    order = [b.to_dict()["text"]["text"].split("\n")[0] for b in blocks[1:-1]]
    assert order == ["*Awaiting votes* · 2", "*Approved, waiting to be published* · 2",
                     "*Published* · 1"]  # fmt: skip


def test_nothing_matches_says_so_and_how_to_widen(world: Engine, world_config: Config):
    _, blocks = answer_digest(world, world_config, q("topic:Nothing since:7d"), now=NOW)
    shown = render_blocks(blocks)
    assert "Nothing matches topic:Nothing since:7d" in shown
    assert "status:all" in shown
    # Right after status:all, the answer does not suggest it again.
    _, blocks = answer_digest(world, world_config, q("status:all topic:Nothing"), now=NOW)
    hint = render_blocks(blocks).split("\n")[-1]
    assert "status:all" not in hint and "another topic:" in hint


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("topic:Nothing", "Try status:all, another topic: or /digest help."),
        # Right after status:all, the answer must not suggest it again.
        ("status:all", "Try /digest help."),
        ("status:all since:7d min:90 police", "Try a longer since:, a lower min:, fewer words "
         "or /digest help."),
        ("status:rejected", "Try status:all or /digest help."),
    ],
)  # fmt: skip
def test_nothing_matches_suggests_only_what_was_not_asked(text: str, hint: str):
    assert widen_hint(q(text), "/digest") == hint


def test_an_unscored_article_says_so(engine: Engine, config: Config):
    with engine.begin() as conn:
        add_card(conn, title="No score yet", now=NOW, quality=None)
    _, blocks = answer_digest(engine, config, q(""), now=NOW)
    assert "No score yet (https://news.example/" in render_blocks(blocks)
    assert ") · unscored · Example News · AI" in render_blocks(blocks)


def test_fifty_cards_fit_in_slacks_block_limit(engine: Engine, config: Config):
    long = " very long title" * 12
    with engine.begin() as conn:
        for i in range(60):
            add_card(conn, title=f"Story{i:02d}{long}", now=NOW, excerpt="x" * 600, quality=i,
                     status=("open", "approved", "published")[i % 3])  # fmt: skip
    _, blocks = answer_digest(engine, config, q("limit:50"), now=NOW)
    assert len(blocks) <= 50
    assert all(len(b.to_dict().get("text", {}).get("text", "")) <= 3000 for b in blocks)
    assert len(re.findall(r"Story\d\d", render_blocks(blocks))) == 50


# ============================================================= the slash command over HTTP


@pytest.fixture
def endpoint(config: Config, engine: Engine, standin: SlackStandIn) -> Iterator[str]:
    with serve_bot(config, engine, standin.url) as url:
        yield url


_commands = iter(range(1, 1_000_000))


def slash(endpoint: str, standin: SlackStandIn, text: str, *, secret: str = SIGNING_SECRET):
    """Send ``/digest text`` as Slack would; returns (HTTP status, ack body, response key)."""
    key = f"cmd{next(_commands)}"
    body = urllib.parse.urlencode({
        "token": "unused", "team_id": "T1", "team_domain": "newsroom", "channel_id": "CCURATION",
        "channel_name": "curation", "user_id": "UALICE", "user_name": "alice",
        "command": "/digest", "text": text, "api_app_id": "A1", "is_enterprise_install": "false",
        "response_url": standin.response_url(key), "trigger_id": "1.2.3",
    }).encode()  # fmt: skip
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body, secret)}
    status, answer = post(endpoint, body, headers)
    return status, answer, key


def wait_response(standin: SlackStandIn, key: str, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while key not in standin.responses:
        assert time.monotonic() < deadline, "no answer was posted to the response_url"
        time.sleep(0.02)
    (message,) = standin.responses[key]
    return message


# Slack sends the text HTML-escaped (&, <, >), like every message text.
CASES = [
    ("", ["Police face search audit", "Facial recognition rules", "Heat pumps"],
     ["Old published AI story", "Smart meters", "Never posted", "Removed AI"]),
    ("topic:AI", ["Police face search audit", "Facial recognition rules"], ["Heat pumps"]),
    ('topic:"Computer Vision"', ["Facial recognition rules"], ["Police face"]),
    ("status:published", ["Old published AI story", "Facial recognition rules"], ["Police"]),
    ("status:rejected", ["Smart meters reveal occupancy"], ["Police"]),
    ("since:4h", ["Heat pumps", "Held back broadband map"], ["Police", "Facial"]),
    ("min:85", ["Police face search audit"], ["Heat pumps"]),
    ("limit:1", ["Police face search audit", "1 of 5 matches"], ["Heat pumps"]),
    ("\u201cfacial recognition\u201d", ["Facial recognition rules"], ["Police"]),
    ("&lt;!channel&gt; &amp;", ["&lt;!channel&gt; &amp;"], ["Police", "<!channel>"]),
]  # fmt: skip


def test_digest_slash_command_end_to_end(
    engine: Engine, config: Config, standin: SlackStandIn, endpoint: str
):
    now = datetime.now(UTC)  # the running bot's clock
    build_world(engine, now)
    for typed, present, absent in CASES:
        started = time.monotonic()
        status, ack_body, key = slash(endpoint, standin, typed)
        assert status == 200 and time.monotonic() - started < 3, typed  # acked in time
        assert ack_body == b"", typed  # an empty ack; the answer follows on response_url
        message = wait_response(standin, key)
        assert message["response_type"] == "ephemeral", typed
        shown = json.dumps(message["blocks"], ensure_ascii=False) + message["text"]
        for needle in present:
            assert needle in shown, (typed, needle, shown)
        for needle in absent:
            assert needle not in shown, (typed, needle, shown)
    assert standin.called("chat.postMessage") == []  # private: nothing went to the channel


BAD = [
    ("since:yesterday", "since: expected 7d, 24h or a date like"),
    (
        "status:done",
        "status: expected pending, approved, published, rejected, expired, unpublished or all",
    ),
    ("limit:500", "limit: expected a whole number from 1 to 50, got '500'"),
    ("topic:&lt;!here&gt; topc:x", "unknown filter 'topc:'"),
    # What was typed is quoted back escaped: it cannot mention anyone or forge a link.
    ("since:&lt;!channel&gt;", "since: expected 7d, 24h or a date like"),
]


def test_bad_filters_are_answered_in_the_ack(engine: Engine, standin: SlackStandIn, endpoint: str):
    keys = []
    for typed, error in BAD:
        status, ack_body, key = slash(endpoint, standin, typed)
        keys.append(key)
        assert status == 200
        answer = json.loads(ack_body)
        assert answer["response_type"] == "ephemeral"
        assert answer["text"].startswith(f":warning: {error}"), answer["text"]
        assert "`/digest help` lists every filter" in answer["text"]
        assert "\n" not in answer["text"]
        assert "<!" not in answer["text"]
    assert "got '&lt;!channel&gt;'" in answer["text"]
    time.sleep(0.1)
    assert not set(keys) & set(standin.responses)  # the ack was the whole answer


def test_help_is_answered_in_the_ack(engine: Engine, standin: SlackStandIn, endpoint: str):
    status, ack_body, _ = slash(endpoint, standin, "help")
    answer = json.loads(ack_body)
    assert status == 200 and answer["response_type"] == "ephemeral"
    help_text = answer["blocks"][0]["text"]["text"]
    for form in ("topic:AI", "status:pending", "since:7d", "min:60", "limit:25", '"facial'):
        assert form in help_text


def test_forged_command_is_refused(engine: Engine, standin: SlackStandIn, endpoint: str):
    status, _, key = slash(endpoint, standin, "", secret="not-the-secret")
    assert status == 401
    time.sleep(0.1)
    assert key not in standin.responses


# ================================================================================ the CLI


@pytest.fixture
def cli_env(tmp_path: Path, db_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "curator.yml"
    path.write_text(
        f"content:\n  remote: {tmp_path / 'remote.git'}\n  commit_url: '{COMMIT_URL}'\n"
        'slack:\n  channel: "#curation"\n  editors: [UALICE, UBOB]\n'
    )
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("CURATOR_CONFIG", str(path))
    build_world(engine, datetime.now(UTC))
    return path


def curator(*args: str, code: int = 0):
    from bot.cli.main import cli

    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_curator_digest_prints_what_slack_shows(cli_env: Path):
    out = curator("digest", "topic:AI since:7d")
    assert "Police face search audit (https://news.example/" in out
    assert "Facial recognition rules for cities" in out
    assert "Heat pumps" not in out
    assert "\x1b[" not in out  # no ANSI codes when the output is not a terminal
    # Entities are shown as the characters they stand for.
    assert "Heat pumps <!channel> & <https://evil.example¦click>" in curator("digest", "third")


def test_curator_digest_json_and_help(cli_env: Path):
    payload = json.loads(curator("digest", "--json", "status:all"))
    assert payload["text"].startswith("Digest: ")
    assert payload["blocks"][0]["type"] == "section"
    assert "since:7d" in curator("digest", "help")


def test_curator_digest_bad_filter(cli_env: Path):
    out = curator("digest", "since:yesterday", code=1)
    assert "since: expected 7d, 24h or a date like" in out and "got 'yesterday'" in out
    assert "Traceback" not in out
