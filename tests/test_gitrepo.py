"""The bare clone and the git plumbing the scan relies on, on real repositories."""

from __future__ import annotations

import pytest

from storage.gitrepo import ContentRepo, GitError, redact
from storage.pathfilter import PathFilter
from tests.helpers import Newsroom


def test_fetch_list_diff_and_read(newsroom: Newsroom, content_repo: ContentRepo):
    newsroom.write("a.md", "one")
    newsroom.write("dir with space/é.md", "two")
    first = newsroom.commit()
    assert content_repo.fetch() == first
    tree = dict(content_repo.ls_tree(first))
    assert set(tree) == {"a.md", "dir with space/é.md"}
    assert dict(content_repo.read_blobs(tree.values())) == {
        tree["a.md"]: b"one",
        tree["dir with space/é.md"]: b"two",
    }

    newsroom.write("a.md", "one, edited")
    newsroom.remove("dir with space/é.md")
    newsroom.write("new.md", "three")
    second = newsroom.commit()
    content_repo.fetch()
    changes = {c.path: (c.status, c.sha is None) for c in content_repo.diff_tree(first, second)}
    assert changes == {
        "a.md": ("M", False),
        "dir with space/é.md": ("D", True),
        "new.md": ("A", False),
    }
    assert content_repo.is_ancestor(first, second)
    assert not content_repo.is_ancestor(second, first)


def test_fetch_follows_force_pushes(newsroom: Newsroom, content_repo: ContentRepo):
    newsroom.write("a.md", "one")
    newsroom.commit()
    content_repo.fetch()
    from tests.helpers import git

    git("commit", "--quiet", "--amend", "-m", "rewritten", cwd=newsroom.work)
    git("push", "--quiet", "--force", "origin", "HEAD:main", cwd=newsroom.work)
    assert content_repo.fetch() == git("rev-parse", "HEAD", cwd=newsroom.work)


def test_errors_hide_credentials(tmp_path):
    repo = ContentRepo(tmp_path / "c.git", "https://bot:s3cr3t-token@127.0.0.1:9/x.git", "main")
    with pytest.raises(GitError) as info:
        repo.fetch()
    assert "s3cr3t-token" not in str(info.value)
    assert str(info.value).startswith("git fetch: ")


def test_redact():
    assert redact("https://x-access-token:abc@github.com/o/r") == "https://***@github.com/o/r"
    assert redact("git@github.com:o/r.git") == "git@github.com:o/r.git"


@pytest.mark.parametrize(
    "include, exclude, path, expected",
    [
        (["**/*.md"], [], "a.md", True),
        (["**/*.md"], [], "x/y/z.md", True),
        (["**/*.md"], [], "a.markdown", False),
        (["news/*.md"], [], "news/a.md", True),
        (["news/*.md"], [], "news/x/a.md", False),
        (["news/**"], [], "news/x/a.md", True),
        (["**/*.md"], ["drafts/**"], "drafts/a.md", False),
        (["**/*.md"], ["**/_index.md"], "x/_index.md", False),
        (["**/*.md", "**/*.markdown"], [], "a.markdown", True),
        ([], [], "a.md", False),
    ],
)
def test_path_filter(include, exclude, path, expected):
    assert PathFilter(include, exclude).matches(path) is expected


def test_concurrent_fetches_take_turns(newsroom: Newsroom, content_repo: ContentRepo):
    """Two processes fetching into one clone (a job and an operator's command) both succeed."""
    import subprocess
    import sys

    newsroom.write("a.md", "one")
    head = newsroom.commit()
    content_repo.fetch()
    script = (
        "import sys; from pathlib import Path; from storage.gitrepo import ContentRepo\n"
        "repo = ContentRepo(Path(sys.argv[1]), sys.argv[2], 'main')\n"
        "for _ in range(15): repo.fetch()\n"
    )
    args = [sys.executable, "-c", script, str(content_repo.git_dir), str(newsroom.remote)]
    procs = []
    for i in range(3):
        newsroom.write(f"n{i}.md", str(i))
        head = newsroom.commit()
        procs.append(subprocess.Popen(args, stderr=subprocess.PIPE))
    errors = [p.communicate()[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    assert content_repo.fetch() == head
