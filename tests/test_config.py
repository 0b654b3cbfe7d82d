"""Tests for bot.config: every mistake an operator makes in curator.yml gets a clear error."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from apscheduler.triggers.cron import CronTrigger
from hypothesis import given
from hypothesis import strategies as st

from bot.config import (
    CandidatesConfig,
    Config,
    ConfigError,
    ContentConfig,
    ScheduleConfig,
    SlackConfig,
    VotesConfig,
    config_from_mapping,
    example_config,
    example_path,
    load_config,
    write_example,
)
from storage.fields import FieldMap

DELETE = object()

MINIMAL: dict[str, Any] = {
    "content": {"remote": "./content-repo"},
    "slack": {"channel": "#curation", "editors": ["U0EDITOR1", "U0EDITOR2"]},
}


def merged(overrides: dict[str, Any]) -> dict[str, Any]:
    """MINIMAL with dotted-key overrides applied; DELETE removes a key."""
    data = copy.deepcopy(MINIMAL)
    for dotted, value in overrides.items():
        *parents, leaf = dotted.split(".")
        node = data
        for part in parents:
            node = node.setdefault(part, {})
        if value is DELETE:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return data


def build(tmp_path: Path, env: dict[str, str] | None = None, **overrides: Any) -> Config:
    """A Config from MINIMAL + overrides, as if read from tmp_path/curator.yml."""
    data = merged({key.replace("__", "."): value for key, value in overrides.items()})
    return config_from_mapping(data, path=tmp_path / "curator.yml", env=env or {})


def errors_for(tmp_path: Path, data: Any, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config_from_mapping(data, path=tmp_path / "curator.yml", env=env or {})
    assert str(caught.value) == "\n".join(caught.value.errors)
    return caught.value.errors


def write(tmp_path: Path, text: str, name: str = "curator.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def one_error(tmp_path: Path, data: Any) -> str:
    errors = errors_for(tmp_path, data)
    assert len(errors) == 1, errors
    return errors[0]


# ------------------------------------------------------------------------------- happy paths


def test_minimal_config_gets_documented_defaults(tmp_path: Path) -> None:
    config = build(tmp_path)
    assert config.path == (tmp_path / "curator.yml").resolve()
    assert config.timezone == "UTC"
    assert config.content.remote == str((tmp_path / "content-repo").resolve())
    assert config.content.branch == "main"
    assert config.content.checkout == (tmp_path / ".curator" / "content").resolve()
    assert config.content.include == ("**/*.md",)
    assert config.content.exclude == ()
    assert (config.content.author_name, config.content.author_email) == (
        "Newsroom Curator",
        "curator@localhost",
    )
    assert config.content.commit_url is None
    assert dict(config.content.set_on_publish) == {}
    assert config.slack.channel == "#curation"
    assert config.slack.editors == ("U0EDITOR1", "U0EDITOR2")
    assert config.slack.editor_group is None
    assert config.slack.command == "/digest"
    assert config.votes == VotesConfig()
    assert config.candidates == CandidatesConfig()
    assert config.schedule == ScheduleConfig()
    assert config.fields == FieldMap()
    assert config.database_url == f"sqlite:///{(tmp_path / 'curator.db').resolve()}"
    assert config.warnings == ()


def test_config_is_frozen_and_hashable(tmp_path: Path) -> None:
    config = build(tmp_path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.timezone = "Europe/Berlin"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.content.set_on_publish["x"] = "y"  # type: ignore[index]
    assert hash(config) == hash(build(tmp_path))


def test_full_config_round_trip(tmp_path: Path) -> None:
    config = build(
        tmp_path,
        timezone="Europe/Berlin",
        content__branch="live",
        content__include=["articles/**/*.md", "news/*.md"],
        content__exclude="drafts/**",
        content__author="Desk Bot <desk@example.org>",
        content__commit_url="https://github.com/newsroom/content/commit/{sha}",
        content__set_on_publish={"approved_by": "{approvers}", "approved_on": "{date}"},
        slack__channel="C0123ABCD",
        slack__editor_group="S0EDITORS",
        slack__command="/news",
        votes__publish=[":+1:", "heavy_check_mark", ":white_check_mark::skin-tone-3:"],
        votes__reject=[":X:"],
        votes__quorum=1,
        votes__window_days=5,
        candidates__per_day=50,
        candidates__min_quality=40.5,
        candidates__max_age_days=2,
        candidates__topics=["AI", "Computer Vision"],
        schedule__summary=None,
        schedule__expire="off",
        fields__flag="draft",
        fields__flag_style="draft",
        fields__url="link",
    )
    assert config.timezone == "Europe/Berlin"
    assert config.zone.key == "Europe/Berlin"
    assert config.content.branch == "live"
    assert config.content.include == ("articles/**/*.md", "news/*.md")
    assert config.content.exclude == ("drafts/**",)
    assert config.content.author_name == "Desk Bot"
    assert config.content.author_email == "desk@example.org"
    assert config.content.commit_link("abc123") == (
        "https://github.com/newsroom/content/commit/abc123"
    )
    assert dict(config.content.set_on_publish) == {
        "approved_by": "{approvers}",
        "approved_on": "{date}",
    }
    assert config.slack == dataclasses.replace(
        config.slack, channel="C0123ABCD", editor_group="S0EDITORS", command="/news"
    )
    assert config.votes.publish == ("+1", "heavy_check_mark", "white_check_mark")
    assert config.votes.reject == ("x",)
    assert (config.votes.quorum, config.votes.window_days) == (1, 5)
    assert config.candidates == CandidatesConfig(
        per_day=50, min_quality=40.5, max_age_days=2, topics=("AI", "Computer Vision")
    )
    assert config.schedule.summary is None
    assert config.schedule.expire is None
    assert "summary" not in config.schedule.enabled()
    assert config.fields == FieldMap(flag="draft", flag_style="draft", url="link")
    assert config.fields.published_value() is False


@pytest.mark.parametrize("min_quality", [None, DELETE])
def test_min_quality_null_or_absent_means_no_minimum(tmp_path: Path, min_quality: Any) -> None:
    """Most Hugo/Jekyll repos score nothing: the default offers unscored articles too."""
    config = build(tmp_path, candidates__min_quality=min_quality)
    assert config.candidates.min_quality is None
    assert config.candidates.require_score is False


def test_require_score(tmp_path: Path) -> None:
    config = build(tmp_path, candidates__min_quality=0, candidates__require_score=True)
    assert (config.candidates.min_quality, config.candidates.require_score) == (0.0, True)


def test_empty_sections_mean_defaults(tmp_path: Path) -> None:
    config = build(tmp_path, votes=None, candidates=None, schedule=None, fields=None)
    assert config.votes == VotesConfig()
    assert config.schedule == ScheduleConfig()


# ------------------------------------------------------------------------- missing and types


@pytest.mark.parametrize(
    ("remove", "key"),
    [
        ("content.remote", "content.remote"),
        ("content", "content.remote"),
        ("slack.channel", "slack.channel"),
        ("slack", "slack.channel"),
    ],
)
def test_required_key_missing(tmp_path: Path, remove: str, key: str) -> None:
    errors = errors_for(tmp_path, merged({remove: DELETE}))
    assert [e for e in errors if f": {key}: missing; expected" in e], errors


def test_unquoted_channel_name_hint(tmp_path: Path) -> None:
    path = write(tmp_path, "content:\n  remote: ./c\nslack:\n  channel: #curation\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert "slack.channel: missing" in str(caught.value)
    assert 'write channel: "#curation"' in str(caught.value)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("votes.quorum", "two", "votes.quorum: expected an integer >= 1, got 'two'"),
        ("votes.quorum", 0, "votes.quorum: expected an integer >= 1, got 0"),
        ("votes.quorum", True, "votes.quorum: expected an integer >= 1, got true"),
        ("votes.window_days", None, "votes.window_days: expected an integer >= 1, got nothing"),
        ("candidates.per_day", 51, "candidates.per_day: expected an integer from 1 to 50, got 51"),
        ("candidates.per_day", 0, "candidates.per_day: expected an integer from 1 to 50, got 0"),
        (
            "candidates.min_quality",
            "high",
            "candidates.min_quality: expected a number or null, got 'high'",
        ),
        ("candidates.min_quality", float("nan"), "candidates.min_quality: expected a number"),
        ("candidates.require_score", "yes", "candidates.require_score: expected true or false"),
        ("candidates.require_score", 1, "candidates.require_score: expected true or false"),
        ("candidates.max_age_days", 1.5, "candidates.max_age_days: expected an integer >= 1"),
        ("candidates.topics", 5, "candidates.topics: expected a list of topic names, got 5"),
        ("candidates.topics", ["AI", 3], "candidates.topics[1]: expected a topic name, got 3"),
        ("content.remote", 42, "content.remote: expected the content repo's git URL"),
        ("content.remote", "", "content.remote: expected the content repo's git URL"),
        ("content.remote", "--upload-pack=evil", "content.remote: must not start with '-'"),
        ("content.branch", ["main"], "content.branch: expected a git branch name, got a list"),
        ("content.branch", "-f", "content.branch: expected a git branch name, got '-f'"),
        ("content.branch", "a..b", "content.branch: expected a git branch name"),
        ("content.checkout", 7, "content.checkout: expected a directory path, got 7"),
        ("content.include", {"a": 1}, "content.include: expected a list of glob patterns"),
        ("content.include", [], "content.include: expected at least one glob pattern"),
        ("content.exclude", [""], "content.exclude[0]: expected a glob pattern, got ''"),
        ("content.set_on_publish", ["x"], "content.set_on_publish: expected a mapping"),
        (
            "content.set_on_publish",
            {"approved_by": {"approvers": None}},
            "content.set_on_publish.approved_by: expected a text template",
        ),
        ("content.set_on_publish", {"published": "yes"}, "publish flag is set by the bot"),
        ("slack.channel", "curation", "(did you mean '#curation'?)"),
        ("slack.channel", "#Curation", "slack.channel: expected a channel ID"),
        ("slack.channel", 12345, "slack.channel: expected a channel ID"),
        ("slack.editors", "alice", "slack.editors[0]: expected a Slack user ID"),
        ("slack.editors", ["U0EDITOR1", "@bob"], "slack.editors[1]: expected a Slack user ID"),
        ("slack.editors", {"U1": 1}, "slack.editors: expected a list of Slack user IDs"),
        ("slack.editor_group", "editors", "slack.editor_group: expected a user group ID"),
        ("slack.command", "digest", "slack.command: expected a lower-case slash command"),
        ("slack.command", "/Digest", "slack.command: expected a lower-case slash command"),
        ("votes.publish", [1], "YAML reads +1 and -1 as numbers"),
        ("votes.publish", [], "votes.publish: expected at least one emoji name"),
        ("votes.publish", ["white check mark"], "votes.publish[0]: expected an emoji name"),
        ("votes.reject", 3, "votes.reject: expected a list of emoji names"),
        ("fields.flag_style", "hidden", "fields.flag_style: expected 'published'"),
        ("fields.title", 3, "fields.title: expected a frontmatter key name, got 3"),
        ("fields.flag", "title", "fields.flag: 'title' is also fields.title"),
        ("timezone", 5, "timezone: expected an IANA time zone name"),
        ("schedule.post", 15, "schedule.post: expected a crontab line"),
        ("schedule.post", True, "schedule.post: expected a crontab line"),
        ("database", 5, "database: expected a database URL"),
        ("database", "curator.db", "database: expected a database URL"),
        ("votes", [1, 2], "votes: expected a mapping of settings, got a list [1, 2]"),
        ("slack", "#curation", "slack: expected a mapping of settings"),
    ],
)
def test_wrong_value(tmp_path: Path, key: str, value: Any, expected: str) -> None:
    error = one_error(tmp_path, merged({key: value}))
    assert error.startswith(f"{tmp_path / 'curator.yml'}: ")
    assert expected in error


def test_error_names_the_file_and_key_exactly(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        yaml.safe_dump(merged({"votes.quorum": "two"})),
        name="curator.yml",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert caught.value.errors == [f"{path}: votes.quorum: expected an integer >= 1, got 'two'"]


def test_long_values_are_shortened_in_errors(tmp_path: Path) -> None:
    error = one_error(tmp_path, merged({"votes.quorum": "x" * 500}))
    assert len(error) < len(str(tmp_path)) + 120


# ----------------------------------------------------------------------------- unknown keys


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("timezon", "timezon: unknown key (did you mean 'timezone'?)"),
        ("votes.qourum", "votes.qourum: unknown key (did you mean 'votes.quorum'?)"),
        ("slack.editor", "slack.editor: unknown key (did you mean 'slack.editors'?)"),
        ("quorum", "quorum: unknown key (did you mean 'votes.quorum'?)"),
        ("database_url", "database_url: unknown key (did you mean 'database'?)"),
        ("schedule.publsh", "schedule.publsh: unknown key (did you mean 'schedule.publish'?)"),
        ("fields.weburl", "fields.weburl: unknown key (did you mean 'fields.url'?)"),
        ("content.zzz", "content.zzz: unknown key (expected one of: remote, branch,"),
    ],
)
def test_unknown_key_with_suggestion(tmp_path: Path, key: str, expected: str) -> None:
    error = one_error(tmp_path, merged({key: 1}))
    assert f"{tmp_path / 'curator.yml'}: {expected}" in error


def test_non_string_key_from_yaml_boolean(tmp_path: Path) -> None:
    path = write(tmp_path, yaml.safe_dump(MINIMAL) + "yes: 1\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert "keys must be names, got true" in str(caught.value)
    assert "quote the key" in str(caught.value)


# ------------------------------------------------------------------------------------ emoji


def test_emoji_colons_stripped_and_duplicates_dropped(tmp_path: Path) -> None:
    config = build(tmp_path, votes__publish=[":white_check_mark:", "white_check_mark", "+1"])
    assert config.votes.publish == ("white_check_mark", "+1")


@pytest.mark.parametrize(
    ("publish", "reject"),
    [(["x"], ["x"]), ([":x:"], ["x"]), (["white_check_mark", "ok"], [":OK:", "x"])],
)
def test_overlapping_emoji_refused(tmp_path: Path, publish: list[str], reject: list[str]) -> None:
    error = one_error(tmp_path, merged({"votes.publish": publish, "votes.reject": reject}))
    assert "is in both votes.publish and votes.reject" in error


def test_empty_reject_list_is_allowed(tmp_path: Path) -> None:
    assert build(tmp_path, votes__reject=[]).votes.reject == ()


# ------------------------------------------------------------------------------------- cron


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("0 9 * *", "(4 fields instead of 5)"),
        ("0 0 9 * * *", "(6 fields instead of 5)"),
        ("61 * * * *", "higher than the maximum value (59)"),
        ("0 25 * * *", "higher than the maximum value (23)"),
        ("0 9 * * funday", 'Invalid weekday name "funday"'),
        ("0 9 * * 1-fri/x", "cannot read day of week '1-fri/x'"),
        ("0 9 * * xyz", "Invalid weekday name"),
        ("0 9 * * 8", "day of week 8 is not 0-7"),
        ("0 9 * * 5-1", "runs backwards"),
        ("0 9 * 13 *", "higher than the maximum value (12)"),
        ("every day", "(2 fields instead of 5)"),
        ("@reboot", "(1 fields instead of 5)"),
        ("", "(0 fields instead of 5)"),
    ],
)
def test_bad_cron(tmp_path: Path, value: str, fragment: str) -> None:
    error = one_error(tmp_path, merged({"schedule.post": value}))
    assert "schedule.post: expected a crontab line 'minute hour day month day_of_week'" in error
    assert fragment in error


@pytest.mark.parametrize("value", [None, False, "off", "OFF", " off "])
def test_job_switched_off(tmp_path: Path, value: Any) -> None:
    config = build(tmp_path, schedule__publish=value)
    assert config.schedule.publish is None
    assert "publish" not in config.schedule.enabled()


def test_unquoted_off_from_yaml_switches_job_off(tmp_path: Path) -> None:
    path = write(tmp_path, yaml.safe_dump(MINIMAL) + "schedule:\n  summary: off\n")
    assert load_config(path, env={}).schedule.summary is None


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("0 9 * * mon-fri", "0 9 * * mon-fri"),
        ("0 9 * * 1-5", "0 9 * * mon-fri"),
        ("0 9 * * 0", "0 9 * * sun"),
        ("0 9 * * 7", "0 9 * * sun"),
        ("0 9 * * 0,6", "0 9 * * sat-sun"),
        ("0 9 * * 6,0", "0 9 * * sat-sun"),
        ("0 9 * * sun-sat", "0 9 * * *"),
        ("0 9 * * 1-5/2", "0 9 * * mon,wed,fri"),
        ("0 9 * * */2", "0 9 * * tue,thu,sat-sun"),
        ("0 9 * * 1,fri-sun", "0 9 * * mon,fri-sun"),
        ("  0   9 * *  *  ", "0 9 * * *"),
        ("@daily", "0 0 * * *"),
        ("@weekly", "0 0 * * sun"),
    ],
)
def test_cron_weekdays_stored_in_scheduler_safe_form(
    tmp_path: Path, value: str, stored: str
) -> None:
    assert build(tmp_path, schedule__post=value).schedule.post == stored


def _crontab_weekdays(field_text: str) -> set[int]:
    """Python weekdays (Monday 0) a numeric crontab day-of-week field selects."""
    days: set[int] = set()
    for part in field_text.split(","):
        body, _, step = part.partition("/")
        low, _, high = body.partition("-")
        for day in range(int(low), int(high or low) + 1, int(step or 1)):
            days.add((day - 1) % 7)  # crontab: 0 and 7 are Sunday, 1 is Monday
    return days


_DOW_PART = st.one_of(
    st.integers(0, 7).map(str),
    st.tuples(st.integers(0, 7), st.integers(0, 7), st.integers(1, 3)).map(
        lambda t: f"{min(t[0], t[1])}-{max(t[0], t[1])}" + (f"/{t[2]}" if t[2] > 1 else "")
    ),
)


@given(parts=st.lists(_DOW_PART, min_size=1, max_size=3))
def test_numeric_weekdays_fire_on_crontab_days(parts: list[str]) -> None:
    """Regression: APScheduler 3 reads weekday 0 as Monday; we must keep crontab's Sunday."""
    field_text = ",".join(parts)
    config = config_from_mapping(
        merged({"schedule.post": f"0 9 * * {field_text}"}), path=None, env={}
    )
    assert config.schedule.post is not None
    trigger = CronTrigger.from_crontab(config.schedule.post, timezone="UTC")
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)  # a Monday
    fired: set[int] = set()
    previous = None
    now = start
    while now < start + dt.timedelta(days=14):
        fire = trigger.get_next_fire_time(previous, now)
        assert fire is not None
        if fire >= start + dt.timedelta(days=14):
            break
        fired.add(fire.weekday())
        previous, now = fire, fire + dt.timedelta(minutes=1)
    assert fired == _crontab_weekdays(field_text)


