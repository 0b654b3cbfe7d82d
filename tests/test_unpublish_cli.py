"""``curator unpublish PATH|URL`` and the publish run that takes articles back (issue 12,
point 4), against a bare remote and clones, on SQLite and PostgreSQL: byte-exact for either
flag style, one commit with ``Unpublished-by:`` trailers naming the operator, one-line errors,
and a run killed at any stage finished by the next, like publishing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from bot.cli.context import Context
from bot.cli.publish import unpublish as unpublish_command
from bot.publishing.job import publish_approved
from storage.fields import FieldMap
from storage.gitrepo import ContentRepo
from storage.models import Article, PostStatus, PostUnpublish
from storage.unpublish import queue_unpublish
from tests.helpers import Newsroom, article
from tests.publish_crash_runner import config as runner_config
from tests.test_publish import (
    NOW,
    approve,
    curator_commits,
    make_config,
    posts,
    run_job,
    show,
    tip,
)
from tests.test_publish_crash import run_killed


def config_file(tmp_path: Path, newsroom: Newsroom) -> Path:
    path = tmp_path / "curator.yml"
    path.write_text(
        f"content:\n  remote: {newsroom.remote}\n  checkout: {tmp_path / 'clone.git'}\n"
        '  author: "Curator Bot <curator@newsroom.example>"\n'
        'slack:\n  channel: "#curation"\n  editors: [U0ANN]\n'
    )
    return path


def test_curator_unpublish_by_path_and_by_url(
    engine: Engine, db_url: str, newsroom: Newsroom, tmp_path: Path, monkeypatch
):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    conf = config_file(tmp_path, newsroom)
    for name in ("a", "b", "c"):
        newsroom.write(f"news/{name}.md", article(name.upper(), published=name != "c"))
    newsroom.commit()
    for name in ("a", "b"):
        approve(engine, f"news/{name}.md", status=PostStatus.PUBLISHED)
    approve(engine, "news/c.md")  # approved, not published yet
    with engine.begin() as conn:
        conn.execute(
            update(Article.__table__)
            .where(Article.__table__.c.path == "news/b.md")
            .values(url="https://example.org/b", published=True)
        )
    before = {p: show(newsroom, f"news/{p}.md") for p in ("a", "b")}
    runner = CliRunner()

    def unpublish(*args: str, user: str = "ops-bob") -> tuple[int, str]:
        monkeypatch.setenv("USER", user)
        got = runner.invoke(unpublish_command, list(args), obj=Context(conf))
        return got.exit_code, got.output

    code, out = unpublish("news/a.md", "--by", "Ann Ops")
    assert code == 0 and out.startswith("queued: news/a.md is unpublished by the next publish")
    code, out = unpublish("https://example.org/b")  # by URL, the operator from $USER
    assert code == 0 and out.startswith("queued: news/b.md"), out
    assert {p: r.status for p, r in posts(engine).items()} == {
        "news/a.md": "unpublishing", "news/b.md": "unpublishing", "news/c.md": "approved",
    }  # fmt: skip
    # Asking twice, or for what is not live, or for nothing known: one line each.
    assert unpublish("news/a.md") == (
        0,
        "news/a.md is already queued to be unpublished; nothing to do\n",
    )
    code, out = unpublish("news/c.md")
    assert code == 1 and out == (
        "Error: news/c.md is not published (its card is approved): nothing to unpublish\n"
    )
    for unknown in ("news/nope.md", "https://example.org/nope"):
        code, out = unpublish(unknown)
        assert code == 1 and len(out.splitlines()) == 1, out
        assert out.startswith(f"Error: no article with path or URL '{unknown}'")

    # The next run takes both back in one commit; c (approved) is published in it too.
    config = make_config(newsroom, tmp_path / "clone.git", db_url)
    repo = ContentRepo(tmp_path / "clone.git", config.content.remote, config.content.branch)
    report = run_job(engine, repo, config)
    [sha] = curator_commits(newsroom)
    assert report.commit_sha == sha == tip(newsroom)
    for name in ("a", "b"):
        flipped = before[name].replace(b"published: true", b"published: false")
        assert show(newsroom, f"news/{name}.md") == flipped
    message = show_message(newsroom, sha)
    assert message.startswith("Publish 1 article approved in Slack, unpublish 2 articles\n")
    assert [line for line in message.splitlines() if line.startswith("Unpublished-by:")] == [
        "Unpublished-by: Ann Ops (curator unpublish)",
        "Unpublished-by: ops-bob (curator unpublish)",
    ]
    assert {p: (r.status, r.commit_sha) for p, r in posts(engine).items()} == {
        "news/a.md": ("unpublished", sha), "news/b.md": ("unpublished", sha),
        "news/c.md": ("published", sha),
    }  # fmt: skip
    assert unpublish("news/a.md") == (0, "news/a.md was unpublished already; nothing to do\n")


def show_message(newsroom: Newsroom, sha: str) -> str:
    from tests.test_publish import remote

    return remote(newsroom, "log", "-1", "--format=%B", sha)


DRAFT = b"---\r\ntitle: 'Hugo story'  # kept\r\ndraft: false\r\ntags: [a]\r\n---\r\nBody\r\n"


def test_a_draft_style_repo_gets_draft_true_back_and_nothing_else(
    engine: Engine, db_url: str, newsroom: Newsroom, tmp_path: Path
):
    newsroom.write("content/post.md", DRAFT)
    newsroom.write("content/no-key.md", b"---\ntitle: Live by default\n---\nText\n")
    newsroom.commit()
    ids = [
        approve(engine, p, status=PostStatus.PUBLISHED)
        for p in ("content/post.md", "content/no-key.md")
    ]
    for post_id in ids:
        assert queue_unpublish(engine, post_id=post_id, by="ops", now=NOW)
    config = make_config(newsroom, tmp_path / "clone.git", db_url)
    from dataclasses import replace

    config = replace(config, fields=FieldMap(flag="draft", flag_style="draft"))
    repo = ContentRepo(tmp_path / "clone.git", config.content.remote, config.content.branch)
    run_job(engine, repo, config)
    assert show(newsroom, "content/post.md") == DRAFT.replace(b"draft: false", b"draft: true")
    assert (
        show(newsroom, "content/no-key.md")
        == b"---\ntitle: Live by default\ndraft: true\n---\nText\n"
    )
    assert {r.status for r in posts(engine).values()} == {"unpublished"}


@pytest.mark.parametrize("stage", ["before-push", "after-push", "mid-record"])
def test_an_interrupted_unpublish_run_is_finished_by_the_next(
    stage: str, engine: Engine, db_url: str, newsroom: Newsroom, tmp_path: Path
):
    newsroom.write("news/live.md", article("Live", published=True))
    newsroom.write("news/new.md", article("New"))
    base = newsroom.commit()
    live = show(newsroom, "news/live.md")
    down = approve(engine, "news/live.md", status=PostStatus.PUBLISHED)
    assert queue_unpublish(engine, post_id=down, by="ops", now=NOW)
    approve(engine, "news/new.md")
    checkout = tmp_path / "bot-clone.git"

    run_killed(db_url, newsroom, checkout, stage)
    assert (tip(newsroom) != base) == (stage != "before-push")
    assert posts(engine)["news/live.md"].status == "unpublishing"

    cfg = runner_config(db_url, str(newsroom.remote), checkout)
    repo = ContentRepo(checkout, cfg.content.remote, cfg.content.branch)
    report = publish_approved(engine, repo, cfg, now=NOW)
    [sha] = curator_commits(newsroom)  # exactly one commit, whoever pushed it
    assert show(newsroom, "news/live.md") == live.replace(b"published: true", b"published: false")
    got = posts(engine)
    assert (got["news/live.md"].status, got["news/live.md"].commit_sha) == ("unpublished", sha)
    assert (got["news/new.md"].status, got["news/new.md"].commit_sha) == ("published", sha)
    assert {p.outcome for p in report.posts} == {"published", "unpublished"}
    assert all(p.recovered for p in report.posts) == (stage != "before-push")
    with engine.connect() as conn:
        left = conn.scalar(select(PostUnpublish.__table__.c.blob_sha))
    assert left == repo.git("rev-parse", f"{sha}:news/live.md").decode().strip()
    again = publish_approved(engine, repo, cfg, now=NOW)
    assert again.posts == () and curator_commits(newsroom) == [sha]


def test_the_keys_defaults_per_desk_and_one_meaning_per_reaction(tmp_path: Path):
    from bot.config import ConfigError, config_from_mapping
    from bot.house_rules import vote_rules

    base = {
        "content": {"remote": "/srv/news.git"},
        "slack": {"channel": "#c", "editors": ["U0EDITOR1"]},
    }
    config = config_from_mapping(base, path=tmp_path / "c.yml", env={})
    rules = vote_rules(config.default_desk)
    assert (rules.unpublish, rules.veto, rules.chiefs) == ({"rewind"}, frozenset(), frozenset())
    desks = {
        **base,
        "slack": {"channel": "#c", "editors": ["U0EDITOR1"], "chiefs": ["U0CHIEF9"]},
        "votes": {"veto": ["no_entry"]},
        "desks": [
            {
                "name": "AI",
                "channel": "#ai",
                "topics": ["AI"],
                "chiefs": ["U0CHIEF7"],
                "veto": ["stop"],
            },
            {"name": "General", "channel": "#general", "unpublish": ["back"]},
        ],
    }
    config = config_from_mapping(desks, path=tmp_path / "c.yml", env={})
    ai, general = (vote_rules(d) for d in config.desks)
    assert (ai.veto, ai.chiefs, ai.unpublish) == ({"stop"}, {"U0CHIEF7"}, {"rewind"})
    assert (general.veto, general.chiefs, general.unpublish) == (
        {"no_entry"},
        {"U0CHIEF9"},
        {"back"},
    )
    clash = {**base, "votes": {"reject": ["x"], "veto": ["x"]}}
    with pytest.raises(ConfigError, match=r"x is in both votes\.reject and votes\.veto"):
        config_from_mapping(clash, path=tmp_path / "c.yml", env={})
