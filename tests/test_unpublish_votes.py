"""Unpublish and veto by reaction (issue 12, points 4 and 5), over real HTTP on SQLite and
PostgreSQL: Slack-signed reaction events into the bot's endpoint, the cards on the local
Slack stand-in, publishing against a bare remote.

- A quorum of the card's desk's editors reacting ``votes.unpublish`` (default ``rewind``) on
  a published card queues it; the next publish run flips the flag back byte for byte, in the
  run's one commit (beside the articles it publishes) with ``Unpublished-by:`` trailers, and
  the card says so. The article is then not offered again until its file changes.
- With ``votes.veto`` and ``slack.chiefs``, a chief's veto rejects a card at once and the card
  says who; a non-chief's veto is no vote; removing the veto re-opens the tally; veto is off
  by default.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.candidate_pool import census, todays_candidates
from bot.cli.status import status_lines
from bot.clock.jobs import publish_and_tell
from bot.config import Config
from bot.house_rules import candidate_rules
from bot.rules.digest_query import parse_digest_query
from bot.runtime import Runtime
from bot.slack import daily_post
from bot.slack.digest import answer_digest
from bot.slack.summary import build_summary
from bot.slack.summary_message import summary_message
from storage.db import reading
from storage.fields import FieldMap
from storage.gitrepo import ContentRepo
from storage.pathfilter import PathFilter
from storage.scan import scan
from tests.desk_newsroom import (
    NOW,
    DeskStandIn,
    cards,
    client,
    desk_config,
    post_a_day,
    react,
    running_standin,
    status,
    voters,
)
from tests.helpers import Newsroom
from tests.slack_requests import serve_bot
from tests.test_publish import catch_up, remote, show, tip
from tests.test_slack_loop import REFRESH_QUIET, eventually, mrkdwn_of

VETO = {"quorum": 2, "window_days": 3, "veto": ["no_entry"]}
CHIEFS = {"editors": ["UALICE", "UBOB"], "chiefs": ["UDAVE"]}


@pytest.fixture
def standin() -> Iterator[DeskStandIn]:
    with running_standin() as s:
        yield s


@pytest.fixture
def config(request: pytest.FixtureRequest, tmp_path: Path, db_url: str, newsroom: Newsroom):
    extra = getattr(request, "param", {})
    return desk_config(tmp_path, db_url, newsroom.remote, **extra)


@pytest.fixture
def day(engine, newsroom, content_repo, standin, config) -> None:
    post_a_day(newsroom, content_repo, engine, standin, config)


@pytest.fixture
def endpoint(config: Config, engine: Engine, standin: DeskStandIn) -> Iterator[str]:
    with serve_bot(config, engine, standin.url) as url:
        yield url


def shown(standin: DeskStandIn, engine: Engine, title: str) -> str:
    card = cards(engine)[title]
    return mrkdwn_of(standin.messages[(card.channel, card.ts)]["blocks"])


def publish(config: Config, engine: Engine, repo: ContentRepo, standin: DeskStandIn):
    return publish_and_tell(Runtime(config, engine, repo, PathFilter()), client(standin), NOW)


def test_a_quorum_of_rewinds_takes_a_card_back_in_the_next_runs_one_commit(
    day, engine, endpoint, standin, config, content_repo, newsroom
):
    # Policy's quorum is 2: Bob and Carol approve, the first run publishes.
    react(endpoint, "Policy alpha", "UBOB", "white_check_mark", engine)
    react(endpoint, "Policy alpha", "UCAROL", "white_check_mark", engine)
    eventually(lambda: status(engine, "Policy alpha") == "approved")
    publish(config, engine, content_repo, standin)
    assert status(engine, "Policy alpha") == "published"
    live = show(newsroom, "policy-alpha.md")
    policy = cards(engine)["Policy alpha"].id

    # Alice approves an AI card for the next run; on Policy her rewind is no vote.
    react(endpoint, "AI beta", "UALICE", "white_check_mark", engine)
    react(endpoint, "Policy alpha", "UALICE", "rewind", engine)
    react(endpoint, "Policy alpha", "UBOB", "rewind", engine)
    eventually(lambda: voters(engine, policy) >= {("UBOB", "rewind")})
    eventually(lambda: ":rewind: 1 (<@UBOB>) of 2" in shown(standin, engine, "Policy alpha"))
    assert status(engine, "Policy alpha") == "published"  # one of two
    assert ("UALICE", "rewind") not in voters(engine, policy)
    react(endpoint, "Policy alpha", "UCAROL", "rewind", engine)
    eventually(lambda: status(engine, "Policy alpha") == "unpublishing")
    eventually(lambda: status(engine, "AI beta") == "approved")
    eventually(lambda: "*Unpublishing*" in shown(standin, engine, "Policy alpha"))
    listed = "\n".join(status_lines(engine, config, NOW))
    assert "unpublishing since" in listed and "1 to be unpublished by the next publish" in listed

    before = tip(newsroom)
    report = publish(config, engine, content_repo, standin)
    sha = report.commit_sha
    # One commit, both kinds: AI beta published, Policy alpha taken back byte for byte.
    assert sha and remote(newsroom, "rev-list", f"{before}..{newsroom.branch}").split() == [sha]
    changed = remote(newsroom, "diff", "--name-only", before, sha).split()
    assert sorted(changed) == ["ai-beta.md", "policy-alpha.md"]
    assert show(newsroom, "policy-alpha.md") == live.replace(
        b"published: true", b"published: false"
    )
    message = remote(newsroom, "log", "-1", "--format=%B", sha)
    assert message.startswith("Publish 1 article approved in Slack, unpublish 1 article\n")
    trailers = [line for line in message.splitlines() if line.startswith("Unpublished-by:")]
    assert trailers == ["Unpublished-by: Bob <UBOB>", "Unpublished-by: Carol <UCAROL>"]
    assert "Approved-by: Alice <UALICE>" in message
    assert status(engine, "Policy alpha") == "unpublished"
    assert cards(engine)["Policy alpha"].commit_sha == sha
    assert f"*Unpublished* in `{sha[:7]}`" in shown(standin, engine, "Policy alpha")
    assert report.summary().startswith("published 1, unpublished 1,")
    # /digest and the morning summary list it as unpublished.
    query = parse_digest_query("status:unpublished desk:all", NOW, config.zone)
    _, blocks = answer_digest(engine, config, query, now=NOW)
    assert "Unpublished" in mrkdwn_of([b.to_dict() for b in blocks])
    assert f"unpublished just now in `{sha[:7]}`" in mrkdwn_of([b.to_dict() for b in blocks])
    with reading(engine) as tx:
        summary = build_summary(
            tx, config, since=NOW - timedelta(days=1), now=NOW, desk=config.desk("Policy")
        )
    said = mrkdwn_of([b.to_dict() for b in summary_message(summary, config)[1]])
    assert "*Unpublished* · 1" in said and f"unpublished in `{sha[:7]}`" in said

    # Nothing moves it now: a rewind taken off, a new vote.
    react(endpoint, "Policy alpha", "UCAROL", "rewind", engine, removed=True)
    react(endpoint, "Policy alpha", "UDAVE", "white_check_mark", engine)
    time.sleep(REFRESH_QUIET)
    assert status(engine, "Policy alpha") == "unpublished"
    again = publish(config, engine, content_repo, standin)
    assert again.commit_sha is None and tip(newsroom) == sha


def test_an_unpublished_article_is_offered_again_only_once_it_changes(
    day, engine, endpoint, standin, config, content_repo, newsroom
):
    react(endpoint, "AI alpha", "UALICE", "white_check_mark", engine)  # AI's quorum is 1
    eventually(lambda: status(engine, "AI alpha") == "approved")
    publish(config, engine, content_repo, standin)
    react(endpoint, "AI alpha", "UDAVE", "rewind", engine)
    eventually(lambda: status(engine, "AI alpha") == "unpublishing")
    publish(config, engine, content_repo, standin)
    assert status(engine, "AI alpha") == "unpublished"
    scan(engine, content_repo, FieldMap(), PathFilter())  # the bot's clone has its commit
    ai = config.desk("AI")
    rules = candidate_rules(config, ai)
    later = NOW + timedelta(days=1)

    def offered() -> list[str]:
        with reading(engine) as tx:
            return [a.title for a in todays_candidates(tx, rules, now=later)]

    assert "AI alpha" not in offered()
    with reading(engine) as tx:
        counted = census(tx, rules, now=later)
    assert counted.taken_back == 1
    # The next day's post leaves it out.
    report = daily_post.post_day(engine, client(standin), config, later, ai)
    assert report.posted == 0 and status(engine, "AI alpha") == "unpublished"

    # The writer changes it: offered again, on a card of its own.
    catch_up(newsroom)
    path = newsroom.work / "ai-alpha.md"
    path.write_text(path.read_text().replace("About AI alpha.", "About AI alpha, rewritten."))
    newsroom.commit("rewrite")
    content_repo.fetch()
    scan(engine, content_repo, FieldMap(), PathFilter())
    assert "AI alpha" not in offered()  # until the next plan gives it back
    report = daily_post.post_day(engine, client(standin), config, later + timedelta(days=1), ai)
    assert report.posted == 1
    assert status(engine, "AI alpha") == "open"


def unpublish_ai_alpha(engine, endpoint, standin, config, content_repo) -> None:
    react(endpoint, "AI alpha", "UALICE", "white_check_mark", engine)  # AI's quorum is 1
    eventually(lambda: status(engine, "AI alpha") == "approved")
    publish(config, engine, content_repo, standin)
    react(endpoint, "AI alpha", "UDAVE", "rewind", engine)
    eventually(lambda: status(engine, "AI alpha") == "unpublishing")
    publish(config, engine, content_repo, standin)
    assert status(engine, "AI alpha") == "unpublished"
    scan(engine, content_repo, FieldMap(), PathFilter())  # the bot's clone has its commit


def rewrite(newsroom: Newsroom, content_repo: ContentRepo, old: str, new: str) -> None:
    """Change ai-alpha.md in the remote and fetch it, not yet scanned."""
    catch_up(newsroom)
    path = newsroom.work / "ai-alpha.md"
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))
    newsroom.commit(f"{old} -> {new}")
    content_repo.fetch()


def test_a_new_heat_is_no_change_to_an_unpublished_article_a_new_title_is(
    day, engine, endpoint, standin, config, content_repo, newsroom
):
    unpublish_ai_alpha(engine, endpoint, standin, config, content_repo)
    ai, later = config.desk("AI"), NOW + timedelta(days=1)
    # The collector's new heat and quality: the same article to editors, not offered again.
    rewrite(newsroom, content_repo, "heat: 0", "heat: 42")
    rewrite(newsroom, content_repo, "quality: ", "quality: 1")
    scan(engine, content_repo, FieldMap(), PathFilter())
    report = daily_post.post_day(engine, client(standin), config, later, ai)
    assert report.posted == 0 and status(engine, "AI alpha") == "unpublished"
    # A new title is: offered again, on a card of its own.
    rewrite(newsroom, content_repo, 'title: "AI alpha"', 'title: "AI alpha, retold"')
    scan(engine, content_repo, FieldMap(), PathFilter())
    report = daily_post.post_day(engine, client(standin), config, later + timedelta(days=1), ai)
    assert report.posted == 1 and status(engine, "AI alpha, retold") == "open"


def test_a_scan_just_before_the_plan_does_not_cost_the_desk_its_day(
    day, engine, endpoint, standin, config, content_repo, newsroom, monkeypatch
):
    """The unpublished cards of changed articles are given back in the plan's transaction:
    given back before a scan and planned after it, the changed article's card was still
    there when the pool offered it, and the plan broke on it (nothing posted that day)."""
    unpublish_ai_alpha(engine, endpoint, standin, config, content_repo)
    rewrite(newsroom, content_repo, "About AI alpha.", "About AI alpha, rewritten.")
    plan = daily_post.plan_day

    def scanned_first(*args, **kwargs):
        scan(engine, content_repo, FieldMap(), PathFilter())
        return plan(*args, **kwargs)

    monkeypatch.setattr(daily_post, "plan_day", scanned_first)
    later = NOW + timedelta(days=1)
    report = daily_post.post_day(engine, client(standin), config, later, config.desk("AI"))
    assert report.posted == 1 and status(engine, "AI alpha") == "open"


@pytest.mark.parametrize("config", [{"votes": VETO, "slack": CHIEFS}], indirect=True)
def test_curator_status_lists_the_vetoed_and_the_unpublished_by_desk(
    day, engine, endpoint, standin, config, content_repo
):
    react(endpoint, "AI alpha", "UDAVE", "no_entry", engine)
    eventually(lambda: status(engine, "AI alpha") == "rejected")
    react(endpoint, "AI beta", "UALICE", "white_check_mark", engine)
    react(endpoint, "AI beta", "UBOB", "white_check_mark", engine)
    eventually(lambda: status(engine, "AI beta") == "approved")
    publish(config, engine, content_repo, standin)
    react(endpoint, "AI beta", "UALICE", "rewind", engine)
    react(endpoint, "AI beta", "UBOB", "rewind", engine)
    eventually(lambda: status(engine, "AI beta") == "unpublishing")
    publish(config, engine, content_repo, standin)
    assert status(engine, "AI beta") == "unpublished"

    lines = status_lines(engine, config, NOW + timedelta(hours=1))
    ai = next(i for i, line in enumerate(lines) if line.startswith("  AI in "))
    assert lines[ai].endswith("; in the last 7 days 1 vetoed and 1 unpublished")
    mine = lines[ai : next(i for i in range(ai + 1, len(lines)) if " in #" in lines[i])]
    assert any("vetoed by UDAVE " in line and line.endswith("  AI alpha") for line in mine)
    assert any("  unpublished " in line and line.endswith("  AI beta") for line in mine)
    policy = next(line for line in lines if line.startswith("  Policy in "))
    assert "vetoed" not in policy and "unpublished" not in policy
    # A week on, they are history (the votes were handled at the wall clock's time).
    later = status_lines(engine, config, datetime.now(UTC) + timedelta(days=8))
    assert not [line for line in later if line.strip().startswith(("vetoed", "unpublished "))]
    assert not [line for line in later if "last 7 days" in line]


@pytest.mark.parametrize("config", [{"votes": VETO, "slack": CHIEFS}], indirect=True)
def test_a_chiefs_veto_rejects_at_once_and_the_card_says_who(
    day, engine, endpoint, standin, config
):
    react(endpoint, "AI alpha", "UALICE", "white_check_mark", engine)  # AI's quorum is 1
    eventually(lambda: status(engine, "AI alpha") == "approved")
    # Dave is a chief: his veto rejects, whatever the votes.
    react(endpoint, "AI alpha", "UDAVE", "no_entry", engine)
    eventually(lambda: status(engine, "AI alpha") == "rejected")
    eventually(lambda: "*Vetoed* by <@UDAVE>" in shown(standin, engine, "AI alpha"))
    query = parse_digest_query("status:rejected desk:all", NOW, config.zone)
    answer = mrkdwn_of([b.to_dict() for b in answer_digest(engine, config, query, now=NOW)[1]])
    assert "by <@UDAVE>" in answer and "vetoed" in answer
    with reading(engine) as tx:
        summary = build_summary(
            tx,
            config,
            since=NOW - timedelta(days=1),
            now=NOW + timedelta(hours=1),
            desk=config.desk("AI"),
        )
    assert " · vetoed · " in mrkdwn_of([b.to_dict() for b in summary_message(summary, config)[1]])
    # Taken off again: the tally is re-opened, and Alice's vote approves it again.
    react(endpoint, "AI alpha", "UDAVE", "no_entry", engine, removed=True)
    eventually(lambda: status(engine, "AI alpha") == "approved")
    eventually(lambda: "Vetoed" not in shown(standin, engine, "AI alpha"))

    # Bob is no chief: his veto emoji is no vote.
    policy = cards(engine)["Policy alpha"].id
    react(endpoint, "Policy alpha", "UBOB", "no_entry", engine)
    react(endpoint, "Policy alpha", "UCAROL", "white_check_mark", engine)
    eventually(lambda: voters(engine, policy) == {("UCAROL", "white_check_mark")})
    time.sleep(REFRESH_QUIET)
    assert voters(engine, policy) == {("UCAROL", "white_check_mark")}
    assert status(engine, "Policy alpha") == "open"


@pytest.mark.parametrize("config", [{"slack": CHIEFS}], indirect=True)
def test_veto_is_off_by_default(day, engine, endpoint, standin):
    # Chiefs named, but no votes.veto: Dave's no_entry is nothing.
    react(endpoint, "AI alpha", "UALICE", "white_check_mark", engine)
    eventually(lambda: status(engine, "AI alpha") == "approved")
    react(endpoint, "AI alpha", "UDAVE", "no_entry", engine)
    time.sleep(REFRESH_QUIET)
    assert status(engine, "AI alpha") == "approved"
    assert voters(engine, cards(engine)["AI alpha"].id) == {("UALICE", "white_check_mark")}