def test_cron_day_and_weekday_both_restricted_warns(tmp_path: Path) -> None:
    config = build(tmp_path, schedule__post="0 9 1-7 * mon")
    assert config.schedule.post == "0 9 1-7 * mon"
    assert any(
        "schedule.post" in w and "both day of month and day of week" in w for w in config.warnings
    )


def test_unquoted_cron_in_yaml_gets_a_hint(tmp_path: Path) -> None:
    text = yaml.safe_dump(MINIMAL) + "schedule:\n  refresh: */5 * * * *\n"
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    (error,) = caught.value.errors
    line = len(text.splitlines())
    assert error.startswith(f"{path}:{line}:")
    assert "invalid YAML:" in error
    assert "must be quoted" in error


# ------------------------------------------------------------------------------- time zones


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("Europe/Berln", "(did you mean 'Europe/Berlin'?)"),
        ("Mars/Olympus_Mons", "got 'Mars/Olympus_Mons'"),
        ("../../etc/passwd", "expected an IANA time zone name"),
        ("", "expected an IANA time zone name"),
    ],
)
def test_bad_timezone(tmp_path: Path, value: str, fragment: str) -> None:
    error = one_error(tmp_path, merged({"timezone": value}))
    assert error.startswith(f"{tmp_path / 'curator.yml'}: timezone: expected an IANA time zone")
    assert fragment in error


