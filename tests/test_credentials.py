"""Credentials in curator.yml are refused wherever they are, and hidden wherever they show up.

Issue 9: a token in ``content.set_on_publish`` was committed and pushed, one in
``content.commit_url`` printed to stdout; only a few keys were checked. Now every string of the
file is, and the scrubber behind the logs and the command's output knows the same shapes.
"""

from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli.output import ScrubbedStream
from bot.config import ConfigError, config_from_mapping, example_config
from storage.credentials import environment_secrets, find_credential, find_credentials, scrub

MARK = "DoNotLeak0123456789abcdef"  # inside every sample: no error may contain it

# One sample of every shape, with what the error must call it and where it says it belongs.
SAMPLES = [
    (f"xoxb-1234-5678-{MARK}", "a Slack token", "SLACK_BOT_TOKEN"),
    (f"xoxp-1234-5678-{MARK}", "a Slack token", "SLACK_BOT_TOKEN"),
    (f"xoxa-2-{MARK}", "a Slack token", "SLACK_BOT_TOKEN"),
    (f"xoxr-{MARK}", "a Slack token", "SLACK_BOT_TOKEN"),
    (f"xoxs-{MARK}", "a Slack token", "SLACK_BOT_TOKEN"),
    (f"xoxo-{MARK}", "a Slack token", "SLACK_BOT_TOKEN"),
    (f"xoxc-{MARK}", "a Slack token", "SLACK_BOT_TOKEN"),
    (f"xoxe.xoxp-1-{MARK}", "a Slack configuration or refresh token", "SLACK_BOT_TOKEN"),
    (f"xoxe-1-{MARK}", "a Slack configuration or refresh token", "SLACK_BOT_TOKEN"),
    (f"xapp-1-A0123-{MARK}", "a Slack app-level token", "SLACK_APP_TOKEN"),
    (f"https://hooks.slack.com/services/T0/B0/{MARK}", "a Slack webhook URL", "SLACK_BOT_TOKEN"),
    (f"ghp_{MARK}", "a GitHub token", "credential helper"),
    (f"gho_{MARK}", "a GitHub token", "credential helper"),
    (f"ghu_{MARK}", "a GitHub token", "credential helper"),
    (f"ghs_{MARK}", "a GitHub token", "credential helper"),
    (f"ghr_{MARK}", "a GitHub token", "credential helper"),
    (f"github_pat_11ABC_{MARK}", "a GitHub token", "credential helper"),
    (f"glpat-{MARK}", "a GitLab token", "credential helper"),
    (f"gldt-{MARK}", "a GitLab token", "credential helper"),
    (f"ATBB{MARK}", "a Bitbucket or Atlassian token", "credential helper"),
    (f"ATATT3x{MARK}", "a Bitbucket or Atlassian token", "credential helper"),
    ("AKIADONOTLEAK0123456", "an AWS access key", "environment"),
    (f"-----BEGIN OPENSSH PRIVATE KEY-----\n{MARK}\n", "a private key", "~/.ssh"),
    (f"https://bot:{MARK}@git.example/newsroom/content.git", "a password or token in a URL",
     "credential helper"),
    (f"https://oauth2:glpat-{MARK}@gitlab.example/x.git", "a password or token in a URL",
     "credential helper"),
    (f"postgresql://db.example/curator?sslmode=require&password={MARK}",
     "a password in a URL ('password=')", "credential helper"),
    (f"https://{MARK}@github.com/newsroom/content.git", "a token as a URL's user name",
     "credential helper"),
    (f"keyxoxb-1234-5678-{MARK}", "a Slack token", "SLACK_BOT_TOKEN"),  # glued to a word
    (f"aws_secret_access_key = {MARK}AB", "an AWS secret access key", "environment"),
    (f"npm_{MARK}0123456789", "an npm token", "environment"),
    (f"sk-proj-{MARK}", "an API secret key", "environment"),
    (f"sk_live_{MARK}", "an API secret key", "environment"),
    (f"AIzaSy{MARK}01234567", "a Google API key", "environment"),
    (f"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.{MARK}", "a signed token (JWT)",
     "environment"),
]  # fmt: skip


def _leaks(text: str) -> bool:
    return MARK.lower() in text.lower() or "DONOTLEAK01234" in text


