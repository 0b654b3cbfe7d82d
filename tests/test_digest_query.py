"""What a ``/digest`` query means (``bot.rules.digest_query``): pure, parametrized."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.rules.digest_query import DigestError, DigestQuery, parse_digest_query

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # a Thursday
UTC_ZONE = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")


def q(text: str, tz: ZoneInfo = UTC_ZONE) -> DigestQuery:
    return parse_digest_query(text, NOW, tz)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", DigestQuery()),
        ("   ", DigestQuery()),
        ("topic:AI", DigestQuery(topics=("AI",))),
        ("Topic:AI", DigestQuery(topics=("AI",))),
        ("topics:AI", DigestQuery(topics=("AI",))),
        ("topic: AI", DigestQuery(topics=("AI",))),
        ("topic:AI topic:ai", DigestQuery(topics=("AI",))),
        ("topic:AI topic:Privacy", DigestQuery(topics=("AI", "Privacy"))),
        ('topic:"Computer Vision"', DigestQuery(topics=("Computer Vision",))),
        ('topic:"Computer   Vision"', DigestQuery(topics=("Computer Vision",))),
        ("topic:\u201cComputer Vision\u201d", DigestQuery(topics=("Computer Vision",))),
        ("status:pending", DigestQuery(statuses=("pending",))),
        ("status:open", DigestQuery(statuses=("pending",))),
        ("status:PENDING", DigestQuery(statuses=("pending",))),
        ("status:pending,approved", DigestQuery(statuses=("pending", "approved"))),
        ("status:published status:rejected", DigestQuery(statuses=("published", "rejected"))),
        ("status:pending status:pending", DigestQuery(statuses=("pending",))),
        (
            "status:all",
            DigestQuery(
                statuses=("pending", "approved", "published", "rejected", "expired", "unpublished")
            ),
        ),
        ("min:60", DigestQuery(min_quality=60.0)),
        ("min:62.5", DigestQuery(min_quality=62.5)),
        ("quality:60", DigestQuery(min_quality=60.0)),
        ("limit:25", DigestQuery(limit=25)),
        ("limit:50", DigestQuery(limit=50)),
        ("limit:1", DigestQuery(limit=1)),
        ("police", DigestQuery(words=("police",))),
        ("police Police", DigestQuery(words=("police",))),
        ('"facial recognition"', DigestQuery(words=("facial recognition",))),
        ("\u201cfacial recognition\u201d", DigestQuery(words=("facial recognition",))),
        ('"facial recognition', DigestQuery(words=("facial recognition",))),  # unclosed
        ('police "facial recognition"', DigestQuery(words=("police", "facial recognition"))),
        ('"Update: budget"', DigestQuery(words=("Update: budget",))),
        ("10:30", DigestQuery(words=("10:30",))),
        ("https://gcn.com/x", DigestQuery(words=("https://gcn.com/x",))),
        ('""', DigestQuery()),
        ("help", DigestQuery(help=True)),
        ("HELP", DigestQuery(help=True)),
        ("?", DigestQuery(help=True)),
        ('"help"', DigestQuery(words=("help",))),  # quoted: a word to search for
    ],
)
def test_parse(text: str, expected: DigestQuery):
    assert q(text) == expected


@pytest.mark.parametrize(
    ("text", "since"),
    [
        ("since:7d", NOW - timedelta(days=7)),
        ("since:7D", NOW - timedelta(days=7)),
        ("since:24h", NOW - timedelta(hours=24)),
        ("since:2w", NOW - timedelta(weeks=2)),
        ("since:2026-11-20", datetime(2026, 11, 20, tzinfo=UTC)),
        ("since: 7d", NOW - timedelta(days=7)),
        ("since:7d since:7d", NOW - timedelta(days=7)),
    ],
)
def test_parse_since(text: str, since: datetime):
    query = q(text)
    assert query.since == since
    assert query.since_text == text.split()[-1].removeprefix("since:")


def test_since_a_date_is_midnight_in_the_newsroom_zone():
    assert q("since:2026-11-20", BERLIN).since == datetime(2026, 11, 19, 23, 0, tzinfo=UTC)


def test_filters_combine():
    query = q('topic:AI since:7d min:50 limit:5 status:pending police "face search"')
    assert query == DigestQuery(
        topics=("AI",), statuses=("pending",), since=NOW - timedelta(days=7), since_text="7d",
        min_quality=50.0, words=("police", "face search"), limit=5,
    )  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        "",
        "topic:AI",
        'topic:"Computer Vision" status:pending,approved since:7d min:62.5 limit:20',
        'police "facial recognition" topic:Privacy',
    ],
)
def test_describe_reads_back_as_the_same_query(text: str):
    assert q(q(text).describe()) == q(text)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("since:yesterday", "since: expected 7d, 24h or a date like 2026-11-20, got 'yesterday'"),
        ("since:7", "since: expected 7d, 24h or a date like 2026-11-20, got '7'"),
        ("since:0d", "since: expected 7d, 24h or a date like 2026-11-20, got '0d' (from 1h"),
        ("since:99999d", "got '99999d' (from 1h up to 10 years back)"),
        ("since:2026-02-30", "got '2026-02-30' (no such day)"),
        ("since:2027-01-01", "since: 2027-01-01 is in the future"),
        ("since:", "since: expected 7d, 24h or a date like 2026-11-20, got nothing"),
        ("since:7d since:24h", "since: given twice ('7d' and '24h'); use one"),
        (
            "status:done",
            "status: expected pending, approved, published, rejected, expired, unpublished or all, "
            "got 'done'",
        ),
        ("status:pending,", "status: expected pending, approved"),
        ("min:high", "min: expected a quality number like min:60, got 'high'"),
        ("min:nan", "min: expected a quality number like min:60, got 'nan'"),
        ("min:60 min:70", "min: given twice"),
        ("limit:0", "limit: expected a whole number from 1 to 50, got '0'"),
        ("limit:51", "limit: expected a whole number from 1 to 50, got '51'"),
        ("limit:ten", "limit: expected a whole number from 1 to 50, got 'ten'"),
        ("limit:-1", "limit: expected a whole number from 1 to 50, got '-1'"),
        ("topic:", 'topic: expected a topic like topic:AI or topic:"Computer Vision", got nothing'),
        ("topic: since:7d", "topic: expected a topic like topic:AI"),
        ("topc:AI", "unknown filter 'topc:'; did you mean topic:?"),
        ("sinse:7d", "unknown filter 'sinse:'; did you mean since:?"),
        ("Breaking: news", "unknown filter 'breaking:'; filters are topic:, status:, since:"),
        ("since:" + "x" * 80, "got '" + "x" * 39 + "…'"),
    ],
)
def test_bad_filters_get_one_line_showing_the_right_form(text: str, error: str):
    with pytest.raises(DigestError) as caught:
        q(text)
    message = str(caught.value)
    assert message.startswith(error) or error in message, message
    assert "\n" not in message