def test_bad_timezone_still_checks_schedules(tmp_path: Path) -> None:
    errors = errors_for(tmp_path, merged({"timezone": "Nowhere", "schedule.post": "0 99 * * *"}))
    assert len(errors) == 2


# ---------------------------------------------------------------------- author and commit url


@pytest.mark.parametrize(
    "author",
    ["Curator", "<curator@example.org>", "Curator <not-an-email>", "Curator <a@b", "A <a@b> x"],
)
def test_bad_author(tmp_path: Path, author: str) -> None:
    error = one_error(tmp_path, merged({"content.author": author}))
    assert "content.author: expected 'Name <email>'" in error


def test_author_parsed(tmp_path: Path) -> None:
    config = build(tmp_path, content__author="  Ünïcode Desk  <desk@news.example>  ")
    assert config.content.author_name == "Ünïcode Desk"
    assert config.content.author_email == "desk@news.example"


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("https://github.com/newsroom/content/commit/", "expected a URL containing {sha}"),
        ("https://git.example/{commit}", "expected a URL containing {sha}"),
        ("https://git.example/{sha", "expected a URL containing {sha}"),
        ("https://git.example/{repo}/{sha}", "only {sha} is filled in, found repo"),
    ],
)
def test_commit_url_needs_sha(tmp_path: Path, url: str, fragment: str) -> None:
    assert fragment in one_error(tmp_path, merged({"content.commit_url": url}))


