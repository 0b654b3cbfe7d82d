"""What real newsrooms throw at the bot: overlong and odd articles, posted over real HTTP to
the Slack stand-in, which refuses a message over Slack's limits as Slack does
(``invalid_blocks``). One bad card never stops the day; a skipped one is recorded."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.cli.main import cli
from bot.cli.status import status_lines
from bot.config import Config, config_from_mapping
from bot.slack import daily_post
from bot.slack.card_blocks import CardState, Emoji, candidate_card
from bot.slack.client import make_client
from storage.articles import ArticleView
from storage.fields import FieldMap
from storage.models import Decision, Post
from storage.pathfilter import PathFilter
from storage.scan import scan
from tests.helpers import Newsroom, article
from tests.slack_standin import SlackStandIn, over_limits

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")
LONG = "Council budget " * 240  # 3,600 characters


def frontmatter(**fields: Any) -> str:
    """An article whose values are written as JSON strings (valid YAML): any text at all."""
    lines = ["---"]
    for key, value in fields.items():
        lines.append(f"{key}: {json.dumps(value, ensure_ascii=False)}")
    return "\n".join([*lines, "---", "", "Body.", ""])


def hostile(title: str, **extra: Any) -> str:
    fields: dict[str, Any] = {
        "title": title,
        "excerpt": "About it.",
        "webUrl": "https://news.example/" + title[:20].replace(" ", "-"),
        "quality": 70,
        "heat": 1,
        "published": False,
        "publishedDateTime": "2026-11-25T10:00:00Z",
        "provider": {"name": "Example News", "domain": "news.example"},
        "topics": ["AI"],
        "images": [{"url": "https://cdn.example/a.png"}],
    }
    fields.update(extra)
    return frontmatter(**fields)


# The cases: each of these once stopped the whole day's post.
CASES = {
    "long-title.md": hostile(LONG, quality=99),
    "long-url.md": hostile("Long URL", quality=98, webUrl="https://news.example/?" + "a=1&" * 900),
    "long-image.md": hostile(
        "Long image URL", quality=97, images=[{"url": "https://cdn.example/" + "i" * 3500}]
    ),
    "ampersands.md": hostile("Ampersands", quality=96, excerpt="&" * 600),
    "related.md": hostile(
        "Many related links",
        quality=95,
        related=[
            {
                "title": f"Related story {i} " * 20,
                "webUrl": f"https://other.example/{i}" + "x" * 900,
                "provider": {"name": "Other " * 30},
                "quality": 50,
            }
            for i in range(40)
        ],
    ),
    "topics.md": hostile("Many topics", quality=94, topics=[f"Topic {i} " * 6 for i in range(300)]),
    "markup.md": hostile(
        "*Breaking*: _vote_ ~now~ `rm` :white_check_mark: :x:\n\u202eevil\u202c &amp;#46; &#8217;",
        quality=93,
        excerpt="Line one\nline two :x: *bold* <!channel> &#8217;s &amp;amp; R&D \u2066x\u2069",
    ),
}


@pytest.fixture
def config(tmp_path: Path, db_url: str, newsroom: Newsroom) -> Config:
    return config_from_mapping(
        {
            "content": {"remote": str(newsroom.remote)},
            "slack": {"channel": "#curation", "editors": ["UALICE", "UBOB"]},
            "candidates": {"per_day": 10, "max_age_days": 100000},
        },
        path=tmp_path / "curator.yml",
        env={"DATABASE_URL": db_url},
    )


def scan_all(engine: Engine, newsroom: Newsroom, content_repo) -> None:
    newsroom.commit()
    content_repo.fetch()
    scan(engine, content_repo, FieldMap(), PathFilter())


def client(standin: SlackStandIn) -> WebClient:
    return make_client("xoxb-test-token", standin.url)


def sent_blocks(standin: SlackStandIn) -> list[dict[str, Any]]:
    return [m for m in standin.messages.values()]


def test_every_hostile_article_is_posted_within_slacks_limits(
    engine, config, newsroom, content_repo, standin
):
    for path, text in CASES.items():
        newsroom.write(path, text)
    scan_all(engine, newsroom, content_repo)

    report = daily_post.post_day(engine, client(standin), config, NOW)

    assert (report.planned, report.posted, report.skipped, report.error) == (7, 7, 0, None)
    messages = list(standin.messages.values())
    assert len(messages) == 7 and all(over_limits(m) == [] for m in messages)
    by_text = {m["text"].split(": ", 1)[1][:12]: m for m in messages}
    # The overlong title is cut with an ellipsis and still links to the article.
    title = by_text["Council budg"]["blocks"][0]["text"]["text"]
    assert title.startswith("*<https://news.example/Council-budget-") and "…>*" in title
    # A URL too long to link: the title shows as text. An image URL too long: no image.
    assert by_text["Long URL"]["blocks"][0]["text"]["text"] == "*Long URL*"
    assert not any("accessory" in b for b in by_text["Long image U"]["blocks"])
    # 600 ampersands: cut after escaping, so the excerpt fits; plain text, shown as typed.
    excerpt = by_text["Ampersands"]["blocks"][1]["text"]
    assert excerpt["type"] == "plain_text" and excerpt["emoji"] is False
    assert excerpt["text"] == "&" * 119 + "…"
    # Forty related links and 300 topics: as many as fit, then "and N more".
    related = by_text["Many related"]["blocks"][3]["elements"][0]["text"]
    assert related.startswith("Related: <https://other.example/0") and "and 3" in related
    topics = by_text["Many topics"]["blocks"][2]["fields"][-1]["text"]
    assert topics.startswith("*Topics*\nTopic 0 Topic 0") and topics.endswith("more")


def test_article_formatting_shows_as_typed(engine, config, newsroom, content_repo, standin):
    newsroom.write("markup.md", CASES["markup.md"])
    scan_all(engine, newsroom, content_repo)
    daily_post.post_day(engine, client(standin), config, NOW)

    (message,) = standin.messages.values()
    head, excerpt = message["blocks"][0]["text"], message["blocks"][1]["text"]
    # Look-alikes Slack does not parse; no emoji shortcode; no bidi override; no line break;
    # entities from the source decoded, then escaped.
    assert head["verbatim"] is True
    assert head["text"].endswith(
        "|\u2217Breaking\u2217: \u02cdvote\u02cd \u223cnow\u223c \u02cbrm\u02cb "
        "\u2236white\u02cdcheck\u02cdmark: \u2236x: evil . \u2019>*"
    )
    assert message["text"].endswith("\u2236white\u02cdcheck\u02cdmark: \u2236x: evil . \u2019")
    # The excerpt needs no link: plain_text with emoji off shows it exactly as typed.
    assert excerpt == {
        "type": "plain_text",
        "text": "Line one line two :x: *bold* <!channel> \u2019s & R&D x",
        "emoji": False,
    }


def test_an_unscored_card_says_so():
    view = ArticleView(
        id=1, path="a.md", title="No score yet", excerpt=None, url=None, quality=None, heat=None,
        dated=None, first_seen_at=NOW, provider_name=None, provider_domain=None, image_url=None,
        topics=(), related=(),
    )  # fmt: skip
    text, blocks = candidate_card(view, CardState(), Emoji("white_check_mark", "x"), UTC_ZONE)
    assert text == "Candidate (unscored): No score yet"
    assert blocks[1].to_dict()["fields"][0]["text"] == "*Quality*\nunscored"


@pytest.mark.parametrize(
    "image_url",
    [
        "https://e.com/i.png?k=ghp_DoNotLeak0123456789abcdef",
        "https://cdn:DoNotLeak0123456789@e.com/i.png",
        "https://e.com/i.png?password=DoNotLeak0123456789",
        "https://e.com/xoxb-1-DoNotLeak0123456789abcdef.png",
    ],
)
def test_an_image_url_holding_a_credential_never_reaches_the_card(image_url: str):
    """Issue 9 review: the card's image had a URL check of its own that hid nothing, so the
    token in ``image_url`` went into the blocks. A URL Slack could not fetch once hidden
    (``?k=***``) would get the card refused: no image instead."""
    view = ArticleView(
        id=1, path="a.md", title="Picture", excerpt="With an image", url=None, quality=50,
        heat=None, dated=None, first_seen_at=NOW, provider_name=None, provider_domain=None,
        image_url=image_url, topics=(), related=(),
    )  # fmt: skip
    text, blocks = candidate_card(view, CardState(), Emoji("white_check_mark", "x"), UTC_ZONE)
    shown = json.dumps([b.to_dict() for b in blocks]) + text
    assert "DoNotLeak" not in shown and '"image"' not in shown
    clean_view = dataclasses.replace(view, image_url="https://e.com/i.png?k=1")
    _, blocks = candidate_card(clean_view, CardState(), Emoji("white_check_mark", "x"), UTC_ZONE)
    assert blocks[1].to_dict()["accessory"]["image_url"] == "https://e.com/i.png?k=1"


def post_ids(engine: Engine) -> dict[str, Any]:
    from storage.models import Article

    a, p = Article.__table__, Post.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(a.c.path, p).join(p, p.c.article_id == a.c.id)).all()
    return {r.path: r for r in rows}


def three_candidates(newsroom: Newsroom) -> None:
    newsroom.write("a.md", article("Alpha", quality=90))
    newsroom.write("b.md", article("Beta", quality=80))
    newsroom.write("c.md", article("Gamma", quality=70))


def test_a_card_slack_refuses_is_skipped_and_the_rest_are_posted(
    engine, config, newsroom, content_repo, standin, caplog
):
    three_candidates(newsroom)
    scan_all(engine, newsroom, content_repo)
    standin.refuse(lambda message: "Beta" in message["text"], "invalid_blocks")
    # The real clock: whether the article changed since the skip compares the scan's time.
    now = datetime.now(UTC)

    report = daily_post.post_day(engine, client(standin), config, now)

    assert (report.planned, report.posted, report.skipped, report.error) == (3, 2, 1, None)
    posts = post_ids(engine)
    assert posts["b.md"].status == "skipped" and posts["b.md"].ts is None
    assert [r.message for r in caplog.records if "skipped" in r.message] == [
        "card for b.md skipped: Slack refused the card: invalid_blocks; the other cards are posted"
    ]
    with engine.connect() as conn:
        causes = [r.cause for r in conn.execute(select(Decision.__table__))]
    assert "skipped: Slack refused the card: invalid_blocks" in causes
    lines = status_lines(engine, config, now)
    assert (
        "skipped today: 1 card(s) not posted; each article is offered again once it changes"
        in lines
    )
    assert "  b.md: Slack refused the card: invalid_blocks" in lines

    # A rerun, the reconcile's resume and the next day do not try the same card again.
    calls = len(standin.called("chat.postMessage"))
    # Later the same posting day, whatever the hour the suite runs at (23:30 + 1 h is tomorrow).
    local = now.astimezone(config.zone)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(), config.zone)
    step = min(timedelta(hours=1), (midnight - now) / 3)
    again = daily_post.post_day(engine, client(standin), config, now + step)
    assert (again.posted, again.already, again.skipped) == (0, 2, 1)
    assert daily_post.resume_day(engine, client(standin), config, now + 2 * step) == 0
    tomorrow = daily_post.post_day(engine, client(standin), config, now + timedelta(days=1))
    assert tomorrow.planned == 0 and len(standin.called("chat.postMessage")) == calls
    assert "skipped today" not in "\n".join(status_lines(engine, config, now + timedelta(days=1)))

    # Once the article changes, a later day offers it again.
    standin.refusals.clear()
    newsroom.write("b.md", article("Beta, corrected", quality=80))
    scan_all(engine, newsroom, content_repo)
    later = daily_post.post_day(engine, client(standin), config, now + timedelta(days=2))
    assert (later.planned, later.posted) == (1, 1)
    assert post_ids(engine)["b.md"].status == "open"


def test_a_card_that_cannot_be_built_is_skipped(
    engine, config, newsroom, content_repo, standin, monkeypatch
):
    """Whatever an article makes the renderer raise, that card is skipped, not the day.
    (No real article can still break the cards, so the renderer is made to fail here.)"""
    three_candidates(newsroom)
    scan_all(engine, newsroom, content_repo)
    beta = post_ids(engine).get("b.md")
    assert beta is None  # not planned yet
    render = daily_post.render_post

    def failing(conn, post, config, now):
        text, blocks = render(conn, post, config, now)
        if "Beta" in text:
            raise ValueError("something in this article\nbroke the card")
        return text, blocks

    monkeypatch.setattr(daily_post, "render_post", failing)
    report = daily_post.post_day(engine, client(standin), config, NOW)
    assert (report.posted, report.skipped) == (2, 1)
    lines = status_lines(engine, config, NOW)
    assert "  b.md: something in this article broke the card" in lines


@pytest.fixture
def cli_env(tmp_path: Path, db_url: str, newsroom: Newsroom, standin: SlackStandIn, monkeypatch):
    (tmp_path / "curator.yml").write_text(
        f"content:\n  remote: {newsroom.remote}\n"
        'slack:\n  channel: "#curation"\n  editors: [UALICE, UBOB]\n'
        "candidates:\n  max_age_days: 100000\n"
    )
    newsroom.write("a.md", article("Alpha", quality=90))
    newsroom.write("long.md", CASES["long-title.md"])
    newsroom.write("amp.md", CASES["ampersands.md"])
    newsroom.commit()
    for key, value in {
        "DATABASE_URL": db_url, "SLACK_API_URL": standin.url,
        "SLACK_BOT_TOKEN": "xoxb-test-not-real", "CURATOR_CONFIG": str(tmp_path / "curator.yml"),
    }.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    for args in (["db", "upgrade"], ["scan"]):
        assert CliRunner().invoke(cli, args).exit_code == 0


def test_curator_post_and_dry_run_survive_a_long_article(cli_env, standin):
    dry = CliRunner().invoke(cli, ["post", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert [c["path"] for c in json.loads(dry.stdout)] == ["long.md", "amp.md", "a.md"]
    real = CliRunner().invoke(cli, ["post"])
    assert real.exit_code == 0, real.output
    assert "3 candidates, 3 posted now" in real.output


def test_curator_post_names_a_skipped_card_and_exits_0(cli_env, standin):
    standin.refuse(lambda message: "Alpha" in message["text"], "msg_blocks_too_long")
    result = CliRunner().invoke(cli, ["post"])
    assert result.exit_code == 0, result.output
    assert "3 candidates, 2 posted now, 0 already posted, 0 left, 1 skipped" in result.output
    status = CliRunner().invoke(cli, ["status"]).output
    assert "a.md: Slack refused the card: msg_blocks_too_long" in status


def test_status_shows_paths_and_titles_as_scan_errors_does(cli_env, newsroom, standin):
    """Issue 9 review: ``curator status`` cleaned terminal text with the Slack cleaner (it
    decodes entities, drops zero-width and bidi characters, joins spaces) before the CLI
    escaped it, so a path read differently there than in ``scan --errors``. Both escape
    now, and remove nothing."""
    path = "news/R&amp;D  notes.md"  # an entity, two spaces (a zero-width space in a name
    # makes the file a scan error now: it is escaped, and the file skipped)
    refused = article("Refused").replace("2026-11-25T10:00:00Z", "'12/05/2020'")  # a warning
    newsroom.write(path, refused)
    newsroom.write("evil.md", article("Evil \\e[2J \\u202eeltit\\u200b"))
    newsroom.commit()
    assert CliRunner().invoke(cli, ["scan"]).exit_code == 0
    standin.refuse(lambda message: "Refused" in message["text"], "invalid_blocks")
    assert CliRunner().invoke(cli, ["post"]).exit_code == 0

    shown = "news/R&amp;D  notes.md"  # nothing there to escape: as it is
    errors = CliRunner().invoke(cli, ["scan", "--errors"]).stdout
    assert f"{shown}: warning: " in errors
    status = CliRunner().invoke(cli, ["status"]).stdout
    assert f"  {shown}: Slack refused the card: invalid_blocks\n" in status
    assert "Evil \\x1b[2J \\u202eeltit\\u200b\n" in status  # escaped, not removed
    assert "\x1b" not in status and "\u202e" not in status and "\u200b" not in status


def test_post_dry_run_prints_a_skip_instead_of_dying(cli_env, standin, monkeypatch):
    card = daily_post.candidate_card

    def failing(article, *args):
        if article.path == "a.md":
            raise ValueError("cannot build")
        return card(article, *args)

    monkeypatch.setattr(daily_post, "candidate_card", failing)
    result = CliRunner().invoke(cli, ["post", "--dry-run"])
    assert result.exit_code == 0, result.output
    cards = json.loads(result.stdout)  # the JSON on stdout, the log line on stderr
    assert {"path": "a.md", "skipped": "cannot build"} in cards and len(cards) == 3
    assert "card for a.md would be skipped: cannot build" in result.stderr
    assert standin.calls == []
