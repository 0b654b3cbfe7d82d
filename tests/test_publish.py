"""Publishing to a real bare remote while a writer's clone commits concurrently."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

import storage.publish_commit.attempt
import storage.publish_commit.planning
from bot.cli.context import Context
from bot.cli.publish import publish as publish_command
from bot.config import Config, ContentConfig, SlackConfig
from bot.publishing.job import publish_approved
from bot.publishing.message import check_templates
from bot.publishing.report import PublishReport
from storage import frontmatter
from storage.fields import FieldMap
from storage.git_command import GitError
from storage.gitrepo import ContentRepo
from storage.models import (
    Article,
    Decision,
    Post,
    PostStatus,
    PublishBatch,
    PublishCommit,
    PublishHold,
    Vote,
)
from storage.publish_commit import (
    Author,
    Edit,
    Outcome,
    PublishResult,
    PushRejected,
    edit_all,
    find_pushed,
)
from tests.conftest import SAMPLE
from tests.helpers import Newsroom, article, git, publish

NOW = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)
AUTHOR = Author("Curator Bot", "curator@newsroom.example")
FIELDS = FieldMap()
NAMES = {"U0ANN": "Ann Editor", "U0BOB": "Bob <Desk>"}


# ------------------------------------------------------------------------------------ helpers


def make_config(
    newsroom: Newsroom, checkout: Path, db_url: str = "sqlite://", **content: object
) -> Config:
    return Config(
        content=ContentConfig(
            remote=str(newsroom.remote),
            checkout=checkout,
            branch=newsroom.branch,
            author_name=AUTHOR.name,
            author_email=AUTHOR.email,
            commit_url="https://git.example/content/commit/{sha}",
            **content,  # type: ignore[arg-type]
        ),
        slack=SlackConfig(channel="C0CURATION"),
        database_url=db_url,
    )


def approve(
    engine: Engine,
    path: str,
    *,
    title: str | None = None,
    voters: Sequence[str] = ("U0ANN", "U0BOB"),
    status: str = PostStatus.APPROVED,
) -> int:
    """An article row, its candidate post (approved) and the editors' publish votes."""
    with engine.begin() as conn:
        article_id = conn.execute(
            insert(Article.__table__).values(
                path=path, blob_sha="0" * 40, title=title or path, published=False
            )
        ).inserted_primary_key[0]
        post_id = conn.execute(
            insert(Post.__table__).values(
                article_id=article_id,
                channel="C0CURATION",
                ts=f"1764000000.{article_id:06d}",
                permalink=f"https://newsroom.slack.com/archives/C0CURATION/p{article_id}",
                day="2026-11-26",
                status=status,
            )
        ).inserted_primary_key[0]
        for i, user in enumerate(voters):
            conn.execute(
                insert(Vote.__table__).values(
                    post_id=post_id, user_id=user, reaction="white_check_mark",
                    choice="publish", present=True, event_ts=f"1764000100.{i:06d}",
                )
            )  # fmt: skip
    return int(post_id)


def posts(engine: Engine) -> dict[str, Post]:
    a, p = Article.__table__, Post.__table__
    q = select(p, a.c.path).join(a, a.c.id == p.c.article_id)
    with engine.connect() as conn:
        return {r.path: r for r in conn.execute(q)}


def count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model.__table__)).scalar_one()


def remote(newsroom: Newsroom, *args: str) -> str:
    return git(*args, cwd=newsroom.remote)


def tip(newsroom: Newsroom) -> str:
    return remote(newsroom, "rev-parse", newsroom.branch)


def raw(newsroom: Newsroom, *args: str) -> bytes:
    """Git's output as bytes: CRLF stays CRLF."""
    return subprocess.run(
        ["git", *args], cwd=newsroom.remote, check=True, capture_output=True
    ).stdout


def show(newsroom: Newsroom, path: str) -> bytes:
    return raw(newsroom, "cat-file", "blob", f"{newsroom.branch}:{path}")


def catch_up(newsroom: Newsroom) -> None:
    """The writer pulls what the bot pushed before committing again."""
    git("pull", "--quiet", "--ff-only", "origin", newsroom.branch, cwd=newsroom.work)