# ---------------------------------------------------------------------------------- secrets


@pytest.mark.parametrize(
    ("key", "variable"),
    [
        ("slack.token", "SLACK_BOT_TOKEN"),
        ("slack.bot_token", "SLACK_BOT_TOKEN"),
        ("slack.app_token", "SLACK_APP_TOKEN"),
        ("slack.signing_secret", "SLACK_SIGNING_SECRET"),
        ("slack.Signing_Secret", "SLACK_SIGNING_SECRET"),
        ("bot_token", "SLACK_BOT_TOKEN"),
        ("app_token", "SLACK_APP_TOKEN"),
        ("signing_secret", "SLACK_SIGNING_SECRET"),
        ("password", "DATABASE_URL"),
        ("content.password", "DATABASE_URL"),
    ],
)
def test_secrets_in_file_refused(tmp_path: Path, key: str, variable: str) -> None:
    secret = "s3cret-DO-NOT-LEAK"  # no known shape: the key's name alone refuses it
    error = one_error(tmp_path, merged({key: secret}))
    assert f"{key}: secrets must not be stored in the config file" in error
    assert f"set {variable} in the environment" in error
    assert "unknown key" not in error
    assert secret not in error


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("content.remote", "https://bot:ghp_DO-NOT-LEAK@github.com/newsroom/content.git"),
        ("database", "postgresql://curator:DO-NOT-LEAK@db.example/curator"),
    ],
)
def test_credentials_in_urls_refused_without_echo(tmp_path: Path, key: str, value: str) -> None:
    error = one_error(tmp_path, merged({key: value}))
    assert "DO-NOT-LEAK" not in error
    assert "password" in error


