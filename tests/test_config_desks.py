"""Desks in curator.yml: what each desk takes from the shared sections, and every mistake
told at once with the file's other errors."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config, ConfigError, ContentConfig, SlackConfig, config_from_mapping
from bot.house_rules import candidate_rules, routes, vote_rules
from bot.rules.desks import desk_for

ISSUE_EXAMPLE: dict[str, Any] = {
    "content": {"remote": "./content-repo"},
    "slack": {"channel": "#curation", "editors": ["U0EDITOR1", "U0EDITOR2"]},
    "votes": {"quorum": 3, "window_days": 4, "publish": ["white_check_mark"]},
    "candidates": {"per_day": 8, "min_quality": 0.5},
    "schedule": {"post": "30 8 * * *"},
    "desks": [
        {
            "name": "AI",
            "channel": "#ai-desk",
            "topics": ["AI", "Machine Learning"],
            "editors": ["U01ALICE", "U02BOB"],
            "quorum": 2,
            "per_day": 5,
            "post": "0 9 * * 1-5",
        },
        {"name": "Policy", "channel": "#policy", "topics": ["Policy", "Regulation"]},
        {"name": "General", "channel": "#curation"},
    ],
}


def load(tmp_path: Path, data: dict[str, Any]) -> Config:
    return config_from_mapping(data, path=tmp_path / "curator.yml", env={})


def errors(tmp_path: Path, data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, data)
    prefix = f"{tmp_path / 'curator.yml'}: "
    return [line.removeprefix(prefix) for line in caught.value.errors]


def with_desks(*desks: dict[str, Any], **sections: Any) -> dict[str, Any]:
    data = copy.deepcopy(ISSUE_EXAMPLE)
    data["desks"] = list(desks)
    data.update(sections)
    return data


def test_the_issue_example_loads_each_desk_with_its_own_and_the_shared_settings(tmp_path):
    config = load(tmp_path, ISSUE_EXAMPLE)
    ai, policy, general = config.desks
    assert [d.name for d in config.desks] == ["AI", "Policy", "General"]
    assert ai.channel == "#ai-desk" and ai.topics == ("AI", "Machine Learning")
    assert ai.editors == ("U01ALICE", "U02BOB")
    assert ai.votes.quorum == 2 and ai.votes.window_days == 4  # own quorum, shared window
    assert ai.candidates.per_day == 5 and ai.candidates.min_quality == 0.5
    assert ai.post == "0 9 * * mon-fri"  # crontab weekdays, stored as the scheduler reads them
    assert policy.editors == ("U0EDITOR1", "U0EDITOR2")  # slack.editors
    assert policy.votes.quorum == 3 and policy.candidates.per_day == 8
    assert policy.post == "30 8 * * *"  # schedule.post
    assert general.topics == () and config.default_desk is general
    assert [d.job("post") for d in config.desks] == ["post:AI", "post:Policy", "post:General"]
    assert not any(d.implicit for d in config.desks)


def test_rules_are_built_per_desk(tmp_path):
    config = load(tmp_path, ISSUE_EXAMPLE)
    ai, policy, _ = config.desks
    assert vote_rules(ai).quorum == 2 and vote_rules(policy).quorum == 3
    assert candidate_rules(config, ai).per_day == 5
    assert candidate_rules(config, policy).desk == "Policy"
    table = routes(config)
    assert desk_for(["machine learning"], table) == "AI"
    assert desk_for(["regulation", "AI"], table) == "AI"  # first desk in config order
    assert desk_for(["Sports"], table) == "General"


def test_a_desks_vote_rules_are_built_once(tmp_path):
    """Every event asks for each desk's rules and every vote again: built once per desk,
    and a desk built anew (another config, a replaced desk) gets its own."""
    ai, policy, _ = load(tmp_path, ISSUE_EXAMPLE).desks
    assert vote_rules(ai) is vote_rules(ai) and vote_rules(policy) is not vote_rules(ai)
    stricter = dataclasses.replace(ai, votes=dataclasses.replace(ai.votes, quorum=4))
    assert vote_rules(stricter).quorum == 4 and vote_rules(ai).quorum == 2


def test_a_config_without_desks_is_one_desk_named_after_its_channel(tmp_path):
    data = copy.deepcopy(ISSUE_EXAMPLE)
    del data["desks"]
    config = load(tmp_path, data)
    (desk,) = config.desks
    assert desk.implicit and desk.name == "curation" and desk.channel == "#curation"
    assert desk.job("post") == "post"  # its slots keep the job name they always had
    assert desk.votes == config.votes and desk.candidates == config.candidates
    assert desk.editors == config.slack.editors and desk.post == config.schedule.post
    assert config.desk("anything") is desk and config.desk(None) is desk


def test_a_directly_built_or_replaced_config_keeps_its_desk_in_step():
    config = Config(
        content=ContentConfig(remote="r", checkout=Path("/tmp/x")),
        slack=SlackConfig(channel="C0CURATION", editors=("U0A",)),
        database_url="sqlite://",
    )
    assert config.desks[0].channel == "C0CURATION"
    votes = dataclasses.replace(config.votes, quorum=5)
    changed = dataclasses.replace(config, votes=votes)
    assert changed.desks[0].votes.quorum == 5  # the implicit desk follows, not a stale copy


def test_desk_lookup_is_by_name_in_any_case_and_unknown_names_are_the_default(tmp_path):
    config = load(tmp_path, ISSUE_EXAMPLE)
    assert config.find_desk("policy") is config.desks[1]
    assert config.find_desk("Sports") is None
    assert config.desk("gone") is config.default_desk
    assert config.desk_in("#policy") is config.desks[1] and config.desk_in("#x") is None


def test_slack_channel_may_be_left_out_with_desks_and_failures_go_to_the_first(tmp_path):
    data = with_desks(*ISSUE_EXAMPLE["desks"])
    data["slack"] = {"editors": ["U0EDITOR1"]}
    assert load(tmp_path, data).slack.channel == "#ai-desk"
    del data["desks"]
    assert errors(tmp_path, data) == [
        "slack.channel: missing; expected a channel ID like 'C0123ABCD' or a quoted '#name'"
    ]


def test_summary_channel(tmp_path):
    data = copy.deepcopy(ISSUE_EXAMPLE)
    data["slack"]["summary_channel"] = "#newsroom"
    assert load(tmp_path, data).slack.summary_channel == "#newsroom"
    data["slack"]["summary_channel"] = "newsroom"
    (error,) = errors(tmp_path, data)
    assert error.startswith("slack.summary_channel: expected a channel ID")


def test_every_desk_mistake_is_told_at_once_with_the_files_other_errors(tmp_path):
    data = with_desks(
        {"name": "AI", "channel": "#ai", "topics": ["AI"], "editors": []},
        {"name": "General", "channel": "#general"},  # catch-all, not last
        {"name": "ai", "channel": "#ai", "topics": ["Policy"], "qorum": 2},
        {"name": "Science", "channel": "#science", "topics": ["Science"], "publish": ["x"]},
        slack={"channel": "#curation"},  # no editors anywhere
        votes={"quorum": "two"},  # an error elsewhere in the file
    )
    # Every mistake in one pass: a desk with an error of its own still takes part in the
    # checks between desks (its name and channel as written).
    assert errors(tmp_path, data) == [
        "votes.quorum: expected an integer >= 1, got 'two'",
        "desks[2].qorum: unknown key (did you mean 'desks[2].quorum'?)",
        "desks[1].topics: a desk without topics takes every article left, so it must be the "
        "last desk: move it down or give it topics",
        "desks[2].name: 'ai' is also the name of desks[0]",
        "desks[2].channel: #ai is also the channel of desks[0]",
        "desks[0]: no editor can vote in this desk: set its editors or editor_group "
        "(or slack.editors / slack.editor_group)",
        "desks[1]: no editor can vote in this desk: set its editors or editor_group "
        "(or slack.editors / slack.editor_group)",
        "desks[3]: no editor can vote in this desk: set its editors or editor_group "
        "(or slack.editors / slack.editor_group)",
        "desks[3]: x means both publish and reject in this desk; one reaction cannot mean both",
    ]


AI = {"name": "AI", "channel": "#x"}


@pytest.mark.parametrize(
    ("desk", "said"),
    [
        ({"channel": "#x"}, "desks[0].name: missing; expected a desk name"),
        ({"name": "AI"}, "desks[0].channel: missing; expected a channel ID"),
        ({"name": "all", "channel": "#x"}, "desks[0].name: 'all' means every desk"),
        ({"name": "x" * 24, "channel": "#x"}, "desks[0].name: expected a desk name of up to 23"),
        ({"name": "AI:ML", "channel": "#x"}, "desks[0].name: expected a desk name"),
        (AI | {"quorum": 0}, "desks[0].quorum: expected an integer >= 1"),
        (AI | {"per_day": 99}, "desks[0].per_day: expected an integer from 1 to 50"),
        (AI | {"post": "61 9 * * *"}, "desks[0].post: expected a crontab line"),
        (AI | {"editors": ["alice"]}, "desks[0].editors[0]: expected a Slack user ID"),
        # Written, a key means what it says: null or [] is a mistake, not "the default".
        (AI | {"quorum": None}, "desks[0].quorum: expected an integer >= 1, got nothing"),
        (AI | {"window_days": None}, "desks[0].window_days: expected an integer >= 1"),
        (AI | {"per_day": None}, "desks[0].per_day: expected an integer from 1 to 50"),
        (AI | {"max_age_days": None}, "desks[0].max_age_days: expected an integer >= 1"),
        (AI | {"require_score": None}, "desks[0].require_score: expected true or false"),
        (AI | {"publish": []}, "desks[0].publish: expected at least one emoji name"),
        (AI | {"publish": None}, "desks[0].publish: expected at least one emoji name"),
    ],
)  # fmt: skip
def test_a_bad_desk_key_names_the_desk_and_what_it_expects(tmp_path, desk, said):
    (error,) = errors(tmp_path, with_desks(desk))
    assert error.startswith(said), error


def test_a_desk_may_switch_its_posting_off(tmp_path):
    config = load(tmp_path, with_desks({"name": "AI", "channel": "#ai", "post": "off"}))
    assert config.desks[0].post is None


def test_a_desks_own_emoji_are_its_votes(tmp_path):
    desk = {"name": "AI", "channel": "#ai", "publish": ["rocket"], "reject": ["thumbsdown"]}
    (ai,) = load(tmp_path, with_desks(desk)).desks
    assert ai.votes.publish == ("rocket",) and ai.votes.reject == ("thumbsdown",)
    assert vote_rules(ai).choice("rocket") == "publish" and vote_rules(ai).choice("x") is None


def test_a_desk_with_fewer_editors_than_its_quorum_is_warned_about(tmp_path):
    config = load(tmp_path, with_desks({"name": "AI", "channel": "#ai", "editors": ["U0A"]}))
    assert any("the AI desk needs 3 votes but has 1 editor(s)" in w for w in config.warnings)
    # With desks, the shared section's lack of editors is no warning: each desk has its own.
    data = with_desks({"name": "AI", "channel": "#ai", "editors": ["U0A"], "quorum": 1})
    data["slack"] = {"channel": "#ops"}
    assert load(tmp_path, data).warnings == ()


def test_a_desk_naming_its_editors_does_not_take_the_shared_group_too(tmp_path):
    """Own voters or the shared ones, never a mix: a shared group's members would otherwise
    vote in every desk that names its own editors."""
    data = with_desks(
        {"name": "AI", "channel": "#ai", "topics": ["AI"], "editors": ["U01ALICE"]},
        {"name": "Policy", "channel": "#policy", "topics": ["Policy"], "editor_group": "S0POL"},
        {"name": "General", "channel": "#curation"},
    )
    data["slack"] = {"channel": "#curation", "editors": ["U0EDITOR1"], "editor_group": "S0ALL"}
    ai, policy, general = load(tmp_path, data).desks
    assert (ai.editors, ai.editor_group) == (("U01ALICE",), None)
    assert (policy.editors, policy.editor_group) == ((), "S0POL")
    assert (general.editors, general.editor_group) == (("U0EDITOR1",), "S0ALL")


def test_slack_channel_may_be_null_with_desks_but_not_without(tmp_path):
    data = with_desks({"name": "AI", "channel": "#ai"})
    data["slack"] = {"channel": None, "editors": ["U0A"]}
    assert load(tmp_path, data).slack.channel == "#ai"
    del data["desks"]
    (error,) = errors(tmp_path, data)
    assert error.startswith("slack.channel: missing; expected a channel ID")
    assert "an unquoted #name is a YAML comment" in error


@pytest.mark.parametrize(
    ("own", "said"),
    [
        ({"reject": ["rewind"]}, "rewind means both reject and unpublish in this desk"),
        ({"publish": ["no_entry"]}, "no_entry means both publish and veto in this desk"),
        ({"unpublish": ["x"]}, "x means both reject and unpublish in this desk"),
    ],
)
def test_a_desks_own_emoji_may_not_mean_what_a_shared_list_means(tmp_path, own, said):
    """A desk's reject: [rewind] beside the shared unpublish: [rewind] is a desk that could
    never unpublish by vote: told, with the other mistakes."""
    data = with_desks({"name": "AI", "channel": "#ai"} | own)
    data["votes"] = {"veto": ["no_entry"]}
    data["slack"]["chiefs"] = ["U0CHIEF"]
    (error,) = errors(tmp_path, data)
    assert error == f"desks[0]: {said}; one reaction cannot mean both"


def test_vote_settings_that_cannot_work_are_warned_about_per_desk(tmp_path):
    data = with_desks(
        {"name": "AI", "channel": "#ai", "topics": ["AI"], "veto": ["no_entry"]},
        {"name": "General", "channel": "#curation", "remind_before": "3d", "window_days": 3},
    )
    warnings = load(tmp_path, data).warnings
    assert any(
        w.endswith("desks[0]: the AI desk's veto emoji count from nobody: no chiefs are listed "
                   "(slack.chiefs, or the desk's chiefs)") for w in warnings
    ), warnings  # fmt: skip
    assert any(
        w.endswith("desks[1]: the General desk's reminders (72 h before a card closes) are as "
                   "long as its voting window (3 days): every card is reminded as soon as it is "
                   "posted") for w in warnings
    ), warnings  # fmt: skip
    # With chiefs and a shorter reminder: nothing to say.
    data["slack"]["chiefs"] = ["U0CHIEF"]
    data["desks"][1]["remind_before"] = "1d"
    assert not [w for w in load(tmp_path, data).warnings if "veto" in w or "remind" in w]
    # Without desks, the same is said of votes:.
    del data["desks"]
    data["slack"] = {"channel": "#curation", "editors": ["U0A", "U0B", "U0C"]}
    data["votes"] = {"veto": ["no_entry"]}
    (warning,) = load(tmp_path, data).warnings
    assert warning.endswith("votes.veto: veto emoji count from nobody: no chiefs are listed "
                            "(slack.chiefs, or the desk's chiefs)")  # fmt: skip
