"""Every message the bot builds fits Slack's limits and shows article text as text, whatever
the article holds: candidate cards in every state, the /digest answer and the morning
summary, built from hostile articles (property tests; modest example counts)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import cycle
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from bot.config import Config, config_from_mapping
from bot.rules.digest_query import DigestQuery
from bot.rules.tally import Tally
from bot.slack.card_blocks import CardState, Emoji, candidate_card
from bot.slack.digest_cards import DigestEntry, DigestResult
from bot.slack.digest_message import digest_message
from bot.slack.limits import message_problems
from bot.slack.summary import Summary, group_by_topic
from bot.slack.summary_message import summary_message
from storage.articles import ArticleView
from storage.models import PostStatus
from storage.post_views import PostView
from tests.slack_standin import over_limits, too_much_text

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
EMOJI = Emoji("white_check_mark", "x")

# Markup an article may hold that the bot's own words never contain: if one of these
# reaches a mrkdwn text as written, Slack would format it, show an emoji, or ping someone.
MARKERS = [
    "*BOLD*", "_ITALIC_", "~STRIKE~", "`CODE`", "```BLOCK```", ":skull:", ":smiling_imp:",
    ":+1:", "<!channel>", "<!here>", "<@UEVIL>", "<https://evil.example|click>",
    "\uff0aBOLD\uff0a",
]  # fmt: skip
BIDI = re.compile(
    "[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff\u2028\u2029]"
)

ODD = [
    "&", "&amp;#46;", "&#8217;", "&lt;", "<", ">", "|", ":", "\n", "\r\n", "\t", "\u202e",
    "\u2066", "\u200b", "\x00", "\x1b[31m", " ", "e\u0301", "\U0001f468\u200d\U0001f469",
    "\U0001f1eb\U0001f1f7", "\ud800", "> quote",
]  # fmt: skip
piece = st.one_of(st.sampled_from(MARKERS), st.sampled_from(ODD), st.text(max_size=8))
short_text = st.lists(piece, max_size=12).map("".join)
# Long text is a short one repeated: cheap to generate, as hostile as it is long.
long_text = st.builds(lambda t, n: (t or "&") * n, short_text, st.integers(1, 4000))
text = st.one_of(st.none(), short_text, long_text, st.just("&" * 600))
url = st.one_of(
    st.none(),
    st.just("https://news.example/a"),
    st.builds(lambda t: "https://news.example/" + t, short_text),
    st.builds(lambda n: "https://news.example/?" + "a=1&" * n, st.integers(1, 1500)),
    st.sampled_from(["javascript:alert(1)", "http://x", "//news.example/a", "https://"]),
)
image_url = st.one_of(
    url, st.builds(lambda n: "https://cdn.example/" + "i" * n + ".png", st.integers(2900, 3500))
)
related_item = st.fixed_dictionaries(
    {
        "title": text,
        "url": url,
        "provider": text,
        "quality": st.one_of(st.none(), st.floats(0, 100)),
    }
)
related = st.one_of(
    st.lists(related_item, max_size=4),
    st.builds(lambda item, n: (item,) * n, related_item, st.integers(0, 300)),
)
topics = st.one_of(
    st.lists(short_text, max_size=5),
    st.builds(lambda t, n: tuple(f"{t}{i}" for i in range(n)), short_text, st.integers(0, 300)),
)
score = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False))


@st.composite
def articles(draw: st.DrawFn, n: int = 0) -> ArticleView:
    return ArticleView(
        id=n, path=f"news/{n}-{draw(short_text)}.md", title=draw(text), excerpt=draw(text),
        url=draw(url), quality=draw(score), heat=draw(score),
        dated=draw(st.one_of(st.none(), st.just(NOW - timedelta(days=1)))),
        first_seen_at=NOW - timedelta(days=2), provider_name=draw(text),
        provider_domain=draw(text), image_url=draw(image_url), topics=tuple(draw(topics)),
        related=tuple(draw(related)),
    )  # fmt: skip


voters = st.one_of(
    st.lists(st.sampled_from(["UALICE", "UBOB", "UCAROL"]), max_size=3, unique=True),
    st.builds(lambda n: [f"U{i:08d}" for i in range(n)], st.integers(0, 300)),
)
tallies = st.builds(lambda p, r: Tally(tuple(p), tuple(r)), voters, voters)


def config(commit_url: str = "https://git.example.org/content/commit/{sha}") -> Config:
    return config_from_mapping(
        {
            "content": {"remote": "/nowhere.git", "commit_url": commit_url},
            "slack": {"channel": "#curation", "editors": ["UALICE", "UBOB"]},
            "schedule": {"publish": "0 10 * * *", "post": "0 9 * * mon-fri"},
        },
        path=Path("curator.yml"),
        env={"DATABASE_URL": "sqlite://"},
    )


CONFIG = config()


def assert_fits_and_inert(text: str, blocks: list[Block], *, posted: bool = True) -> None:
    """Slack takes it (the bot's checker, the SDK, and the stand-in's own reading of the
    limits agree), and nothing from an article reaches mrkdwn as markup. ``posted``: sent by
    chat.postMessage or chat.update, where the blocks' text in all is limited too."""
    assert message_problems(text, blocks, posted=posted) == []
    data = [b.to_dict() for b in blocks]  # what the SDK sends; raises if it refuses
    assert over_limits({"text": text, "blocks": data}) == []
    assert not posted or not too_much_text({"blocks": data})
    shown = [text, *_mrkdwn_texts(data)]
    for t in shown:
        bare = re.sub(r"<(https?://[^|<>\s]+)\|", "<|", t)  # Slack never formats a link's URL
        for marker in MARKERS:
            assert marker not in bare, (marker, t)
        assert not BIDI.search(t)
        assert not re.search(r"&(?!amp;|lt;|gt;)", t)  # every & begins an entity, whole
        for inner in re.findall(r"<([^<>]*)>", t):  # links and mentions are the bot's own
            assert inner.startswith(("https://", "http://", "@U")), inner
        assert t.count("<") == t.count(">")
    for t in _plain_texts(data):
        assert not BIDI.search(t)