def test_slack_token_in_wrong_key_is_not_echoed(tmp_path: Path) -> None:
    """Regression (issue 9): the channel's "did you mean '#xoxb-...'" repeated the token."""
    error = one_error(tmp_path, merged({"slack.channel": "xoxb-123-DO-NOT-LEAK"}))
    assert "slack.channel: holds a Slack token" in error
    assert "DO-NOT-LEAK" not in error.upper() and "did you mean" not in error


def test_database_password_refused_even_when_env_overrides(tmp_path: Path) -> None:
    data = merged({"database": "postgresql://u:DO-NOT-LEAK@db/curator"})
    errors = errors_for(tmp_path, data, env={"DATABASE_URL": "sqlite:///x.db"})
    assert len(errors) == 1


# --------------------------------------------------------------------------------- database


def test_database_url_from_environment_wins(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "postgresql://curator:pw@db.example/curator"}
    config = build(tmp_path, env=env, database="sqlite:///other.db")
    assert config.database_url == "postgresql://curator:pw@db.example/curator"


def test_database_url_from_file_when_no_environment(tmp_path: Path) -> None:
    config = build(tmp_path, env={"DATABASE_URL": "  "}, database="postgresql://db.example/cur")
    assert config.database_url == "postgresql://db.example/cur"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("sqlite:///data/curator.db", "sqlite:///{base}/data/curator.db"),
        ("sqlite+pysqlite:///x.db?timeout=5", "sqlite+pysqlite:///{base}/x.db?timeout=5"),
        ("sqlite:////srv/curator.db", "sqlite:////srv/curator.db"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
    ],
)
def test_relative_sqlite_in_file_resolved_against_config_dir(
    tmp_path: Path, value: str, expected: str
) -> None:
    config = build(tmp_path, database=value)
    assert config.database_url == expected.format(base=tmp_path.resolve())


