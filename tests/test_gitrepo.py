"""The bare clone and the git plumbing the scan relies on, on real repositories."""

from __future__ import annotations

import pytest

import storage.git_diff
from storage.git_command import GitError
from storage.git_diff import Change, TreeDiff
from storage.gitrepo import BlobReader, ContentRepo
from storage.pathfilter import PathFilter
from tests.helpers import Newsroom


def test_fetch_list_diff_and_read(newsroom: Newsroom, content_repo: ContentRepo):
    newsroom.write("a.md", "one")
    newsroom.write("dir with space/é.md", "two")
    first = newsroom.commit()
    assert content_repo.fetch() == first
    tree = {path: sha for path, sha, _ in content_repo.tree_entries(first)}
    assert set(tree) == {"a.md", "dir with space/é.md"}
    with BlobReader(content_repo.git_dir) as reader:
        assert reader.read_many([tree["a.md"], tree["dir with space/é.md"]]) == [b"one", b"two"]

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


@pytest.mark.parametrize(("width", "depth"), [(8, 3), (2, 1), (2, 3), (1, 0), (100, 3)])
def test_a_split_diff_lists_what_one_diff_tree_does(
    newsroom: Newsroom, content_repo: ContentRepo, monkeypatch, width: int, depth: int
):
    """The streamed diff compares directories level by level, then hands the changed ones
    to one `diff-tree --stdin`: every way a path can change comes out as one diff-tree."""
    monkeypatch.setattr(storage.git_diff, "_SPLIT_WIDTH", width)
    monkeypatch.setattr(storage.git_diff, "_SPLIT_DEPTH", depth)
    layout = {
        "top.md": "1", "gone.md": "1", "news/2024/01/a.md": "1", "news/2024/01/b.md": "1",
        "news/2024/02/c.md": "1", "news/2025/01/d.md": "1", "news/2025/01/deep/e/f/g.md": "1",
        "old-dir/x.md": "1", "old-dir/sub/y.md": "1", "becomes-dir": "1", "was-dir/z.md": "1",
        "same/untouched.md": "1", "dir with space/é.md": "1",
    }  # fmt: skip
    for path, text in layout.items():
        newsroom.write(path, text)
    first = newsroom.commit()
    for path in (
        "news/2024/01/a.md",
        "news/2025/01/deep/e/f/g.md",
        "top.md",
        "dir with space/é.md",
    ):
        newsroom.write(path, "2")
    for path in ("gone.md", "old-dir/x.md", "old-dir/sub/y.md", "becomes-dir", "was-dir/z.md"):
        newsroom.remove(path)
    newsroom.write("becomes-dir/inside.md", "3")
    newsroom.write("was-dir", "now a file")
    newsroom.write("news/2026/01/new.md", "3")
    newsroom.write("new-dir/n.md", "3")
    (newsroom.work / "link.md").symlink_to("top.md")
    second = newsroom.commit()
    content_repo.fetch()

    def one_diff_tree(old: str, new: str) -> list[Change]:
        out = content_repo.git("diff-tree", "-r", "-z", "--no-renames", old, new).split(b"\0")
        pairs = zip(out[0:-1:2], out[1::2], strict=True)
        return sorted((storage.git_diff._change(m, p) for m, p in pairs), key=str)

    forward = one_diff_tree(first, second)
    assert len(forward) == 14
    # The symlink is named as one, so the scan can list it as skipped.
    assert [c.kind for c in forward if c.path == "link.md"] == ["symlink"]
    assert sorted(content_repo.iter_diff_tree(first, second), key=str) == forward
    backward = one_diff_tree(second, first)
    assert sorted(content_repo.iter_diff_tree(second, first), key=str) == backward
    with pytest.raises(GitError, match="git diff-tree: "):
        list(content_repo.iter_diff_tree(first, "0" * 40))

    # git skips a pair of trees it cannot read (on stderr, exit 0): the paths after it would
    # land under the wrong directory, so that is an error, never a quiet shift.
    news = [content_repo.git("rev-parse", f"{c}:news").decode().strip() for c in (first, second)]
    pairs = [(b"a/", *news), (b"zz/", "1" * 40, "2" * 40), (b"b/", *news)]
    with pytest.raises(GitError, match="git diff-tree: "):
        list(TreeDiff(content_repo.git_dir)._diff_pairs(pairs, recursive=True))
    twice = TreeDiff(content_repo.git_dir)._diff_pairs(pairs[:1] * 2, recursive=True)
    assert {p for p, _, _ in twice} == {b"a/"}


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
    assert "s3cr3t-token" not in str(info.value) and "s3cr3t-token" not in info.value.stderr
    assert str(info.value).startswith("cannot fetch main from https://bot:***@127.0.0.1:9/x.git (")


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