def _mrkdwn_texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "mrkdwn" else []
        return own + [t for v in node.values() for t in _mrkdwn_texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in _mrkdwn_texts(v)]
    return []


def _plain_texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "plain_text" else []
        alt = [node["alt_text"]] if "alt_text" in node else []
        return own + alt + [t for v in node.values() for t in _plain_texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in _plain_texts(v)]
    return []


states = st.builds(
    CardState,
    status=st.sampled_from(list(PostStatus)),
    tally=tallies,
    quorum=st.integers(1, 5),
    closes_at=st.just(NOW + timedelta(days=2)),
    publish_at=st.one_of(st.none(), st.just(NOW + timedelta(hours=1))),
    commit_sha=st.one_of(st.none(), st.just("abc1234def5678abc1234def5678abc1234def56")),
    commit_url=st.one_of(st.none(), url),
    note=text,
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@given(articles(), states)
@SETTINGS
def test_a_card_in_any_state_fits_and_shows_the_article_as_text(article, state):
    assert_fits_and_inert(*candidate_card(article, state, EMOJI, CONFIG.zone))


@st.composite
def entries(draw: st.DrawFn, n: int) -> DigestEntry:
    status = draw(st.sampled_from([s for s in PostStatus if s != PostStatus.SKIPPED]))
    post = PostView(
        post_id=n, status=status, channel="CCURATION", day="2026-11-25",
        permalink=draw(st.one_of(st.none(), st.just(
            "https://newsroom.slack.com/archives/CCURATION/p1800000001000100"), url)),
        commit_sha=draw(st.one_of(st.none(), st.just("f" * 40))),
        posted_at=NOW - timedelta(days=2), changed_at=NOW - timedelta(hours=3),
        article=draw(articles(n)),
    )  # fmt: skip
    return DigestEntry(post, draw(tallies), draw(text))


def repeat(protos: list[DigestEntry], n: int) -> list[DigestEntry]:
    """``n`` cards made of a few hostile ones over and over (many cards of fresh random
    articles each would be slow to draw, and no more hostile)."""
    return [
        DigestEntry(replace(e.post, post_id=i), e.tally, e.hold)
        for i, e in zip(range(n), cycle(protos), strict=False)
    ]


protos = st.lists(entries(0), min_size=1, max_size=3)


@given(protos, st.integers(0, 50), st.lists(short_text, max_size=3), st.integers(0, 500))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_digest_answer_fits_and_shows_articles_as_text(cards, n, words, more):
    query = DigestQuery(words=tuple(w for w in words if w.strip()), limit=50)
    result = DigestResult(query, repeat(cards, n), n + more)
    # The answer goes back through response_url: the posted text limit does not apply.
    assert_fits_and_inert(*digest_message(result, CONFIG, now=NOW), posted=False)


@given(
    protos,
    st.lists(st.integers(0, 15), min_size=5, max_size=5),
    st.builds(lambda a, n: [replace(a, id=i) for i in range(n)], articles(), st.integers(0, 30)),
    st.lists(articles(), max_size=2),
    st.booleans(),
)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_morning_summary_fits_and_shows_articles_as_text(cards, sizes, same, mixed, posted):
    lists = [repeat(cards, n) for n in sizes]
    summary = Summary(
        since=NOW - timedelta(days=1), now=NOW, published=lists[0], rejected=lists[1],
        expired=lists[2], approved=lists[3], waiting=lists[4],
        candidates=group_by_topic(same + mixed), posted_today=posted,
    )  # fmt: skip
    assert_fits_and_inert(*summary_message(summary, CONFIG))