def test_load_config_reads_os_environ_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/from-env.db")
    path = write(tmp_path, yaml.safe_dump(MINIMAL))
    assert load_config(path).database_url == "sqlite:////tmp/from-env.db"
    monkeypatch.delenv("DATABASE_URL")
    assert load_config(path).database_url == f"sqlite:///{tmp_path.resolve()}/curator.db"


# ------------------------------------------------------------------------------------ paths


def test_relative_paths_resolve_against_config_dir_not_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_dir = tmp_path / "etc" / "curator"
    config_dir.mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    data = merged({"content.remote": "../repos/content", "content.checkout": "state/clone"})
    path = write(config_dir, yaml.safe_dump(data))
    config = load_config(path, env={})
    assert config.content.remote == str((tmp_path / "etc" / "repos" / "content").resolve())
    assert config.content.checkout == (config_dir / "state" / "clone").resolve()
    assert config.database_url == f"sqlite:///{config_dir.resolve()}/curator.db"


def test_relative_config_path_resolves_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, yaml.safe_dump(MINIMAL))
    config = load_config(Path("curator.yml"), env={})
    assert config.path == (tmp_path / "curator.yml").resolve()
    assert config.content.checkout == (tmp_path / ".curator" / "content").resolve()


@pytest.mark.parametrize(
    "remote",
    [
        "git@github.com:newsroom/content.git",
        "https://github.com/newsroom/content.git",
        "ssh://git@git.example:2222/newsroom/content.git",
        "file:///srv/git/content.git",
        "github.com:newsroom/content.git",
    ],
)
def test_remote_urls_kept_as_written(tmp_path: Path, remote: str) -> None:
    assert build(tmp_path, content__remote=remote).content.remote == remote


def test_absolute_and_home_remote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert build(tmp_path, content__remote="/srv/content").content.remote == "/srv/content"
    expected = str((tmp_path / "home" / "content").resolve())
    assert build(tmp_path, content__remote="~/content").content.remote == expected


def test_no_path_resolves_against_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = config_from_mapping(MINIMAL, path=None, env={})
    assert config.path is None
    assert config.content.checkout == (tmp_path / ".curator" / "content").resolve()


# ------------------------------------------------------------------------------------- YAML


def test_yaml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    text = "content:\n  remote: ./c\nslack:\n  channel: '#curation'\n  editors: [U0EDITOR1\n"
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    (error,) = caught.value.errors
    assert error.startswith(f"{path}:6:1: invalid YAML: ")
    assert "expected ',' or ']'" in error


def test_yaml_value_shaped_like_a_date_but_not_one(tmp_path: Path) -> None:
    path = write(tmp_path, "timezone: 2021-02-30\n")
    with pytest.raises(ConfigError, match="invalid YAML value: day is out of range for month"):
        load_config(path, env={})