def curator_commits(newsroom: Newsroom, path: str | None = None) -> list[str]:
    args = ["log", "--format=%H", f"--author={AUTHOR.email}", newsroom.branch]
    return remote(newsroom, *args, *(["--", path] if path else [])).split()


def run_job(engine: Engine, repo: ContentRepo, config: Config, **kw: object) -> PublishReport:
    return publish_approved(
        engine,
        repo,
        config,
        now=NOW,
        approver_names=NAMES,
        backoff=0,
        **kw,  # type: ignore[arg-type]
    )


def message_of(results: Sequence[object]) -> str:
    edited = [r for r in results if r.outcome is Outcome.EDITED]  # type: ignore[attr-defined]
    return f"Publish {len(edited)} articles\n\nCurator-Batch: test\n"


def pub(
    repo: ContentRepo,
    paths: Sequence[str],
    *,
    before_push: Callable[[str, str], None] | None = None,
    attempts: int = 5,
    **kw: object,
) -> PublishResult:
    """storage's publish, as the bot takes its steps (``before_push``: see helpers)."""
    return publish(
        repo, [Edit(p) for p in paths], fields=FIELDS, author=AUTHOR, message=message_of,
        backoff=0, attempts=attempts, before_push=before_push, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


# ------------------------------------------------------------------------ the commit itself


def test_one_commit_with_only_the_approved_files(
    engine: Engine, newsroom: Newsroom, content_repo: ContentRepo, tmp_path: Path
):
    newsroom.write("news/2021/04/nlc-facial-recognition.md", SAMPLE.read_bytes())
    newsroom.write("news/b.md", article("Beta"))
    newsroom.write("news/c.md", article("Gamma"))  # not approved: untouched
    newsroom.write("news/live.md", article("Live", published=True))
    before = newsroom.commit("collect")
    approve(engine, "news/2021/04/nlc-facial-recognition.md", title="Facial recognition")
    approve(engine, "news/b.md", title="Beta", voters=("U0BOB", "U0CAROL"))
    config = make_config(newsroom, content_repo.git_dir)

    report = run_job(engine, content_repo, config)

    sha = tip(newsroom)
    assert report.commit_sha == sha
    assert report.commit_url == f"https://git.example/content/commit/{sha}"
    assert report.summary() == (
        f"published 2, already published 0, missing 0, refused 0, commit {sha[:12]}"
    )
    assert remote(newsroom, "rev-parse", f"{sha}^") == before
    stat = remote(newsroom, "show", "--format=", "--numstat", sha).splitlines()
    assert stat == ["1\t1\tnews/2021/04/nlc-facial-recognition.md", "1\t1\tnews/b.md"]
    assert remote(newsroom, "show", "-s", "--format=%an <%ae>|%cn <%ce>", sha) == (
        "Curator Bot <curator@newsroom.example>|Curator Bot <curator@newsroom.example>"
    )
    new = show(newsroom, "news/2021/04/nlc-facial-recognition.md")
    assert new == SAMPLE.read_bytes().replace(b"published: false", b"published: true", 1)

    message = remote(newsroom, "log", "-1", "--format=%B", sha)
    assert message.splitlines()[0] == "Publish 2 articles approved in Slack"
    assert "- Facial recognition\n  news/2021/04/nlc-facial-recognition.md" in message
    trailers = remote(newsroom, "log", "-1", "--format=%(trailers:only,unfold)", sha).splitlines()
    assert trailers[:3] == [
        "Approved-by: Ann Editor <U0ANN>",
        "Approved-by: Bob Desk <U0BOB>",
        "Approved-by: U0CAROL <U0CAROL>",  # no display name: the user id
    ]
    assert [t for t in trailers if t.startswith("Slack-Thread: ")] == [
        f"Slack-Thread: {p.permalink}" for p in report.posts
    ]
    assert trailers[-1].startswith("Curator-Batch: ")

    got = posts(engine)
    for path in ("news/2021/04/nlc-facial-recognition.md", "news/b.md"):
        assert (got[path].status, got[path].commit_sha) == (PostStatus.PUBLISHED, sha)
    assert [p.outcome for p in report.posts] == ["published", "published"]
    assert {p.commit_sha for p in report.posts} == {sha}
    assert report.posts[1].approvers == ("Bob Desk", "U0CAROL")
    with engine.connect() as conn:
        decisions = conn.execute(select(Decision.__table__)).all()
        commit_row = conn.execute(select(PublishCommit.__table__)).one()
        batch = conn.execute(select(PublishBatch.__table__)).one()
        flags = conn.execute(select(Article.__table__.c.published)).scalars().all()
    assert {(d.from_status, d.to_status, d.cause) for d in decisions} == {
        ("approved", "published", f"commit {sha[:12]} pushed")
    }
    assert (commit_row.sha, commit_row.article_count) == (sha, 2)
    assert commit_row.message == message + "\n"
    assert (batch.state, batch.commit_sha, batch.base_sha) == ("pushed", sha, before)
    assert flags == [True, True]

    # Nothing approved any more: a second run does nothing at all.
    again = run_job(engine, content_repo, config)
    assert again.posts == () and again.commit_sha is None and tip(newsroom) == sha


FLAG_VARIANTS = {
    "sample": (SAMPLE.read_bytes(), b"published: false", b"published: true"),
    "crlf": (
        article("Windows").replace("\n", "\r\n").encode(),
        b"published: false\r",
        b"published: true\r",
    ),
    "commented": (
        article("Commented", published="false # not yet").encode(),
        b"published: false # not yet",
        b"published: true # not yet",
    ),
    "quoted key": (
        article("Quoted").replace("\npublished:", '\n"published":').encode(),
        b'"published": false',
        b'"published": true',
    ),
    "single-quoted key, padded": (
        article("Padded").replace("\npublished: false", "\n'published':   false  ").encode(),
        b"'published':   false  ",
        b"'published':   true  ",
    ),
    "yaml 1.1 no": (article("No", published="no").encode(), b"published: no", b"published: true"),
}


@pytest.mark.parametrize("variant", FLAG_VARIANTS)
def test_exactly_one_changed_line(variant: str, newsroom: Newsroom, content_repo: ContentRepo):
    data, old_line, new_line = FLAG_VARIANTS[variant]
    newsroom.write("news/x.md", data)
    newsroom.commit()
    result = pub(content_repo, ["news/x.md"])
    assert [a.outcome for a in result.articles] == [Outcome.EDITED]
    diff = raw(newsroom, "diff", "-U0", f"{result.commit}^", result.commit)
    changed = [ln for ln in diff.split(b"\n") if ln[:1] in b"+-" and ln[:3] not in b"+++---"]
    assert changed == [b"-" + old_line, b"+" + new_line]
    assert show(newsroom, "news/x.md") == data.replace(old_line, new_line, 1)


def test_missing_flag_is_one_added_line(newsroom: Newsroom, content_repo: ContentRepo):
    data = article("No flag").replace("published: false\n", "")
    newsroom.write("news/x.md", data)
    newsroom.commit()
    result = pub(content_repo, ["news/x.md"])
    assert remote(newsroom, "show", "--format=", "--numstat", result.commit) == "1\t0\tnews/x.md"
    assert frontmatter.parse(show(newsroom, "news/x.md"))["published"] is True


def test_set_on_publish_templates_and_dry_run_change_nothing(
    engine: Engine, newsroom: Newsroom, content_repo: ContentRepo
):
    newsroom.write("news/a.md", article("Alpha"))
    newsroom.write("news/b.md", article("Beta"))
    before = newsroom.commit()
    approve(engine, "news/a.md", title="Alpha")
    approve(engine, "news/b.md", title="Beta", voters=("U0BOB",))
    config = make_config(
        newsroom, content_repo.git_dir,
        set_on_publish={"approved_by": "{approvers}", "approved_on": "{date}"},
    )  # fmt: skip
    content_repo.fetch()
    objects = git("count-objects", "-v", cwd=content_repo.git_dir)

    dry = run_job(engine, content_repo, config, dry_run=True)
    assert dry.dry_run and dry.commit_sha is None
    assert dry.summary() == (
        "dry run: would publish 2 in one commit, already published 0, missing 0, refused 0; "
        "nothing changed"
    )
    assert "-published: false\n+published: true\n" in dry.diff
    assert "+approved_by: Ann Editor, Bob Desk\n" in dry.diff
    assert '+approved_on: "2026-11-26"\n' in dry.diff  # quoted: plain would read as a date
    assert dry.diff.count("diff --git a/") == 2
    assert dry.message.startswith("Publish 2 articles approved in Slack\n")
    assert "Curator-Batch: " in dry.message
    # Nothing written: not the remote, not the bot's object store, not the database.
    assert tip(newsroom) == before
    assert git("count-objects", "-v", cwd=content_repo.git_dir) == objects
    assert {p.status for p in posts(engine).values()} == {PostStatus.APPROVED}
    assert count(engine, Decision) == count(engine, PublishBatch) == 0

    report = run_job(engine, content_repo, config)
    assert report.count("published") == 2
    got = frontmatter.parse(show(newsroom, "news/b.md"))
    assert (got["published"], got["approved_by"], got["approved_on"]) == (
        True, "Bob Desk", "2026-11-26",
    )  # fmt: skip
    assert remote(newsroom, "show", "--format=", "--numstat", report.commit_sha).splitlines() == [
        "3\t1\tnews/a.md",
        "3\t1\tnews/b.md",
    ]


def test_bad_template_is_refused_before_anything(
    engine: Engine, newsroom: Newsroom, content_repo: ContentRepo
):
    unknown = r"set_on_publish\.by: cannot fill '\{who\}': unknown placeholder \{who\}"
    with pytest.raises(ValueError, match=unknown):
        check_templates({"by": "{who}"})
    with pytest.raises(ValueError, match=r"set_on_publish\.on: cannot fill"):
        check_templates({"on": "{date"})
    newsroom.write("news/a.md", article("Alpha"))
    newsroom.commit()
    approve(engine, "news/a.md")
    config = make_config(newsroom, content_repo.git_dir, set_on_publish={"x": "{nope}"})
    with pytest.raises(ValueError):
        run_job(engine, content_repo, config)
    assert count(engine, PublishBatch) == 0


# --------------------------------------------------------------------- a remote that moves on


def test_push_is_retried_on_a_new_tip_and_articles_rechecked(
    newsroom: Newsroom, content_repo: ContentRepo
):
    for name in ("a", "b", "c"):
        newsroom.write(f"news/{name}.md", article(name.upper()))
    newsroom.commit()
    pushes: list[tuple[str, str]] = []

    def writer_races_us(commit: str, base: str) -> None:
        pushes.append((commit, base))
        if len(pushes) == 1:
            # Between our fetch and our push: the collector bumps a's heat, an editor
            # publishes b by hand, and somebody deletes c.
            newsroom.write("news/a.md", article("A", heat=7))
            newsroom.write("news/b.md", article("B", published=True))
            newsroom.remove("news/c.md")
            newsroom.commit("collector + hand edits")

    result = pub(content_repo, ["news/a.md", "news/b.md", "news/c.md"], before_push=writer_races_us)

    assert result.attempts == 2
    assert [p[1] for p in pushes][1] == remote(newsroom, "rev-parse", f"{newsroom.branch}^")
    assert result.commit == tip(newsroom)
    outcomes = {a.path: a.outcome for a in result.articles}
    assert outcomes == {
        "news/a.md": Outcome.EDITED,
        "news/b.md": Outcome.ALREADY,
        "news/c.md": Outcome.MISSING,
    }
    a = frontmatter.parse(show(newsroom, "news/a.md"))
    assert (a["published"], a["heat"]) == (True, 7)  # the writer's edit is kept
    assert remote(newsroom, "show", "--format=", "--numstat", result.commit) == "1\t1\tnews/a.md"
    assert result.message.startswith("Publish 1 articles")  # rebuilt for the new outcome


def test_gives_up_after_bounded_attempts(
    engine: Engine, newsroom: Newsroom, content_repo: ContentRepo, monkeypatch: pytest.MonkeyPatch
):
    newsroom.write("news/a.md", article("A"))
    newsroom.commit()
    approve(engine, "news/a.md")
    config = make_config(newsroom, content_repo.git_dir)
    n = 0

    def always_moving(commit: str, base: str) -> None:
        nonlocal n
        n += 1
        newsroom.write("other.txt", str(n))
        newsroom.commit()

    with pytest.raises(PushRejected, match="moved on before each of 3 attempts"):
        pub(content_repo, ["news/a.md"], before_push=always_moving, attempts=3)
    assert n == 3
    assert curator_commits(newsroom) == []

    # The job closes its batch as failed and keeps the post approved for the next run.
    real_push = storage.publish_commit.attempt.push_commit

    def push_after_the_writer(repo: ContentRepo, commit: str) -> bool:
        always_moving(commit, "")
        return real_push(repo, commit)

    monkeypatch.setattr(storage.publish_commit.attempt, "push_commit", push_after_the_writer)
    with pytest.raises(PushRejected):
        run_job(engine, content_repo, config, attempts=2)
    monkeypatch.undo()
    assert posts(engine)["news/a.md"].status == PostStatus.APPROVED
    with engine.connect() as conn:
        assert conn.execute(select(PublishBatch.__table__.c.state)).scalar_one() == "failed"
    assert run_job(engine, content_repo, config).count("published") == 1


# ----------------------------------------------------------- already, missing and refused


def test_published_by_hand_is_not_edited_again(
    engine: Engine, newsroom: Newsroom, content_repo: ContentRepo
):
    newsroom.write("news/a.md", article("A"))
    newsroom.commit()
    approve(engine, "news/a.md")
    newsroom.write("news/a.md", article("A", published=True))
    by_hand = newsroom.commit("publish A by hand")
    newsroom.write("news/a.md", article("A", published=True, heat=3))
    newsroom.commit("refresh heat")  # a later commit that does not touch the flag
    config = make_config(newsroom, content_repo.git_dir)

    report = run_job(engine, content_repo, config)

    assert report.commit_sha is None and curator_commits(newsroom) == []
    [post] = report.posts
    assert (post.outcome, post.status, post.commit_sha) == ("already", "published", by_hand)
    got = posts(engine)["news/a.md"]
    assert (got.status, got.commit_sha) == (PostStatus.PUBLISHED, by_hand)
    with engine.connect() as conn:
        cause = conn.execute(select(Decision.__table__.c.cause)).scalar_one()
    assert cause == f"already published on main by Writer in commit {by_hand[:12]}"
    assert report.summary() == ("published 0, already published 1, missing 0, refused 0, no commit")


def test_deleted_article_blocks_its_post_until_the_file_returns(
    engine: Engine, newsroom: Newsroom, content_repo: ContentRepo
):
    newsroom.write("news/a.md", article("A"))
    newsroom.write("news/gone.md", article("Gone"))
    newsroom.commit()
    approve(engine, "news/a.md")
    approve(engine, "news/gone.md")
    newsroom.remove("news/gone.md")
    newsroom.commit("remove")
    config = make_config(newsroom, content_repo.git_dir)

    report = run_job(engine, content_repo, config)
    by_path = {p.path: p for p in report.posts}
    assert by_path["news/a.md"].outcome == "published"
    gone = by_path["news/gone.md"]
    assert (gone.outcome, gone.status, gone.commit_sha) == ("missing", "blocked", None)
    assert gone.reason and gone.reason.startswith("news/gone.md is not on main (at ")
    assert posts(engine)["news/gone.md"].status == PostStatus.BLOCKED
    with engine.connect() as conn:
        hold = conn.execute(select(PublishHold.__table__)).one()
    assert hold.blob_sha is None and hold.reason.startswith("missing: news/gone.md")

    # Blocked: not in the next batch, not reported again.
    catch_up(newsroom)
    newsroom.write("unrelated.txt", "x")
    newsroom.commit()
    assert run_job(engine, content_repo, config).posts == ()

    # The file comes back: the post is retried and published.
    newsroom.write("news/gone.md", article("Gone"))
    newsroom.commit("restore")
    again = run_job(engine, content_repo, config)
    assert [(p.path, p.outcome) for p in again.posts] == [("news/gone.md", "published")]
    assert count(engine, PublishHold) == 0
    with engine.connect() as conn:
        steps = conn.execute(
            select(Decision.__table__.c.from_status, Decision.__table__.c.to_status)
            .where(Decision.__table__.c.post_id == gone.post_id)
            .order_by(Decision.__table__.c.id)
        ).all()
    assert [tuple(s) for s in steps] == [("approved", "blocked"), ("blocked", "published")]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (article("S", published='"false"'), "published: expected true or false, got the string"),
        ("---\ntitle: [\n---\nbody\n", "YAML error"),
        (
            article("Dup").replace("heat: 0\n", "heat: 0\npublished: false\n"),
            "duplicate key 'published' on lines 8 and 9",
        ),
    ],
    ids=["string flag", "bad yaml", "duplicate key"],
)
def test_refused_article_is_reported_and_left_unchanged(
    engine: Engine,
    newsroom: Newsroom,
    content_repo: ContentRepo,
    text: str,
    reason: str,
):
    newsroom.write("news/bad.md", text)
    newsroom.commit()
    approve(engine, "news/bad.md")
    config = make_config(newsroom, content_repo.git_dir)

    report = run_job(engine, content_repo, config)

    [post] = report.posts
    assert (post.outcome, post.status) == ("refused", "blocked")
    assert post.reason and "\n" not in post.reason
    assert reason in post.reason
    assert report.commit_sha is None and curator_commits(newsroom) == []
    assert show(newsroom, "news/bad.md") == text.encode()
    assert run_job(engine, content_repo, config).posts == ()  # held while the file is the same

    newsroom.write("news/bad.md", article("Fixed"))
    newsroom.commit("fix")
    assert [p.outcome for p in run_job(engine, content_repo, config).posts] == ["published"]


