"""Where publishing, unpublishing and "changed since the votes" meet, on SQLite and PostgreSQL:
votes as Slack-signed events and Home tab presses into the bot's endpoint, cards on the local
Slack stand-in, a real bare remote and the bot's clone of it.

- One publish run publishes an approved card, takes back one queued to be unpublished and
  refuses an approved card whose article changed since its votes: one commit with the right
  trailers, byte-exact files, each card saying so; the refused card is back to a vote.
- The same run killed (SIGKILL, a real subprocess) after its commit is made but before the
  push, or after the push before the database heard of it: the next run ends in the same
  state, with no second commit.
- Home tab buttons on a card changed since its votes (a vote of the new round), on a card
  queued to be unpublished and on a published one (refused in one line, nothing counted).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from bot.clock.jobs import publish_and_tell
from bot.publishing.report import PublishReport
from bot.runtime import Runtime
from bot.slack.home_view import PUBLISH_ACTION, REJECT_ACTION
from bot.slack.revote import revote_changed
from storage.fields import FieldMap
from storage.pathfilter import PathFilter
from storage.scan import scan
from tests.conftest import REPO_ROOT
from tests.desk_newsroom import (
    ServedDay,
    cards,
    client,
    desk_config,
    desk_settings,
    react,
    served_day,
    stamp,
    status,
    voters,
)
from tests.slack_requests import button_action, send_action
from tests.test_publish import catch_up, remote, show, tip
from tests.test_slack_loop import eventually, mrkdwn_of

RUNNER = REPO_ROOT / "tests" / "publish_crash_runner.py"
RETITLED = b'title: "Science alpha, retitled"'


@pytest.fixture
def desk(engine, newsroom, content_repo, tmp_path, db_url, monkeypatch) -> Iterator[ServedDay]:
    config = desk_config(tmp_path, db_url, newsroom.remote)
    with served_day(engine, newsroom, content_repo, config, monkeypatch, home_interval=0.3) as day:
        yield day


def moment() -> datetime:
    """A time after every vote cast so far and before every later one: the tests' votes are
    dated by ``stamp()``, so a run's "now" is taken from the same counter."""
    return datetime.fromtimestamp(float(stamp()), UTC)


def shown(d: ServedDay, title: str) -> str:
    card = cards(d.engine)[title]
    return mrkdwn_of(d.standin.messages[(card.channel, card.ts)]["blocks"])


def publish(d: ServedDay) -> PublishReport:
    rt = Runtime(d.config, d.engine, d.repo, PathFilter())
    return publish_and_tell(rt, client(d.standin), moment())


@dataclass(frozen=True)
class Before:
    """The remote before the run under test, and each file as it stood."""

    base: str
    live: bytes  # ai-alpha.md, published, queued to be taken back
    approved: bytes  # ai-beta.md, approved
    retitled: bytes  # science-alpha.md, approved, then retitled by its writer


def three_cards_due(d: ServedDay) -> Before:
    """AI alpha published and then queued to be unpublished, AI beta approved, Science alpha
    approved and then retitled in the repo (a change no scan has seen yet)."""
    react(d.endpoint, "AI alpha", "UALICE", "white_check_mark", d.engine)  # AI's quorum is 1
    eventually(lambda: status(d.engine, "AI alpha") == "approved")
    publish(d)
    assert status(d.engine, "AI alpha") == "published"
    react(d.endpoint, "AI alpha", "UDAVE", "rewind", d.engine)
    react(d.endpoint, "AI beta", "UDAVE", "white_check_mark", d.engine)
    react(d.endpoint, "Science alpha", "UALICE", "rocket", d.engine)  # Science's quorum is 1
    eventually(lambda: status(d.engine, "AI alpha") == "unpublishing")
    eventually(lambda: status(d.engine, "AI beta") == "approved")
    eventually(lambda: status(d.engine, "Science alpha") == "approved")
    newsroom = d.newsroom
    catch_up(newsroom)
    text = show(newsroom, "science-alpha.md").replace(b'title: "Science alpha"', RETITLED)
    newsroom.write("science-alpha.md", text)
    newsroom.commit("the writer retitles it")
    return Before(tip(newsroom), show(newsroom, "ai-alpha.md"), show(newsroom, "ai-beta.md"), text)


def assert_the_three_settled(d: ServedDay, before: Before) -> str:
    """One commit on the remote since ``before``, byte for byte what it should be, and the
    database and every card agreeing with it; the commit's sha."""
    newsroom = d.newsroom
    [sha] = remote(newsroom, "rev-list", f"{before.base}..{newsroom.branch}").split()
    assert remote(newsroom, "diff", "--name-only", before.base, sha).split() == [
        "ai-alpha.md", "ai-beta.md",
    ]  # fmt: skip
    assert show(newsroom, "ai-alpha.md") == before.live.replace(
        b"published: true", b"published: false"
    )
    assert show(newsroom, "ai-beta.md") == before.approved.replace(
        b"published: false", b"published: true"
    )
    assert show(newsroom, "science-alpha.md") == before.retitled
    message = remote(newsroom, "log", "-1", "--format=%B", sha)
    trailers = [line for line in message.splitlines() if line.endswith(">")]
    assert trailers == ["Approved-by: Dave <UDAVE>", "Unpublished-by: Dave <UDAVE>"], message
    assert "Science" not in message

    by_title = cards(d.engine)
    assert (by_title["AI beta"].status, by_title["AI beta"].commit_sha) == ("published", sha)
    assert (by_title["AI alpha"].status, by_title["AI alpha"].commit_sha) == ("unpublished", sha)
    assert by_title["Science alpha"].status == "open"
    assert f"*Published* in `{sha[:7]}`" in shown(d, "AI beta")
    assert f"*Unpublished* in `{sha[:7]}`" in shown(d, "AI alpha")
    science = shown(d, "Science alpha")
    assert "*Open*" in science and "Changed since the votes:* title" in science
    return sha