def test_yaml_bad_indentation_line(tmp_path: Path) -> None:
    path = write(tmp_path, "content:\n  remote: ./c\n branch: main\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert str(caught.value).startswith(f"{path}:3:")


def test_duplicate_keys_reported_with_line(tmp_path: Path) -> None:
    text = yaml.safe_dump(MINIMAL) + "votes:\n  quorum: 1\nvotes:\n  quorum: 3\n"
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    line = text.splitlines().index("votes:", text.splitlines().index("votes:") + 1) + 1
    assert caught.value.errors == [
        f"{path}:{line}:1: duplicate key 'votes'; YAML would silently keep only the last"
    ]


@pytest.mark.parametrize("text", ["- content\n- slack\n", "just a string\n", "42\n"])
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert str(caught.value).startswith(f"{path}: expected a mapping of settings at the top level")


def test_empty_file_reports_required_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "# nothing yet\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert [e.split(": ")[1] for e in caught.value.errors] == ["content.remote", "slack.channel"]


def test_missing_file_says_run_init(tmp_path: Path) -> None:
    path = tmp_path / "curator.yml"
    with pytest.raises(ConfigError, match="run 'curator init' to create one") as caught:
        load_config(path, env={})
    assert str(caught.value).startswith(str(path))


def test_directory_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path, env={})
    path = tmp_path / "curator.yml"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path, env={})


# -------------------------------------------------------------------------- errors together


def test_all_errors_reported_together(tmp_path: Path) -> None:
    text = """\
timezone: Europe/Berln
content:
  remote: ./content
  author: nobody
slack:
  channel: "#curation"
  editors: [U0EDITOR1, U0EDITOR2]
  bot_token: xoxb-secret
votes:
  quorum: two
  publish: [x]
schedule:
  post: "0 9 * *"
candidates:
  per_dya: 5
"""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    errors = caught.value.errors
    keys = [error.removeprefix(f"{path}: ").split(":")[0] for error in errors]
    assert sorted(keys) == sorted(
        [
            "timezone",
            "content.author",
            "slack.bot_token",
            "votes",
            "votes.quorum",
            "schedule.post",
            "candidates.per_dya",
        ]
    )
    assert str(caught.value).count("\n") == len(errors) - 1
    assert "xoxb-secret" not in str(caught.value)


# ---------------------------------------------------------------------- warnings and policy


def test_no_editors_is_valid_but_warned(tmp_path: Path) -> None:
    config = build(tmp_path, slack__editors=DELETE)
    assert config.slack.editors == ()
    (warning,) = config.warnings
    assert warning.startswith(f"{tmp_path / 'curator.yml'}: slack: ")
    assert "votes will count from nobody" in warning


def test_editor_group_alone_is_enough(tmp_path: Path) -> None:
    config = build(tmp_path, slack__editors=None, slack__editor_group="S0EDITORS", votes__quorum=5)
    assert config.warnings == ()
    assert config.slack.editor_group == "S0EDITORS"


def test_quorum_larger_than_editor_list_warns(tmp_path: Path) -> None:
    config = build(tmp_path, votes__quorum=3)
    (warning,) = config.warnings
    assert "votes.quorum: is 3 but slack.editors lists only 2" in warning


def test_editors_deduplicated(tmp_path: Path) -> None:
    config = build(tmp_path, slack__editors=["U0EDITOR1", "U0EDITOR1", "W0EDITOR2"])
    assert config.slack.editors == ("U0EDITOR1", "W0EDITOR2")


# ---------------------------------------------------------------------------------- example


def test_example_loads_cleanly(tmp_path: Path) -> None:
    config = load_config(example_path(), env={})
    assert config.warnings == ()
    assert config.content.remote == str(example_path().parent / "content-repo")
    assert config.slack.channel == "#curation"


def test_example_values_are_the_defaults(tmp_path: Path) -> None:
    """Every value in the example is what leaving the key out gives, as its comments say."""
    example = load_config(example_path(), env={})
    data = yaml.safe_load(example_config())
    required_only = {
        "content": {"remote": data["content"]["remote"]},
        "slack": {"channel": data["slack"]["channel"], "editors": data["slack"]["editors"]},
    }
    assert example == config_from_mapping(required_only, path=example_path(), env={})


def _schema_keys() -> list[str]:
    from bot.config.models import schema_keys

    keys = schema_keys()
    top = keys.pop("")
    return [f"{section}.{key}" for section, names in keys.items() for key in names] + [
        key for key in top if key not in keys
    ]


