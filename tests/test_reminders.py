"""Reminders before a card closes, over the Slack stand-in on SQLite and PostgreSQL: one
direct message per editor per run listing their cards that close soon, never twice, never
in quiet hours, retried when Slack refuses, once across two processes.

The four-desk newsroom of ``tests.desk_newsroom`` posts two cards per desk at NOW (Thursday
26 November, 09:00 UTC): AI's close after 2 days (Alice, Dave), Policy's after 5 (Bob, Carol,
Dave; quorum 2), Science's and General's after 3 (Alice, Bob).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.cli.status import status_lines
from bot.clock.jobs import build_slot_runner
from bot.config import Config
from bot.outages import Told
from bot.runtime import Runtime
from bot.slack.editors import editors_from
from bot.slack.reminders import ReminderReport, send_reminders
from storage import reminders
from storage.models import Reminder
from storage.pathfilter import PathFilter
from tests.desk_newsroom import (
    DESKS,
    NOW,
    DeskStandIn,
    cards,
    client,
    desk_config,
    post_a_day,
    running_standin,
)
from tests.helpers import Newsroom
from tests.slack_requests import reaction_event, send_event, serve_bot
from tests.test_slack_loop import eventually

AI_CLOSES = NOW + timedelta(days=2)
POLICY_CLOSES = NOW + timedelta(days=5)
GENERAL_CLOSES = NOW + timedelta(days=3)  # and Science's


@pytest.fixture
def standin() -> Iterator[DeskStandIn]:
    with running_standin() as s:
        yield s


@pytest.fixture
def day(engine, newsroom, content_repo, standin, tmp_path, db_url) -> None:
    post_a_day(newsroom, content_repo, engine, standin, make_config(tmp_path, db_url, newsroom))


def make_config(tmp_path: Path, db_url: str, newsroom: Newsroom, **extra: Any) -> Config:
    return desk_config(tmp_path, db_url, newsroom.remote, **extra)


def remind(engine: Engine, standin: DeskStandIn, config: Config, at: datetime) -> ReminderReport:
    return send_reminders(engine, client(standin), config, editors_from(config), at)


def listed(standin: DeskStandIn, user: str) -> list[list[str]]:
    """The titles each DM to ``user`` lists, message by message."""
    out = []
    for message in standin.dms(user):
        text = "\n".join(b["text"]["text"] for b in message["blocks"] if b["type"] == "section")
        titles = [
            line.split("|", 1)[1].split(">", 1)[0]
            for line in text.splitlines()
            if line.startswith("• <")
        ]
        out.append(titles)
    return out


def test_a_card_closing_within_a_day_reminds_each_editor_once_with_links(
    day, engine, standin, tmp_path, db_url, newsroom
):
    config = make_config(tmp_path, db_url, newsroom)
    at = AI_CLOSES - timedelta(hours=23)  # AI's cards close within 24h; the rest later
    report = remind(engine, standin, config, at)
    assert (report.messages, report.cards, report.failed) == (2, 4, [])
    assert listed(standin, "UALICE") == [["AI alpha", "AI beta"]]
    assert listed(standin, "UDAVE") == [["AI alpha", "AI beta"]]
    assert standin.dms("UBOB") == standin.dms("UCAROL") == []
    message = standin.dms("UALICE")[0]
    ai = cards(engine)["AI alpha"]
    assert f"<{ai.permalink}|AI alpha>" in message["blocks"][0]["text"]["text"]
    assert "closes Saturday 09:00 (in 23 hours)" in message["blocks"][0]["text"]["text"]
    assert "AI" in message["blocks"][0]["text"]["text"]
    assert message["text"] == "2 cards close soon and still wait for your vote"
    assert [c.params["users"] for c in standin.called("conversations.open")] == [
        "UALICE", "UDAVE",
    ]  # fmt: skip

    # A second run, later, sends nothing new for the same cards and editors.
    again = remind(engine, standin, config, at + timedelta(hours=1))
    assert (again.messages, again.cards) == (0, 0)
    assert len(standin.dms("UALICE")) == 1

    # Once more cards come within reach, the next run lists those alone, for all of them.
    later = remind(engine, standin, config, GENERAL_CLOSES - timedelta(hours=20))
    assert listed(standin, "UALICE")[1] == ["Science alpha", "Science beta",
                                             "Sports alpha", "Sports beta"]  # fmt: skip
    assert listed(standin, "UBOB") == [["Science alpha", "Science beta", "Sports alpha",
                                        "Sports beta"]]  # fmt: skip
    assert later.messages == 2
    assert len(standin.dms("UDAVE")) == 1  # Dave edits neither Science nor General


def test_an_editor_who_voted_is_not_reminded_of_that_card(
    day, engine, standin, tmp_path, db_url, newsroom
):
    config = make_config(tmp_path, db_url, newsroom)
    card = cards(engine)["Policy alpha"]
    with serve_bot(config, engine, standin.url) as endpoint:
        event = reaction_event(
            "reaction_added",
            user="UBOB",
            reaction="white_check_mark",
            channel=card.channel,
            ts=card.ts,
            event_ts="1800000200.000001",
        )
        assert send_event(endpoint, event) == 200
        eventually(lambda: _present_votes(engine, card.id) == {"UBOB"})
    assert cards(engine)["Policy alpha"].status == "open"  # quorum 2: still open
    report = remind(engine, standin, config, POLICY_CLOSES - timedelta(hours=2))
    assert listed(standin, "UBOB") == [["Policy beta"]]
    assert listed(standin, "UCAROL") == [["Policy alpha", "Policy beta"]]
    assert listed(standin, "UDAVE") == [["Policy alpha", "Policy beta"]]
    assert report.cards == 5


def _present_votes(engine: Engine, post_id: int) -> set[str]:
    from storage.models import Vote

    v = Vote.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(v.c.user_id).where(v.c.post_id == post_id, v.c.present))
        return {r.user_id for r in rows}


def test_quiet_hours_hold_reminders_until_the_first_run_after(
    day, engine, standin, tmp_path, db_url, newsroom
):
    # Berlin is UTC+1 in November: quiet from 19:00 to 07:00 UTC.
    votes = {"quorum": 2, "window_days": 3, "quiet_hours": "20:00-08:00"}
    config = make_config(tmp_path, db_url, newsroom, timezone="Europe/Berlin", votes=votes)
    evening = datetime.fromisoformat("2026-11-27T19:30:00+00:00")  # 20:30 in Berlin
    report = remind(engine, standin, config, evening)
    assert report.messages == 0
    assert report.quiet == ["AI", "Policy", "Science", "General"]
    assert standin.called("chat.postMessage")[-1].params["channel"].startswith("C")
    assert remind(engine, standin, config, evening + timedelta(hours=11)).messages == 0  # 07:30
    morning = evening + timedelta(hours=11, minutes=30)  # 08:00 in Berlin: quiet hours over
    report = remind(engine, standin, config, morning)
    assert report.quiet == []
    assert listed(standin, "UALICE") == [["AI alpha", "AI beta"]]  # closing in one hour now


def test_quiet_hours_and_remind_before_per_desk(day, engine, standin, tmp_path, db_url, newsroom):
    desks = [dict(d) for d in DESKS]
    desks[0] |= {"remind_before": "6h"}  # AI
    desks[3] |= {"quiet_hours": "00:00-12:00"}  # General, in UTC
    config = make_config(tmp_path, db_url, newsroom, desks=desks)
    assert remind(engine, standin, config, AI_CLOSES - timedelta(hours=23)).messages == 0
    report = remind(engine, standin, config, AI_CLOSES - timedelta(hours=5))
    assert listed(standin, "UALICE") == [["AI alpha", "AI beta"]]
    assert report.quiet == ["General"]  # 04:00
    # The next morning Science's cards are due for Alice and Bob; General's wait for noon.
    report = remind(engine, standin, config, GENERAL_CLOSES - timedelta(hours=2))
    assert report.quiet == ["General"]
    assert listed(standin, "UBOB") == [["Science alpha", "Science beta"]]


def test_off_sends_no_reminder(day, engine, standin, tmp_path, db_url, newsroom):
    votes = {"quorum": 2, "window_days": 3, "remind_before": False}  # `off`, as YAML reads it
    config = make_config(tmp_path, db_url, newsroom, votes=votes)
    report = remind(engine, standin, config, AI_CLOSES - timedelta(hours=1))
    assert report.messages == 0
    # A desk that sets its own remind_before still reminds.
    desks = [dict(d) for d in DESKS]
    desks[0] |= {"remind_before": "2h"}
    config = make_config(tmp_path, db_url, newsroom, votes=votes, desks=desks)
    report = remind(engine, standin, config, AI_CLOSES - timedelta(hours=1))
    assert (report.messages, report.cards) == (2, 4)
    assert standin.called("conversations.open") != []
    assert "remind" not in {j.name for j in make_config(
        tmp_path, db_url, newsroom, schedule={"remind": "off"}).scheduled_jobs()}  # fmt: skip


def test_a_refused_dm_is_retried_next_run_and_the_others_are_not_sent_again(
    day, engine, standin, tmp_path, db_url, newsroom
):
    config = make_config(tmp_path, db_url, newsroom)
    standin.fail("chat.postMessage", status=200, retry_after=None, error="is_archived")
    at = AI_CLOSES - timedelta(hours=10)
    report = remind(engine, standin, config, at)
    assert report.messages == 1 and report.failed == ["UALICE: is_archived"]
    assert "1 not sent, retried next run (UALICE: is_archived)" in report.summary()
    assert standin.dms("UALICE") == [] and len(standin.dms("UDAVE")) == 1
    report = remind(engine, standin, config, at + timedelta(minutes=15))
    assert (report.messages, report.failed) == (1, [])
    assert listed(standin, "UALICE") == [["AI alpha", "AI beta"]]
    assert len(standin.dms("UDAVE")) == 1
    with engine.connect() as conn:
        rows = conn.execute(select(Reminder.__table__)).all()
    assert len(rows) == 4 and all(r.sent_at is not None for r in rows)


def test_a_run_where_slack_refuses_every_dm_fails_and_says_why(
    day, engine, standin, tmp_path, db_url, newsroom
):
    config = make_config(tmp_path, db_url, newsroom)
    standin.fail("conversations.open", status=200, retry_after=None, error="missing_scope",
                 times=2)  # fmt: skip
    with pytest.raises(Told, match=r"no reminder could be sent.*missing_scope"):
        remind(engine, standin, config, AI_CLOSES - timedelta(hours=10))
    assert remind(engine, standin, config, AI_CLOSES - timedelta(hours=9)).messages == 2


def test_a_claim_a_crash_left_unsent_is_never_sent_twice(
    day, engine, standin, tmp_path, db_url, newsroom
):
    """Claimed, then the process died before Slack answered: maybe sent, so not again."""
    config = make_config(tmp_path, db_url, newsroom)
    alpha = cards(engine)["AI alpha"].id
    assert reminders.claim(engine, user="UALICE", post_ids=[alpha], now=NOW) == [alpha]
    remind(engine, standin, config, AI_CLOSES - timedelta(hours=10))
    assert listed(standin, "UALICE") == [["AI beta"]]
    assert listed(standin, "UDAVE") == [["AI alpha", "AI beta"]]


def test_two_processes_running_the_same_slot_remind_once(
    day, engine, standin, tmp_path, db_url, newsroom, content_repo
):
    config = make_config(tmp_path, db_url, newsroom)
    rt = Runtime(config, engine, content_repo, PathFilter())
    runners = [build_slot_runner(rt, client(standin), bot_user=None) for _ in range(2)]
    slot = datetime.fromisoformat("2026-11-27T12:15:00+00:00")
    results: list[str | None] = []
    barrier = threading.Barrier(2)

    def run(runner: Any) -> None:
        barrier.wait()
        results.append(runner.run_slot(runner.specs["remind"], slot, slot))

    threads = [threading.Thread(target=run, args=(r,)) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results, key=str) == [None, "ok"]  # the second found the slot claimed
    assert len(standin.dms("UALICE")) == len(standin.dms("UDAVE")) == 1
    lines = status_lines(engine, config, slot + timedelta(minutes=1))
    job = next(line for line in lines if line.strip().startswith("remind"))
    assert "*/15 * * * *" in job and "ok (2 message(s), 4 card reminder(s))" in job
    assert "reminders sent today: 4 (card and editor)" in lines


def test_two_concurrent_claims_of_the_same_reminders_each_get_a_card_once(day, engine):
    ids = [c.id for c in cards(engine).values()][:6]
    got: dict[str, list[int]] = {}
    barrier = threading.Barrier(2)

    def claim(name: str, post_ids: list[int]) -> None:
        barrier.wait()
        got[name] = reminders.claim(engine, user="UALICE", post_ids=post_ids, now=NOW)

    threads = [
        threading.Thread(target=claim, args=("a", ids[:4])),
        threading.Thread(target=claim, args=("b", ids[2:])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got["a"] + got["b"]) == sorted(ids)  # every card claimed, none twice
    assert reminders.claim(engine, user="UALICE", post_ids=ids, now=NOW) == []
    assert reminders.claim(engine, user="UBOB", post_ids=ids[:1], now=NOW) == ids[:1]
    # A released claim can be claimed again; a sent one is never released.
    reminders.mark_sent(engine, user="UBOB", post_ids=ids[:1], now=NOW)
    assert reminders.release(engine, user="UBOB", post_ids=ids[:1]) == 0
    assert reminders.release(engine, user="UALICE", post_ids=ids[:1]) == 1
    assert reminders.claim(engine, user="UALICE", post_ids=ids[:1], now=NOW) == ids[:1]


def test_many_long_titles_fit_one_dm(day, engine, standin, tmp_path, db_url, newsroom):
    """Sixty open cards with 400-character titles full of mrkdwn: as many lines as fit,
    then how many more; Slack's limits are checked again by the stand-in."""
    from storage.models import Article, Post

    a, p = Article.__table__, Post.__table__
    template = cards(engine)["AI alpha"]
    with engine.begin() as conn:
        for i in range(60):
            title = f"<!channel> *Story {i}* & " + "very long title " * 25
            article_id = conn.execute(
                a.insert().values(
                    path=f"long-{i}.md", blob_sha=f"{i:040d}", title=title, published=False
                )
            ).inserted_primary_key[0]
            conn.execute(
                p.insert().values(
                    article_id=article_id,
                    channel=template.channel,
                    desk="AI",
                    ts=f"1800009{i:03d}.000100",
                    permalink=f"{template.permalink}{i}",
                    day=template.day,
                    status="open",
                    created_at=NOW,
                    status_changed_at=NOW,
                )
            )
    config = make_config(tmp_path, db_url, newsroom)
    report = remind(engine, standin, config, AI_CLOSES - timedelta(hours=3))
    assert report.messages == 2 and report.cards == 2 * 62
    message = standin.dms("UALICE")[0]
    text = "\n".join(b["text"]["text"] for b in message["blocks"] if b["type"] == "section")
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    shown = text.count("• <")
    assert 10 < shown < 62
    assert f"and {62 - shown} more closing soon" in text
