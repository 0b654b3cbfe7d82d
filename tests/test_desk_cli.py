"""The commands with desks, as an operator uses them: candidates and post per desk, status
and doctor showing every desk. A real content repo, database and the local Slack stand-in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.cli.main import cli
from tests.helpers import Newsroom, article
from tests.slack_requests import SIGNING_SECRET
from tests.slack_standin import SlackStandIn

DESKS = (
    "desks:\n"
    "  - name: AI\n    channel: CAI\n    topics: [AI]\n    editors: [UALICE]\n"
    '    post: "0 9 * * *"\n    per_day: 1\n'
    "  - name: Policy\n    channel: CPOLICY\n    topics: [policy]\n"
    '    post: "0 14 * * mon-fri"\n'
)
DESK_NAMES = "the desks are: AI, Policy"


@pytest.fixture
def standin():
    with SlackStandIn(
        users={"UALICE": "Alice", "UBOB": "Bob"},
        channels={"CCURATION": "curation", "CAI": "ai", "CPOLICY": "policy"},
    ) as s:
        yield s


@pytest.fixture
def setup(tmp_path: Path, db_url: str, newsroom: Newsroom, standin: SlackStandIn, monkeypatch):
    """Two desks, no catch-all: AI (one a day) and Policy; two AI articles, one Policy
    article and one on no desk's topics."""
    (tmp_path / "curator.yml").write_text(
        f"content:\n  remote: {newsroom.remote}\n"
        'slack:\n  channel: "#curation"\n  editors: [UBOB]\n'
        "candidates:\n  max_age_days: 100000\n" + DESKS
    )
    newsroom.write("a1.md", article("Machine one", quality=90, topics=("AI",)))
    newsroom.write("a2.md", article("Machine two", quality=80, topics=("ai",)))
    newsroom.write("p.md", article("Rules", quality=70, topics=("Policy",)))
    newsroom.write("s.md", article("Football", quality=60, topics=("Sports",)))
    newsroom.commit()
    env = {
        "DATABASE_URL": db_url,
        "SLACK_API_URL": standin.url,
        "SLACK_BOT_TOKEN": "xoxb-test-not-real",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "CURATOR_CONFIG": str(tmp_path / "curator.yml"),
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    invoke("db", "upgrade")
    invoke("scan")
    return tmp_path / "curator.yml"


def invoke(*args: str, code: int = 0):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == code, result.output
    return result


def channels_posted(standin: SlackStandIn) -> list[str]:
    return [c.params["channel"] for c in standin.called("chat.postMessage")]


def test_candidates_lists_each_desk_under_its_name(setup):
    lines = invoke("candidates").output.splitlines()
    assert lines[0] == "AI (CAI):"
    assert lines[1] == " 1. [90] Machine one"  # per_day 1
    policy = lines.index("Policy (CPOLICY):")
    assert "Machine two" not in "\n".join(lines)
    assert lines[policy + 1] == " 1. [70] Rules"
    assert lines[-1] == "1 unpublished article is on no desk's topics"


def test_candidates_of_one_desk(setup):
    assert invoke("candidates", "--desk", "policy").output.splitlines()[0] == " 1. [70] Rules"
    listed = json.loads(invoke("candidates", "--desk", "AI", "--json", "--limit", "5").stdout)
    assert [a["path"] for a in listed] == ["a1.md", "a2.md"]
    every = invoke("candidates", "--json")
    assert {
        desk: [a["path"] for a in cards] for desk, cards in json.loads(every.stdout).items()
    } == {
        "AI": ["a1.md"],
        "Policy": ["p.md"],
    }
    assert "1 unpublished article is on no desk's topics" in every.stderr


@pytest.mark.parametrize("command", ["candidates", "post"])
def test_an_unknown_desk_is_one_line_naming_the_desks(setup, standin, command):
    out = invoke(command, "--desk", "Sports", code=1).output
    assert out == f"Error: --desk Sports: no such desk; {DESK_NAMES}\n"
    assert standin.calls == []


def test_post_posts_every_desk_once(setup, standin):
    out = invoke("post").output.splitlines()
    assert [line.split(":")[0] for line in out] == ["AI", "Policy"]
    assert ": 1 candidates, 1 posted now, 0 already posted, 0 left" in out[0]
    assert channels_posted(standin) == ["CAI", "CPOLICY"]
    again = invoke("post").output
    assert again.count("0 posted now, 1 already posted") == 2
    assert len(channels_posted(standin)) == 2


def test_post_one_desk(setup, standin):
    out = invoke("post", "--desk", "policy").output
    assert out.startswith("Policy: ") and "AI" not in out
    assert channels_posted(standin) == ["CPOLICY"]


def test_post_dry_run_per_desk(setup, standin):
    cards = json.loads(invoke("post", "--dry-run").stdout)
    assert {desk: [c["path"] for c in listed] for desk, listed in cards.items()} == {
        "AI": ["a1.md"],
        "Policy": ["p.md"],
    }
    one = json.loads(invoke("post", "--dry-run", "--desk", "ai").stdout)
    assert [c["path"] for c in one] == ["a1.md"]
    assert standin.calls == []


def test_post_dry_run_says_why_a_desk_has_none(setup, standin):
    invoke("post", "--desk", "Policy")
    result = invoke("post", "--dry-run")
    assert json.loads(result.stdout)["Policy"] == []
    assert result.stderr == (
        "Policy: no candidates today: 4 unpublished; 1 already posted, 2 for other desks, "
        "1 on no desk's topics\n"
    )


def test_status_shows_each_desk(setup, standin):
    invoke("post")
    out = invoke("status").output
    jobs = {
        line.split()[0]: " ".join(line.split()[1:])
        for line in out.split("\n\n")[0].splitlines()[1:]
    }
    assert jobs["post:AI"].startswith("0 9 * * * never run; next ")
    assert jobs["post:Policy"].startswith("0 14 * * mon-fri never run; next ")
    assert "post" not in jobs  # no job of the shared schedule.post
    assert {"summary:AI", "summary:Policy"} <= set(jobs)  # each desk's summary on its own
    lines = out.splitlines()
    ai = lines.index(next(line for line in lines if line.startswith("  AI in CAI: ")))
    assert lines[ai].endswith("; 1 open card(s): 0 approved, 1 waiting for votes")
    assert "next post " in lines[ai]
    assert lines[ai + 1].startswith("    candidates today: 1 of 4 unpublished")
    assert "Machine one" in lines[ai + 2]
    policy = next(line for line in lines if line.startswith("  Policy in CPOLICY: "))
    assert "1 open card(s)" in policy


def test_status_counts_approved_cards_per_desk(setup, standin):
    # Quorum 1 at the AI desk, whose only editor is Alice.
    setup.write_text(
        setup.read_text().replace("    per_day: 1\n", "    per_day: 1\n    quorum: 1\n")
    )
    invoke("post")
    ts = next(ts for (channel, ts) in standin.messages if channel == "CAI")
    standin.react("CAI", ts, "white_check_mark", "UBOB")  # not an AI editor: no vote
    invoke("reconcile")
    lines = invoke("status").output.splitlines()
    ai = next(line for line in lines if line.startswith("  AI in CAI: "))
    assert ai.endswith("; 1 open card(s): 0 approved, 1 waiting for votes")
    standin.react("CAI", ts, "white_check_mark", "UALICE")
    invoke("reconcile")
    lines = invoke("status").output.splitlines()
    ai = next(line for line in lines if line.startswith("  AI in CAI: "))
    assert ai.endswith("; 1 open card(s): 1 approved, 0 waiting for votes")
    policy = next(line for line in lines if line.startswith("  Policy in CPOLICY: "))
    assert policy.endswith("; 1 open card(s): 0 approved, 1 waiting for votes")


def test_doctor_checks_every_desks_channel_and_editors(setup, standin):
    out = invoke("doctor").output
    assert "ok   slack channel: AI desk: CAI (CAI), bot is a member" in out
    assert "ok   slack channel: Policy desk: CPOLICY (CPOLICY), bot is a member" in out
    assert "ok   slack channel: failure notices: #curation (CCURATION)" in out
    assert "ok   slack editors: 2 editor(s), each a user here" in out
    assert "ok   candidates: AI desk: candidates today: 2 of 4" in out

    standin.outside.add("CPOLICY")
    del standin.users["UALICE"]
    out = invoke("doctor", code=1).output
    assert "ok   slack channel: AI desk: CAI (CAI), bot is a member" in out
    assert (
        "FIX  slack channel: Policy desk: invite the bot: /invite @Newsroom Curator in CPOLICY"
        in (out)
    )
    assert (
        f"FIX  slack editors: UALICE in the AI desk's editors is no user of this workspace: "
        f"fix the ID in {setup} (profile > More > Copy member ID)"
    ) in out
    assert "UBOB" not in out


def test_doctor_names_a_deactivated_editor_of_the_shared_list(setup, standin):
    """Policy takes its editors from slack.editors: a deactivated one is named there."""
    standin.deactivated.add("UBOB")
    out = invoke("doctor", code=1).output
    assert "FIX  slack editors: UBOB in the Policy desk's editors is deactivated" in out


def test_a_desk_whose_channel_is_missing_is_named_and_the_others_still_post(setup, standin):
    setup.write_text(setup.read_text().replace("channel: CAI", 'channel: "#ai-desk"'))
    result = invoke("post", code=1)
    missing = (
        "#ai-desk: no such channel visible to the bot; invite the bot there, or fix the "
        "channel in the config"
    )
    assert result.output.splitlines()[-1] == f"Error: AI: {missing}"
    assert channels_posted(standin) == ["CPOLICY"]
    assert f"FIX  slack channel: AI desk: {missing}" in invoke("doctor", code=1).output


def test_status_of_a_desk_that_does_not_post(setup, standin):
    setup.write_text(
        setup.read_text() + "  - name: General\n    channel: CCURATION\n    post: off\n"
    )
    out = invoke("status").output
    assert "post:General" not in out
    assert "  General in CCURATION: posting off; 0 open card(s): 0 approved, 0 waiting" in out


def test_status_reads_by_age_once_per_cutoff(setup, standin):
    """AI and Policy share max_age_days: their fresh articles are read and the older ones
    counted once, not once per desk (a pass over the whole table each at a million
    articles); General, with its own, gets its own."""
    setup.write_text(
        setup.read_text() + "  - name: General\n    channel: CCURATION\n    max_age_days: 3\n"
    )
    by_age: list[tuple[str, str]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "coalesce(article.dated, article.added_at) <" in statement or (
            "coalesce(article.dated, article.added_at) >=" in statement  # the fresh pool
        ):
            by_age.append((statement, repr(parameters)))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        out = invoke("status").output
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert out.count("candidates today: ") == 3
    assert by_age and len(by_age) == len(set(by_age))  # none repeated with the same cutoff
    # Each ran twice: 100000 days (AI, Policy) and 3 days (General).
    assert len(by_age) == 2 * len({statement for statement, _ in by_age})


def test_status_lists_the_oldest_cards_of_a_desk_and_counts_every_one(setup, standin, monkeypatch):
    """A desk can hold thousands of open cards: the report lists the oldest (the first to
    expire) and says how many more; the counts are whole and --all lists every card."""
    setup.write_text(setup.read_text().replace("    per_day: 1\n", "    per_day: 2\n"))
    invoke("post")  # AI: both machines; Policy: Rules
    monkeypatch.setattr("bot.cli.status.LISTED_AT_MOST", 1)
    lines = invoke("status").output.splitlines()
    ai = lines.index(next(line for line in lines if line.startswith("  AI in CAI: ")))
    assert lines[ai].endswith("; 2 open card(s): 0 approved, 2 waiting for votes")
    listed = [line for line in lines if "Machine" in line]
    assert len(listed) == 1 and lines.index(listed[0]) == ai + 2
    assert lines[ai + 3] == "      … and 1 newer; curator status --all lists every card"
    policy = lines.index(next(line for line in lines if line.startswith("  Policy in CPOLICY")))
    assert "Rules" in lines[policy + 2] and "…" not in "\n".join(lines[policy:])
    every = invoke("status", "--all").output
    assert every.count("Machine") == 2 and "…" not in every