@pytest.mark.parametrize("dotted", _schema_keys())
def test_example_documents_every_key(dotted: str) -> None:
    leaf = dotted.split(".")[-1]
    indent = "  " if "." in dotted else ""
    lines = example_config().splitlines()
    matches = [i for i, line in enumerate(lines) if re.match(rf"^(# )?{indent}{leaf}:( |$)", line)]
    assert matches, f"{dotted} is not in the example"
    above = lines[matches[0] - 1]
    assert above.lstrip().startswith("#"), f"{dotted} has no comment above it"


def test_example_documented_defaults_match_code() -> None:
    """The '(default: X)' comments agree with the values the example sets."""
    lines = example_config().splitlines()
    checked = 0
    for index, line in enumerate(lines):
        match = re.match(r"^\s+([a-z_]+): (\S.*)$", line)
        if not match or match.group(1) in {"remote", "channel"}:
            continue
        comment = " ".join(
            lines[i].strip() for i in range(max(index - 2, 0), index) if "#" in lines[i]
        )
        default = re.search(r"\(default: (.+)\)\.?$", comment)
        if default is None:
            continue
        assert default.group(1).strip('"') == match.group(2).strip('"'), line
        checked += 1
    assert checked >= 20


def test_example_mentions_every_secret_variable() -> None:
    text = example_config()
    for variable in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DATABASE_URL"):
        assert variable in text
    assert "git@github.com:newsroom/content.git" in text
    assert "flag_style: draft" in text


# ---------------------------------------------------------------------------- write_example


def test_write_example_creates_loadable_file(tmp_path: Path) -> None:
    target = tmp_path / "new" / "dir" / "curator.yml"
    assert write_example(target) == target
    assert target.read_text(encoding="utf-8") == example_config()
    config = load_config(target, env={})
    assert config.content.remote == str((target.parent / "content-repo").resolve())


def test_write_example_refuses_to_overwrite(tmp_path: Path) -> None:
    target = write(tmp_path, "# my edited config\n")
    with pytest.raises(ConfigError, match="already exists; not overwriting") as caught:
        write_example(target)
    assert str(caught.value).startswith(str(target))
    assert target.read_text(encoding="utf-8") == "# my edited config\n"


def test_write_example_force_overwrites(tmp_path: Path) -> None:
    target = write(tmp_path, "# my edited config\n")
    write_example(target, force=True)
    assert target.read_text(encoding="utf-8") == example_config()


def test_write_example_refuses_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        write_example(tmp_path, force=True)


def test_every_section_model_refuses_unknown_keys_and_is_frozen() -> None:
    from bot.config import models

    sections = [
        m for m in vars(models).values() if isinstance(m, type) and issubclass(m, models.Section)
    ]
    assert len(sections) >= 8
    for model in sections:
        assert model.model_config.get("extra") == "forbid", model
        assert model.model_config.get("frozen") and model.model_config.get("strict"), model


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("content.remote", "~no-such-user-here/content", "'~no-such-user-here' names no user"),
        ("content.remote", "content\x00", "must not contain a NUL byte"),
        ("content.checkout", "~no-such-user-here/clone", "'~no-such-user-here' names no user"),
        ("content.checkout", "clone\x00", "must not contain a NUL byte"),
        ("database", "sqlite:///~no-such-user-here/c.db", "'~no-such-user-here' names no user"),
        ("database", "sqlite:///c\x00.db", "must not contain a NUL byte"),
    ],
)
def test_a_path_the_loader_cannot_make_absolute_is_a_config_error(
    tmp_path: Path, key: str, value: str, says: str
) -> None:
    """Found by Hypothesis: these raised RuntimeError / ValueError out of Path.expanduser and
    Path.resolve instead of naming the key."""
    error = one_error(tmp_path, merged({key: value}))
    assert error.startswith(f"{tmp_path / 'curator.yml'}: {key}: "), error
    assert says in error


def test_the_files_defaults_are_the_settings_defaults(tmp_path: Path) -> None:
    """Defaults are written twice, in the file's models and in the settings the bot runs on
    (tests and code build those directly): a file that sets only what it must gives exactly
    the settings built with only what they need."""
    loaded = build(tmp_path)
    direct = Config(
        path=loaded.path,
        content=ContentConfig(remote=loaded.content.remote, checkout=loaded.content.checkout),
        slack=SlackConfig(channel=loaded.slack.channel, editors=loaded.slack.editors),
        database_url=loaded.database_url,
        warnings=loaded.warnings,
    )
    assert loaded == direct
    for section in ("content", "slack", "votes", "candidates", "schedule", "fields"):
        assert getattr(loaded, section) == getattr(direct, section), section
    assert dict(loaded.schedule.grace) == dict(direct.schedule.grace)
    assert dict(loaded.content.set_on_publish) == dict(direct.content.set_on_publish)