def test_one_run_publishes_unpublishes_and_refuses_a_changed_article(desk: ServedDay):
    before = three_cards_due(desk)
    report = publish(desk)
    sha = assert_the_three_settled(desk, before)
    assert report.commit_sha == sha
    assert (report.count("published"), report.count("unpublished"), report.count("changed")) == (
        1, 1, 1,
    )  # fmt: skip
    # Nothing is left to do: a further run makes no commit and leaves every card as it is.
    again = publish(desk)
    assert again.commit_sha is None and tip(desk.newsroom) == sha
    assert status(desk.engine, "Science alpha") == "open"


def run_killed(d: ServedDay, stage: str, db_url: str, tmp_path: Path) -> None:
    """The publish job in a process of its own, with this newsroom's desks and names,
    SIGKILLed at ``stage`` (tests/publish_crash_runner.py)."""
    config_file = tmp_path / "runner.yml"
    config_file.write_text(yaml.safe_dump(desk_settings(d.newsroom.remote)))
    proc = subprocess.run(
        [sys.executable, str(RUNNER), db_url, str(d.newsroom.remote), str(d.repo.git_dir),
         stage, str(config_file), d.standin.url],
        capture_output=True, text=True, timeout=120, cwd=REPO_ROOT,
    )  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stdout, proc.stderr)


@pytest.mark.parametrize("stage", ["before-push", "after-push"])
def test_the_run_killed_around_its_push_ends_the_same_on_the_next_run(
    stage: str, desk: ServedDay, db_url: str, tmp_path: Path
):
    before = three_cards_due(desk)
    run_killed(desk, stage, db_url, tmp_path)
    pushed = stage == "after-push"
    assert (tip(desk.newsroom) != before.base) == pushed
    # The database has heard of nothing yet, the refused card included.
    assert {status(desk.engine, t) for t in ("AI beta", "Science alpha")} == {"approved"}
    assert status(desk.engine, "AI alpha") == "unpublishing"

    report = publish(desk)
    sha = assert_the_three_settled(desk, before)
    # Pushed by the killed run: recorded, not made again. Not pushed: made by this run.
    assert report.commit_sha == (None if pushed else sha)
    assert {p.title for p in report.posts if p.recovered} == (
        {"AI alpha", "AI beta"} if pushed else set()
    )
    assert report.count("changed") == 1
    again = publish(desk)
    assert again.commit_sha is None and tip(desk.newsroom) == sha


def press(d: ServedDay, user: str, title: str, *, publish: bool = True) -> None:
    action = PUBLISH_ACTION if publish else REJECT_ACTION
    pressed = button_action(user, action, cards(d.engine)[title].id, stamp())
    assert send_action(d.endpoint, pressed) == 200


def home_says(d: ServedDay, user: str) -> str:
    """The text of the user's latest Home tab view."""
    views = d.standin.views.get(user) or [{"blocks": []}]
    return mrkdwn_of(views[-1]["blocks"])


def test_home_tab_buttons_on_changed_unpublishing_and_published_cards(desk: ServedDay):
    engine = desk.engine
    three_cards_due(desk)
    # The scan sees the retitle: Science alpha goes back to a vote, Alice's rocket is earlier.
    desk.repo.fetch()
    seen = scan(engine, desk.repo, FieldMap(), PathFilter())
    slack = client(desk.standin)
    revote_changed(engine, desk.config, commit=seen.commit, now=moment(), client=slack)
    retitled = "Science alpha, retitled"  # cards are listed by their article's title
    assert status(engine, retitled) == "open"
    eventually(lambda: "Changed since the votes:* title" in shown(desk, retitled))

    # A press on the card queued to be unpublished counts nothing, and says so in one line.
    press(desk, "UDAVE", "AI alpha")
    eventually(lambda: "nothing was counted" in home_says(desk, "UDAVE"))
    notice = [line for line in home_says(desk, "UDAVE").splitlines() if "counted" in line]
    assert len(notice) == 1 and "unpublishing" in notice[0]
    # Alice's Publish button is a vote of the new round: it approves the retitled version.
    press(desk, "UALICE", retitled)
    eventually(lambda: status(engine, retitled) == "approved")
    assert status(engine, "AI alpha") == "unpublishing"

    # The next run publishes the retitled version the button approved, beside the others.
    report = publish(desk)
    assert report.count("changed") == 0 and report.count("published") == 2
    science = show(desk.newsroom, "science-alpha.md")
    assert RETITLED in science and b"published: true" in science
    assert status(engine, retitled) == "published"
    assert status(engine, "AI alpha") == "unpublished"

    # A press on a published card counts nothing either.
    press(desk, "UALICE", "AI beta", publish=False)
    eventually(lambda: "nothing was counted" in home_says(desk, "UALICE"))
    assert "(published)" in home_says(desk, "UALICE")
    assert status(engine, "AI beta") == "published"
    assert ("UALICE", "button:reject") not in voters(engine, cards(engine)["AI beta"].id)
