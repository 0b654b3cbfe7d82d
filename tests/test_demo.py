"""``curator demo`` end to end, and the Block Kit → terminal text renderer it shows cards with."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bot.cli.main import cli
from bot.cli.terminal import mrkdwn_to_text, render_blocks
from bot.slack.card_blocks import CardState, Emoji, candidate_card
from storage.articles import ArticleView
from tests.conftest import SAMPLE
from tests.test_digest import NOW, UTC_ZONE


def curator(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a network connection fails the test."""

    def refuse(self: socket.socket, address: object) -> None:
        raise AssertionError(f"the demo tried to connect to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    # The demo's database is the SQLite file in its folder, whatever the environment says.
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/not-used")


def test_demo_shows_cards_digest_and_summary(tmp_path: Path, offline: None):
    target = tmp_path / "demo"
    out = curator("demo", "--dir", str(target))
    sha = subprocess.run(
        ["git", "-C", str(target / "newsroom"), "rev-parse", "--short=7", "HEAD"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip

    assert (target / "curator.db").is_file() and (target / "curator.yml").is_file()
    assert "16 articles, scanned into" in out
    assert "could not read articles/broken-draft.md: YAML error" in out
    # Today's cards, as readable text: bold dropped, links as "title (url)", fields, related.
    cards = out.split("Today's candidate cards, AI desk")[1].split("/digest")[0]
    ai, general = cards.split("Today's candidate cards, General desk")
    assert ai.startswith(": what the bot posts to #ai-desk (2)")  # its own per_day: 3
    assert general.startswith(": what the bot posts to #curation (5)")
    assert "Cities write the first rules for buying AI systems" in ai  # topics AI, Procurement
    assert "Heat pumps cut public housing bills" in general
    assert (
        "Cities write the first rules for buying AI systems (https://www.route-fifty.com/" in cards
    )
    assert "Quality: 91 · Heat: 12 · Source: Route Fifty (route-fifty.com)" in cards
    assert (
        "Related: Background: AI explained (https://www.wired.com/city-ai-procurement-1)" in cards
    )
    assert "Open · ✅ 0 · ❌ 0 · 2 needed" in cards
    assert "fare capping & tap-to-pay" in cards and "&amp;" not in out
    assert "Airports expand face-scan" not in cards  # already live on the site
    # The digest asked in a DM covers every desk: cards awaiting votes (the sample-shaped one
    # among them), approved, published; asked in the AI desk's channel, that desk only.
    digest = out.split("/digest   (asked in a direct message")[1].split("Morning summary")[0]
    assert "Digest · every desk" in digest and "Awaiting votes · 2" in digest
    assert "What cities must do to responsibly deploy facial recognition solutions" in digest
    assert "✅ 1 (@UDEMOBEN) · ❌ 0 · 2 needed" in digest
    assert "· AI desk" in digest and "· General desk" in digest
    assert f"published 18 hours ago in `{sha}`" in digest or f"in `{sha}`" in digest
    police = out.split('/digest "police"   (asked in #ai-desk')[1].split("Morning summary")[0]
    assert "Digest · the AI desk · police" in police
    assert "Auditors count every police face search" in police
    # The summaries of the replayed night: each desk's in its channel, the newsroom's.
    ai = out.split("Morning summary: posted to #ai-desk")[1].split("Morning summary: posted")[0]
    for part in ("Morning summary · AI", "Rejected · 1", "Waiting for votes · 1, oldest first"):
        assert part in ai, part
    general = out.split("Morning summary: posted to #curation")[1].split("posted to #newsroom")[0]
    for part in ("Morning summary · General", "Published · 1", f"in `{sha}`:",
                 "Waiting for votes · 1, oldest first", "andidates by topic · 5"):  # fmt: skip
        assert part in general, part
    assert re.search(r"waiting (2 days|\d\d hours)", general)  # the card from two days ago
    newsroom = out.split("Morning summary: posted to #newsroom")[1]
    assert "Newsroom summary" in newsroom and "2 desks · 1 published · 1 rejected" in newsroom
    assert "\x1b[" not in out


def test_the_demo_config_keeps_working(tmp_path: Path, offline: None, monkeypatch):
    target = tmp_path / "demo"
    curator("demo", "--dir", str(target))
    monkeypatch.delenv("DATABASE_URL")
    config = str(target / "curator.yml")
    listed = curator("-c", config, "digest", "status:all")
    assert "5 matches" in listed and "Rejected · 1" in listed
    assert "Cities write the first rules" in curator("-c", config, "candidates")


def test_try_it_yourself_lines_run_as_printed(tmp_path: Path, offline: None):
    """Issue 9: they said bare `curator`, which is not on PATH after scripts/test."""
    out = curator("demo", "--dir", str(tmp_path / "demo"))
    lines = out.split("Try it yourself (no Slack needed):\n")[1].splitlines()[:3]
    # The environment still has a DATABASE_URL (see `offline`): the lines must not use it.
    assert all(line.startswith("  DATABASE_URL= /") for line in lines), lines
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    for line, expect in zip(
        lines, ("Cities write the first rules", "5 matches", "Since "), strict=False
    ):
        assert shutil.which("curator", path=env["PATH"]) is None
        proc = subprocess.run(["sh", "-c", line], env=env, capture_output=True, text=True)
        assert proc.returncode == 0, (line, proc.stderr)
        assert expect in proc.stdout, (line, proc.stdout)


def test_demo_refuses_a_folder_in_use(tmp_path: Path, offline: None):
    (tmp_path / "notes.txt").write_text("mine")
    out = curator("demo", "--dir", str(tmp_path), code=1)
    assert "is not empty" in out and "Traceback" not in out
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_demo_default_is_a_new_temporary_folder(offline: None):
    out = curator("demo")
    folder = Path(out.split("Built a content repo in ")[1].split("\n")[0]).parent
    try:
        assert folder.name.startswith("curator-demo-") and (folder / "curator.db").is_file()
    finally:
        import shutil

        shutil.rmtree(folder)


# ============================================================= Block Kit as terminal text


@pytest.mark.parametrize(
    ("mrkdwn", "text"),
    [
        ("*bold* text", "bold text"),
        ("<https://a.example/x|A &amp; B>", "A & B (https://a.example/x)"),
        ("<https://a.example/x>", "https://a.example/x"),
        ("<https://a.example/x|https://a.example/x>", "https://a.example/x"),
        ("<@UALICE> and <#C1|curation> and <!here>", "@UALICE and #curation and @here"),
        ("&lt;!channel&gt; &amp;lt;", "<!channel> &lt;"),
        (":white_check_mark: 2 · :x: 1 · :tada:", "✅ 2 · ❌ 1 · :tada:"),
        ("5*3 = 15, 2*4", "5*3 = 15, 2*4"),
        ("*<https://a.example|Title>* · 87", "Title (https://a.example) · 87"),
        ("at 08:30 · `abc1234`", "at 08:30 · `abc1234`"),
    ],
)
def test_mrkdwn_to_text(mrkdwn: str, text: str):
    assert mrkdwn_to_text(mrkdwn) == text


def test_bold_in_color():
    assert mrkdwn_to_text("*Open* now", color=True) == "\x1b[1mOpen\x1b[22m now"


def test_a_candidate_card_reads_well_in_a_terminal():
    article = ArticleView(
        id=1, path="news/a.md", title="Beta <!channel> & co", excerpt="An excerpt.",
        url="https://news.example/beta", quality=87, heat=3, dated=NOW, first_seen_at=NOW,
        provider_name="GCN", provider_domain="gcn.com", image_url="https://gcn.com/a.png",
        topics=("AI", "Cities"), related=({"title": "More", "url": "https://o.example/1",
                                            "provider": "Other", "quality": 70},),
    )  # fmt: skip
    _, blocks = candidate_card(article, CardState(), Emoji("white_check_mark", "x"), UTC_ZONE)
    assert render_blocks(blocks).split("\n") == [
        "Beta <!channel> & co (https://news.example/beta)",
        "An excerpt.",
        "image: https://gcn.com/a.png",
        "Quality: 87 · Heat: 3 · Source: GCN (gcn.com) · Published: 26 Nov 2026 09:00 · "
        "Topics: AI, Cities",
        "  Related: More (https://o.example/1) (Other, 70)",
        "  Open · ✅ 0 · ❌ 0 · 2 needed",
        "  React ✅ to publish or ❌ to reject. The bot's own reactions are one-click buttons, "
        "not votes.",
    ]


def test_render_other_blocks():
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Title :x:"}},
        {"type": "divider"},
        {"type": "image", "image_url": "https://i.example/a.png", "alt_text": "a chart"},
        {"type": "context", "elements": [{"type": "image", "image_url": "u", "alt_text": "logo"},
                                         {"type": "mrkdwn", "text": "*note*"}]},
        {"type": "actions", "elements": [{"type": "button",
                                          "text": {"type": "plain_text", "text": "Go"}}]},
        {"type": "rich_text", "elements": []},
    ]  # fmt: skip
    assert render_blocks(blocks, spaced=True).split("\n\n") == [
        "Title ❌\n" + "═" * 7, "─" * 72, "[image: a chart] (https://i.example/a.png)",
        "  [logo] note", "[ Go ]", "[rich_text block]",
    ]  # fmt: skip


@pytest.mark.skipif(not SAMPLE.is_file(), reason="the shared sample is not beside the repo")
def test_the_demo_article_is_modelled_on_the_shared_sample():
    """The demo generates it (an installed demo reads nothing outside its folder): same shape."""
    from bot.cli.demo_stories import SAMPLE as GENERATED
    from bot.cli.demo_stories import SAMPLE_NAME, markdown

    def front(text: str) -> dict:
        return yaml.safe_load(text.split("---\n")[1])

    shared, made = front(SAMPLE.read_text(encoding="utf-8")), front(markdown(GENERATED, NOW))
    assert SAMPLE.name == SAMPLE_NAME and made.keys() <= shared.keys()
    for key in ("title", "excerpt", "quality", "heat", "topics", "provider", "published"):
        assert made[key] == shared[key], key