# ------------------------------------------------------------------------ secrets and the CLI


def test_tokens_never_appear_in_errors_or_logs(
    newsroom: Newsroom, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    url = "https://x-access-token:SECRET@127.0.0.1:1/x.git"
    repo = ContentRepo(tmp_path / "leaky.git", url, "main")
    with pytest.raises(GitError) as fetch_error:
        pub(repo, ["news/a.md"])
    assert "SECRET" not in str(fetch_error.value)

    # The fetch works, the push goes to a URL with a token (a push URL set by hand).
    newsroom.write("news/a.md", article("A"))
    newsroom.commit()
    repo = ContentRepo(tmp_path / "clone.git", str(newsroom.remote), newsroom.branch)
    repo.ensure_clone()
    repo.git("remote", "set-url", "--push", "origin", url)
    with pytest.raises(GitError) as push_error:
        pub(repo, ["news/a.md"])
    assert str(push_error.value).startswith("cannot push main to ")
    assert "SECRET" not in str(push_error.value)
    assert "SECRET" not in caplog.text


def test_find_pushed_by_trailer_when_the_commit_was_rewritten(
    newsroom: Newsroom, content_repo: ContentRepo
):
    newsroom.write("news/a.md", article("A"))
    base = newsroom.commit()
    result = pub(content_repo, ["news/a.md"])
    # Somebody rewrites the remote history (amends our commit): the sha changes, the
    # trailer stays.
    catch_up(newsroom)
    git("commit", "--quiet", "--amend", "-m", "Publish 1 articles\n\nCurator-Batch: test",
        cwd=newsroom.work)  # fmt: skip
    git("push", "--quiet", "--force", "origin", f"HEAD:{newsroom.branch}", cwd=newsroom.work)
    new_tip = content_repo.fetch()
    assert new_tip != result.commit
    found = find_pushed(content_repo, new_tip, commit=result.commit, base=base, token="test")
    assert found == new_tip
    assert find_pushed(content_repo, new_tip, commit=result.commit, base=base, token="t") is None


def test_cli_publish(
    engine: Engine,
    db_url: str,
    newsroom: Newsroom,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("DATABASE_URL", db_url)
    config_path = tmp_path / "curator.yml"
    config_path.write_text(
        f"content:\n  remote: {newsroom.remote}\n  checkout: {tmp_path / 'clone.git'}\n"
        '  author: "Curator Bot <curator@newsroom.example>"\n'
        'slack:\n  channel: "#curation"\n  editors: [U0ANN]\n'
    )
    newsroom.write("news/a.md", article("A"))
    newsroom.write("news/gone.md", article("Gone"))
    newsroom.commit()
    approve(engine, "news/a.md")
    approve(engine, "news/gone.md")
    newsroom.remove("news/gone.md")
    before = newsroom.commit()
    runner = CliRunner()

    dry = runner.invoke(publish_command, ["--dry-run"], obj=Context(config_path))
    assert dry.exit_code == 0, dry.output
    assert "+published: true" in dry.output
    assert "Publish 1 article approved in Slack" in dry.output
    assert dry.output.splitlines()[-1] == (
        "dry run: would publish 1 in one commit, already published 0, missing 1, refused 0; "
        "nothing changed"
    )
    assert tip(newsroom) == before

    real = runner.invoke(publish_command, [], obj=Context(config_path))
    assert real.exit_code == 0, real.output
    sha = tip(newsroom)
    assert real.output.splitlines()[-1] == (
        f"published 1, already published 0, missing 1, refused 0, commit {sha[:12]}"
    )
    assert "missing: news/gone.md: news/gone.md is not on main" in real.output


def test_large_batches_are_edited_on_every_core(monkeypatch: pytest.MonkeyPatch):
    items = [(data, Edit(f"news/{name}.md")) for name, (data, _, _) in FLAG_VARIANTS.items()]
    items += [
        (article("Live", published=True).encode(), Edit("news/live.md")),
        (b"---\ntitle: [\n---\n", Edit("news/broken.md")),
    ]
    serial = edit_all(items, FIELDS, workers=1)
    assert [o for o, _, _ in serial] == [Outcome.EDITED] * 6 + [Outcome.ALREADY, Outcome.REFUSED]
    monkeypatch.setattr(storage.publish_commit.planning, "PARALLEL_MIN", 1)
    assert edit_all(items, FIELDS, workers=2) == serial


def test_everything_published_by_someone_else_before_our_push(
    engine: Engine, newsroom: Newsroom, content_repo: ContentRepo, monkeypatch: pytest.MonkeyPatch
):
    """Issue 9, item 9: between our fetch and our push an editor publishes every approved
    article by hand. The retry has nothing to commit: the posts are recorded as published
    by the editor's commit, and the batch written before the first push is closed."""
    for name in ("a", "b"):
        newsroom.write(f"news/{name}.md", article(name.upper()))
    newsroom.commit("collect")
    approve(engine, "news/a.md")
    approve(engine, "news/b.md")
    config = make_config(newsroom, content_repo.git_dir)
    real_push = storage.publish_commit.attempt.push_commit
    outside: list[str] = []

    def editor_publishes_first(repo: ContentRepo, commit: str) -> bool:
        if not outside:
            catch_up(newsroom)
            for name in ("a", "b"):
                newsroom.write(f"news/{name}.md", article(name.upper(), published=True))
            outside.append(newsroom.commit("publish a and b by hand"))
        return real_push(repo, commit)

    monkeypatch.setattr(storage.publish_commit.attempt, "push_commit", editor_publishes_first)
    report = run_job(engine, content_repo, config)

    [by_hand] = outside
    assert tip(newsroom) == by_hand and curator_commits(newsroom) == []
    assert report.commit_sha is None
    assert [(p.outcome, p.commit_sha) for p in report.posts] == [("already", by_hand)] * 2
    assert report.summary() == "published 0, already published 2, missing 0, refused 0, no commit"
    got = posts(engine)
    assert {(p.status, p.commit_sha) for p in got.values()} == {(PostStatus.PUBLISHED, by_hand)}
    with engine.connect() as conn:
        batch = conn.execute(select(PublishBatch.__table__)).one()
        decisions = conn.execute(select(Decision.__table__.c.cause)).scalars().all()
    assert batch.state == "failed" and batch.finished_at is not None
    assert "published on main meanwhile" in batch.detail
    assert decisions == [f"already published on main by Writer in commit {by_hand[:12]}"] * 2
    assert run_job(engine, content_repo, config).posts == ()


def test_a_push_racing_another_push_is_retried_on_the_new_tip(
    newsroom: Newsroom, content_repo: ContentRepo
):
    """Issue 9, item 10: another push is updating the branch when ours arrives ("cannot lock
    ref 'refs/heads/main'"): that is the remote moving on, not a failure."""
    newsroom.write("news/a.md", article("A"))
    newsroom.commit()
    ref_lock = newsroom.remote / "refs" / "heads" / f"{newsroom.branch}.lock"
    bases: list[str] = []

    def another_push_in_flight(commit: str, base: str) -> None:
        bases.append(base)
        if len(bases) == 1:
            ref_lock.write_text("")  # the other push holds the branch's ref lock ...
        elif len(bases) == 2:
            ref_lock.unlink()  # ... and lands
            newsroom.write("other.txt", "x")
            newsroom.commit("the other push")

    result = pub(content_repo, ["news/a.md"], before_push=another_push_in_flight)
    assert result.attempts == 3 and result.commit == tip(newsroom)
    assert bases[0] == bases[1] != bases[2]
    assert bases[2] == remote(newsroom, "rev-parse", f"{newsroom.branch}^")


def test_nothing_from_an_article_or_slack_can_forge_a_trailer(
    engine: Engine, newsroom: Newsroom, content_repo: ContentRepo
):
    """Issue 9, item 13: a path with a newline, a title and a display name with line breaks
    and control characters: each stays on its line, escaped; the trailers are the real ones."""
    forged = "Approved-by: Mallory <UMALLORY>"
    path = f"news/evil\n{forged}.md"
    newsroom.write(path, article("Evil"))
    newsroom.commit()
    approve(engine, path, title=f"Evil\r\x1b[2J\u2028{forged}\x07", voters=("U0ANN", "U0EVE"))
    config = make_config(newsroom, content_repo.git_dir)
    names = {"U0ANN": "Ann Editor", "U0EVE": f"Eve\x00\n{forged}\x1b"}

    report = publish_approved(
        engine, content_repo, config, now=NOW, approver_names=names, backoff=0
    )

    sha = report.commit_sha
    assert sha and report.count("published") == 1
    message = remote(newsroom, "log", "-1", "--format=%B", sha)
    assert not any(ch != "\n" and not ch.isprintable() for ch in message), repr(message)
    assert remote(newsroom, "log", "--format=%H", f"--grep=^{forged}", newsroom.branch) == ""
    trailers = remote(newsroom, "log", "-1", "--format=%(trailers:only,unfold)", sha)
    assert [t.split(":")[0] for t in trailers.splitlines()] == [
        "Approved-by", "Approved-by", "Slack-Thread", "Curator-Batch",
    ]  # fmt: skip
    assert trailers.splitlines()[:2] == [
        "Approved-by: Ann Editor <U0ANN>",
        "Approved-by: Eve\\x00 Approved-by: Mallory UMALLORY\\x1b <U0EVE>",
    ]
    assert f"- Evil \\x1b[2J {forged}\\x07\n  news/evil\\n{forged}.md\n" in message


def test_bidi_controls_in_a_title_and_a_name_are_escaped_in_the_commit(
    engine: Engine, newsroom: Newsroom, content_repo: ContentRepo
):
    """Issue 9 review: commit messages had an escaper of their own (Unicode Cc, Zl, Zp) that
    let bidi controls through, so U+202E made a title or an ``Approved-by:`` name read
    backwards in ``git log``. They are escaped by the terminal's rule now."""
    newsroom.write("news/a.md", article("A"))
    newsroom.commit()
    approve(
        engine, "news/a.md", title="Budget \u202edaer\u202c vote \u2066x\u2069", voters=("U0EVE",)
    )
    config = make_config(newsroom, content_repo.git_dir)
    names = {"U0EVE": "Eve \u202eyllaM\u200f"}

    report = publish_approved(
        engine, content_repo, config, now=NOW, approver_names=names, backoff=0
    )

    message = remote(newsroom, "log", "-1", "--format=%B", report.commit_sha)
    assert "- Budget \\u202edaer\\u202c vote \\u2066x\\u2069\n" in message
    assert "Approved-by: Eve \\u202eyllaM\\u200f <U0EVE>\n" in message
    assert "approved by Eve \\u202eyllaM\\u200f\n" in message
    assert not any(ch != "\n" and not ch.isprintable() for ch in message), repr(message)


def test_a_commit_message_keeps_only_its_own_line_breaks(
    newsroom: Newsroom, content_repo: ContentRepo
):
    """The defence holds in storage too, whoever builds the message."""
    newsroom.write("news/a.md", article("A"))
    newsroom.commit()

    def hostile(results: Sequence[object]) -> str:
        return "Publish\r\x1b[1A\u2028Approved-by: X <UX>\x85\n\nCurator-Batch: test\n"

    result = publish(
        content_repo, [Edit("news/a.md")], fields=FIELDS, author=AUTHOR, message=hostile,
        backoff=0,
    )  # fmt: skip
    assert remote(newsroom, "log", "-1", "--format=%B", result.commit) == (
        "Publish\\r\\x1b[1A\\u2028Approved-by: X <UX>\\x85\n\nCurator-Batch: test"
    )