def _paths(value: Any, path: str = "") -> list[str]:
    """Every leaf of the example config, list items included."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _paths(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _paths(v, f"{path}[{i}]")] or [f"{path}[0]"]
    return [path]


EXAMPLE = yaml.safe_load(example_config())
# Every key of the example, plus the ones it leaves empty or commented out.
PATHS = sorted(
    {
        *_paths(EXAMPLE),
        "content.set_on_publish.note",
        "content.commit_url",
        "slack.editor_group",
        "database",
    }
)


def _with(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(EXAMPLE)
    *parents, leaf = path.replace("[", ".[").split(".")
    node: Any = data
    for part in parents:
        if part.startswith("["):
            node = node[int(part[1:-1])]
        else:
            if not isinstance(node.get(part), dict | list):
                node[part] = {}
            node = node[part]
    if leaf.startswith("["):
        index = int(leaf[1:-1])
        if len(node) <= index:
            node.append(value)
        else:
            node[index] = value
    else:
        node[leaf] = value
    return data


def _errors(data: Any, tmp_path: Path) -> list[str]:
    try:
        config = config_from_mapping(data, path=tmp_path / "curator.yml", env={})
    except ConfigError as exc:
        return exc.errors
    return list(config.warnings)


def test_every_key_of_the_example_config_refuses_every_kind_of_credential(tmp_path: Path):
    assert len(PATHS) > 40 and "content.set_on_publish.note" in PATHS
    label = tmp_path / "curator.yml"
    for path in PATHS:
        for token, kind, home in SAMPLES:
            errors = _errors(_with(path, token), tmp_path)
            assert len(errors) == 1, (path, kind, errors)
            (error,) = errors
            assert error.startswith(f"{label}: {path}: holds {kind}"), (path, error)
            if path == "database" and kind.startswith("a password"):  # either kind
                home = "DATABASE_URL"
            assert "(not shown)" in error and home in error, (path, error)
            assert not _leaks(error), (path, error)


@settings(max_examples=150, deadline=None)
@given(
    path=st.sampled_from(PATHS),
    sample=st.sampled_from(SAMPLES),
    before=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12).map(
        lambda s: s + " " if s else s
    ),
    after=st.text(max_size=12).map(lambda s: " " + s if s else s),
)
def test_a_credential_inside_any_text_is_found_and_never_repeated(
    tmp_path_factory: pytest.TempPathFactory, path: str, sample: tuple[str, str, str],
    before: str, after: str,
):  # fmt: skip
    token, kind, _ = sample
    tmp_path = tmp_path_factory.getbasetemp()
    errors = _errors(_with(path, before + token + after), tmp_path)
    assert any(f": {path}: holds {kind}" in e for e in errors), errors
    assert not any(_leaks(e) for e in errors), errors


@pytest.mark.parametrize(("token", "kind", "home"), SAMPLES[:3] + SAMPLES[11:12])
def test_a_credential_as_a_key_is_refused_without_naming_the_key(
    tmp_path: Path, token: str, kind: str, home: str
):
    data = _with("content.set_on_publish", {token: "{approvers}"})
    (error,) = _errors(data, tmp_path)
    assert f": content.set_on_publish: a key here holds {kind}" in error
    assert not _leaks(error)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("slack.channel", f"xoxb-1-{MARK}"),  # "did you mean '#xoxb-...'" before
        ("timezone", f"xoxb-1-{MARK}"),  # would suggest a zone name close to it
        ("votes.publish", [f"ghp_{MARK}", "white_check_mark"]),
        ("content.commit_url", f"https://ci:{MARK}@git.example/c/{{sha}}"),  # printed before
        ("content.set_on_publish.note", f"approved by xoxb-1-{MARK}"),  # committed before
        ("content.author", f"Bot <bot@example.org> xoxb-1-{MARK}"),
        ("fields.title", f"glpat-{MARK}"),
    ],
)
def test_issue_cases_get_one_error_and_no_suggestion(tmp_path: Path, path: str, value: Any):
    (error,) = _errors(_with(path, value), tmp_path)
    assert "did you mean" not in error and not _leaks(error)
    assert ": holds " in error


@pytest.mark.parametrize(
    "value",
    [
        "git@github.com:newsroom/content.git",  # a bare user@ for ssh is fine
        "ssh://git@git.example:2222/newsroom/content.git",
        "https://github.com/newsroom/content.git",
        "https://github.com/newsroom/content/commit/{sha}",
        "postgresql://curator@db.example/curator",
        "ghp_short",
        "DEADBEEFAKIA0123456789ABCDEF",
    ],
)
def test_ordinary_values_are_not_credentials(value: str):
    assert find_credential(value) is None
    assert scrub(value) == value or "@" in value


def test_find_credentials_walks_keys_values_and_list_items():
    data = {"a": {"b": [1, "x", {"c": "xoxb-1-abc"}], "xapp-1-key": 2}, "d": None}
    found = [(f.path, f.in_key) for f in find_credentials(data)]
    assert found == [("a.b[2].c", False), ("a", True)]


def test_scrub_hides_shapes_userinfo_and_known_values():
    text = (
        f"ghp_{MARK} and xoxb-1-2-{MARK} in https://bot:{MARK}@git.example/x.git; "
        "the signing secret 8f14e45fceea167a5a36dedd4bea2543 and pw hunter2hunter2"
    )
    secrets = environment_secrets(
        {
            "SLACK_SIGNING_SECRET": "8f14e45fceea167a5a36dedd4bea2543",
            "DATABASE_URL": "postgresql://curator:hunter2hunter2@db/curator?password=pw2pw2pw",
            "HOME": "/root",
            "DEBUG_TOKEN": "1",  # too short to be worth blanking out words
        }
    )
    out = scrub(text, secrets)
    assert not _leaks(out) and "8f14e45f" not in out and "hunter2" not in out
    assert scrub("postgresql://db/c?password=pw2pw2pw&x=1") == "postgresql://db/c?password=***&x=1"
    assert "pw2pw2pw" in secrets
    assert "https://bot:***@git.example/x.git" in out and "/root" not in secrets


def test_scrubbed_stream_sees_a_secret_split_over_writes():
    under = io.StringIO()
    stream = ScrubbedStream(under, lambda text: scrub(text, ["hunter2hunter2"]))
    stream.write("pw hunter2")
    stream.write("hunter2 and xoxb-1-")
    assert under.getvalue() == ""  # held until the line ends
    stream.write(f"{MARK}\npartial ghp_{MARK}")
    assert under.getvalue() == "pw *** and ***\n"
    stream.flush()
    assert under.getvalue() == "pw *** and ***\npartial ***"
    with pytest.raises(TypeError):
        stream.write(b"bytes")  # type: ignore[arg-type]
    click.echo(f"echo xapp-1-{MARK}", file=stream)  # click writes text to it, not around it
    assert under.getvalue().endswith("echo ***\n")


@pytest.mark.parametrize("sample", [s for s, _, _ in SAMPLES])
def test_git_errors_and_database_urls_hide_every_shape_the_scrubber_hides(sample, tmp_path):
    """Issue 9 review: storage had weaker hiders of its own (URL userinfo only), so a git
    error quoting a path with a token, or ``?password=`` in a database URL, showed it."""
    from storage.db import redacted
    from storage.git_command import GitError
    from storage.gitrepo import ContentRepo

    assert _leaks(sample) and not _leaks(scrub(sample))
    repo = ContentRepo(tmp_path / "c.git", f"file://{tmp_path}/gone/{sample}", "main")
    with pytest.raises(GitError) as info:
        repo.fetch()  # git quotes the remote it could not read
    assert str(info.value).startswith("cannot fetch main from ") and not _leaks(str(info.value))
    for url in (sample, f"postgresql://curator@db.example/curator?application_name={sample}"):
        assert not _leaks(redacted(url)), redacted(url)


def test_a_database_url_shows_its_user_and_host_but_no_password():
    from storage.db import redacted

    assert redacted("postgresql://u@h/db?password=hunter2x") == (
        "postgresql+psycopg://u@h/db?password=***"
    )
    assert redacted("postgres://curator:hunter2x@db:5432/c") == (
        "postgresql+psycopg://curator:***@db:5432/c"
    )


def test_a_short_database_password_is_hidden_in_urls_only():
    """Issue 9 review: DATABASE_URL's password 'news' was hidden as a raw substring, so
    "newsroom ... 3 news articles" read "***room ... 3 *** articles"."""
    secrets = environment_secrets({"DATABASE_URL": "postgresql://curator:news@db/curator"})
    assert secrets == []
    line = "newsroom: 3 news articles, https://newsroom.example/news"
    assert scrub(line, secrets) == line
    assert scrub("postgresql://curator:news@db/curator", secrets) == (
        "postgresql://curator:***@db/curator"
    )
    assert scrub("postgresql://db/curator?password=news&x=1", secrets) == (
        "postgresql://db/curator?password=***&x=1"
    )
    long = environment_secrets({"DATABASE_URL": "postgresql://curator:newsdesk1@db/curator"})
    assert scrub("echo newsdesk1", long) == "echo ***"  # long enough to hide anywhere
