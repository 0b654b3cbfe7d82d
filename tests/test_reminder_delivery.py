"""Reminders Slack will not deliver, over the Slack stand-in on SQLite and PostgreSQL.

- An editor Slack can never DM (user_not_found, user_disabled, cannot_dm_bot,
  user_not_visible): the claims stay, that editor is not asked again for those cards, and
  the run's report says once, in one line, what to fix and where the config lists them.
- A passing failure (Slack unwell, rate limited past the client's retries): the claims go
  back and the next run sends.
- The bot's token refused (account_inactive, not_allowed_token_type): no editor's fault; the
  run fails naming the fix and gives every claim back.

The four-desk newsroom of ``tests.desk_newsroom`` (see ``tests/test_reminders.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.outages import Told
from storage.models import Reminder
from tests.desk_newsroom import (
    DeskStandIn,
    desk_config,
    post_a_day,
    running_standin,
)
from tests.test_reminders import AI_CLOSES, GENERAL_CLOSES, listed, make_config, remind


@pytest.fixture
def standin() -> Iterator[DeskStandIn]:
    with running_standin() as s:
        yield s


@pytest.fixture
def day(engine, newsroom, content_repo, standin, tmp_path, db_url) -> None:
    post_a_day(
        newsroom, content_repo, engine, standin, desk_config(tmp_path, db_url, newsroom.remote)
    )


def opened(standin: DeskStandIn) -> list[str]:
    return [str(c.params["users"]) for c in standin.called("conversations.open")]


def claims(engine) -> dict[tuple[str, str], tuple[bool, str | None]]:
    """(user, post_id as text) -> (sent, error) of every reminder claim."""
    with engine.connect() as conn:
        rows = conn.execute(select(Reminder.__table__)).all()
    return {(r.user_id, str(r.post_id)): (r.sent_at is not None, r.error) for r in rows}


def test_an_editor_slack_cannot_dm_is_told_once_with_the_fix_and_not_asked_again(
    day, engine, standin, tmp_path, db_url, newsroom
):
    config = make_config(tmp_path, db_url, newsroom)
    standin.fail("conversations.open", status=200, retry_after=None, error="user_not_found")
    at = AI_CLOSES - timedelta(hours=10)
    report = remind(engine, standin, config, at)  # Alice first: Slack has no such user
    assert (report.messages, report.failed) == (1, [])
    fix = (
        "reminders: Slack cannot DM UALICE (user_not_found: no such user): "
        "remove them from the editors of desk AI (desks[].editors or slack.editors)"
    )
    assert report.unreachable == [fix]
    assert report.summary() == f"1 message(s), 2 card reminder(s); {fix}"
    assert listed(standin, "UDAVE") == [["AI alpha", "AI beta"]]
    kept = {k: v for k, v in claims(engine).items() if k[0] == "UALICE"}
    assert list(kept.values()) == [(False, "user_not_found")] * 2

    # The next run asks Slack nothing for Alice's cards and says nothing more of her.
    standin.calls.clear()
    again = remind(engine, standin, config, at + timedelta(minutes=15))
    assert opened(standin) == [] and again.summary() == "0 message(s), 0 card reminder(s)"


def test_a_bot_listed_as_editor_names_every_desk_it_edits(
    day, engine, standin, tmp_path, db_url, newsroom
):
    """Bob edits Science and General; Slack refuses the message itself (chat.postMessage)
    after Alice's went."""
    config = make_config(tmp_path, db_url, newsroom)
    standin.fail("chat.postMessage", status=200, retry_after=None, error="cannot_dm_bot", skip=1)
    report = remind(engine, standin, config, GENERAL_CLOSES - timedelta(hours=20))
    assert report.unreachable == [
        "reminders: Slack cannot DM UBOB (cannot_dm_bot: a bot): remove them from the "
        "editors of desks Science, General (desks[].editors or slack.editors)"
    ]
    assert report.messages == 1 and standin.dms("UBOB") == []
    assert len(listed(standin, "UALICE")) == 1
    standin.calls.clear()
    remind(engine, standin, config, GENERAL_CLOSES - timedelta(hours=19))
    assert "UBOB" not in opened(standin)


@pytest.mark.parametrize("error", ["user_disabled", "user_not_visible"])
def test_other_editors_slack_never_reaches_keep_their_claims(
    day, engine, standin, tmp_path, db_url, newsroom, error
):
    config = make_config(tmp_path, db_url, newsroom)
    standin.fail("conversations.open", status=200, retry_after=None, error=error)
    report = remind(engine, standin, config, AI_CLOSES - timedelta(hours=10))
    assert report.failed == [] and f"Slack cannot DM UALICE ({error}" in report.summary()
    standin.calls.clear()
    remind(engine, standin, config, AI_CLOSES - timedelta(hours=9))
    assert opened(standin) == []


def test_slack_unwell_is_retried_next_run(day, engine, standin, tmp_path, db_url, newsroom):
    config = make_config(tmp_path, db_url, newsroom)
    # Past the client's own retries (two): the run gives Alice's claims back.
    standin.fail("conversations.open", status=503, retry_after=None, times=3,
                 error="service_unavailable")  # fmt: skip
    at = AI_CLOSES - timedelta(hours=10)
    report = remind(engine, standin, config, at)
    assert report.failed == ["UALICE: service_unavailable"] and report.unreachable == []
    assert "retried next run" in report.summary()
    assert not any(user == "UALICE" for user, _ in claims(engine))
    report = remind(engine, standin, config, at + timedelta(minutes=15))
    assert report.failed == [] and listed(standin, "UALICE") == [["AI alpha", "AI beta"]]


@pytest.mark.parametrize(
    ("error", "fix"),
    [
        ("account_inactive", "the app was removed or deactivated: reinstall it"),
        ("not_allowed_token_type", "SLACK_BOT_TOKEN must be the app's bot token (xoxb-)"),
    ],
)
def test_a_refused_token_fails_the_run_with_the_fix_and_every_editor_is_reminded_later(
    day, engine, standin, tmp_path, db_url, newsroom, error, fix
):
    config = make_config(tmp_path, db_url, newsroom)
    standin.fail("conversations.open", status=200, retry_after=None, error=error, times=2)
    with pytest.raises(Told, match=rf"no reminder could be sent: {re.escape(fix)}; .*{error}"):
        remind(engine, standin, config, AI_CLOSES - timedelta(hours=10))
    assert claims(engine) == {}
    report = remind(engine, standin, config, AI_CLOSES - timedelta(hours=9))
    assert report.messages == 2