def test_added_times_names_the_commit_that_added_each_file(
    newsroom: Newsroom, content_repo: ContentRepo, monkeypatch
):
    """One git log for many paths; a file deleted and added again dates from its newest add;
    a renamed file (a folder moved) dates from its add under its first name, so moving old
    drafts does not make them new; names git prints raw are matched."""
    from datetime import UTC, datetime

    from tests.helpers import git

    def commit_at(day: int) -> str:
        monkeypatch.setenv("GIT_AUTHOR_DATE", f"2020-01-{day:02}T12:00:00Z")
        return newsroom.commit(f"day {day}")

    odd = "dir with space/\u00e9\n2.md"
    draft = "---\ntitle: An old draft\ndraft: true\n---\n" + "Body text.\n" * 20
    newsroom.write("a.md", "a")
    newsroom.write(odd, "b")
    newsroom.write("1577880000", "a name like a timestamp")
    newsroom.write("old/draft.md", draft)
    commit_at(1)
    newsroom.write("a.md", "a, edited")  # a change is not an add
    newsroom.write("c.md", "c")
    commit_at(2)
    newsroom.remove("c.md")
    commit_at(3)
    newsroom.write("c.md", "c again")
    git("mv", "old", "archive", cwd=newsroom.work)  # a folder moved
    commit_at(4)
    git("mv", "archive/draft.md", "archive/2020-draft.md", cwd=newsroom.work)
    newsroom.write("archive/2020-draft.md", draft + "One more line.\n")  # renamed and edited
    head = commit_at(5)
    content_repo.fetch()
    day = lambda d: datetime(2020, 1, d, 12, tzinfo=UTC)  # noqa: E731
    paths = ["archive/2020-draft.md", odd, "c.md", "1577880000", "a.md", "never.md"]
    assert content_repo.added_times(head, paths) == {
        "archive/2020-draft.md": day(1), odd: day(1), "c.md": day(4), "1577880000": day(1),
        "a.md": day(1),
    }  # fmt: skip
    assert content_repo.added_times(head, []) == {}
    with pytest.raises(GitError, match=r"^git log: "):
        content_repo.added_times("0" * 40, ["c.md"])


def test_fetch_waits_out_a_ref_another_git_is_updating(
    newsroom: Newsroom, content_repo: ContentRepo
):
    """Issue 9, item 10: a git process outside our lock (an older curator's push, which moves
    the tracking ref too) holds refs/remotes/origin/main for a moment: the fetch waits."""
    import threading

    newsroom.write("a.md", "one")
    newsroom.commit()
    content_repo.fetch()
    newsroom.write("b.md", "two")
    head = newsroom.commit()
    lock = content_repo.git_dir / "refs" / "remotes" / "origin" / "main.lock"
    lock.write_text("")
    threading.Timer(0.4, lock.unlink).start()
    assert content_repo.fetch() == head

    # Held for good (a git killed mid-update): git's own message, naming the file.
    newsroom.write("c.md", "three")
    newsroom.commit()
    lock.write_text("")
    with pytest.raises(GitError, match=r"cannot lock ref .*main\.lock': File exists"):
        content_repo.fetch()
