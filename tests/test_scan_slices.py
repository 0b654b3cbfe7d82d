"""A scan holds a slice of the repo at a time, whatever the repo's size: the tree is listed,
looked up and handed to the parser ``plan.SLICE`` entries at a time, at most
``parser.IN_FLIGHT`` chunks per worker wait to be written, and each ``git cat-file`` reads at
most ``BlobReader.SLICE`` blobs before the next one starts. The rows are the same as when
the whole repo fits in one slice."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from storage.fields import FieldMap
from storage.gitrepo import BlobReader, ContentRepo
from storage.models import Article, ArticleTopic, ScanState
from storage.pathfilter import PathFilter
from storage.scan import parser, plan, scan, write
from tests.helpers import Newsroom, article

FIELDS = FieldMap()
ALL_MD = PathFilter(["**/*.md"])


def stored(engine: Engine) -> dict[str, tuple]:
    """Every article as the database has it (ids and times aside), with its topics."""
    a, t = Article.__table__, ArticleTopic.__table__
    skip = ("id", "first_seen_at", "updated_at", "removed_at")
    with engine.connect() as conn:
        topics: dict[int, set[str]] = {}
        for article_id, topic in conn.execute(select(t.c.article_id, t.c.topic)):
            topics.setdefault(article_id, set()).add(topic)
        return {
            row.path: (
                row.removed_at is None,
                *(getattr(row, c) for c in a.columns.keys() if c not in skip),  # noqa: SIM118
                sorted(topics.get(row.id, ())),
            )
            for row in conn.execute(select(a))
        }


def clear(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(ArticleTopic.__table__.delete())
        conn.execute(Article.__table__.delete())
        conn.execute(ScanState.__table__.delete())


def write_articles(newsroom: Newsroom, count: int, edit: int = 0) -> None:
    for i in range(count):
        text = article(f"Story {i}", quality=i + edit, published=i % 4 == 0, topics=(f"T{i % 3}",))
        newsroom.write(f"n/{i % 3}/{i:03}.md", text)
    newsroom.write("n/broken.md", "---\n\tbad: [\n---\n")
    newsroom.commit()


@pytest.fixture
def repo(newsroom: Newsroom, tmp_path: Path) -> ContentRepo:
    write_articles(newsroom, 30)
    repo = ContentRepo(tmp_path / "clone.git", str(newsroom.remote), "main")
    repo.fetch()
    return repo


def test_a_full_scan_in_slices_stores_what_one_slice_does(
    engine: Engine, newsroom: Newsroom, repo: ContentRepo, monkeypatch: pytest.MonkeyPatch
):
    """31 files in slices of 4, read by a cat-file per 3 blobs: the same rows as one slice
    and one cat-file, on a new database and on a full rescan that finds files removed,
    changed and brought back (the removed ones are found by id, 2 ids at a time)."""
    assert plan.SLICE > 31 and BlobReader.SLICE > 31  # the defaults: one slice here
    scan(engine, repo, FIELDS, ALL_MD, workers=1)
    whole = stored(engine)
    clear(engine)

    handed: list[int] = []
    started: list[int] = []
    real_add, real_start = parser.Parser.add, BlobReader._start

    def add(self: parser.Parser, todo: list, *, size: int) -> None:
        handed.append(len(todo))
        real_add(self, todo, size=size)

    def start(self: BlobReader):  # type: ignore[no-untyped-def]
        started.append(1)
        return real_start(self)

    monkeypatch.setattr(parser.Parser, "add", add)
    monkeypatch.setattr(BlobReader, "_start", start)
    monkeypatch.setattr(plan, "SLICE", 4)
    monkeypatch.setattr(plan, "SWEEP", 2)
    monkeypatch.setattr(BlobReader, "SLICE", 3)
    result = scan(engine, repo, FIELDS, ALL_MD, workers=1)
    assert (result.mode, result.new, result.scanned) == ("full", 31, 31)
    assert stored(engine) == whole
    assert handed == [4] * 7 + [3]  # the tree, 4 entries at a time
    assert len(started) == 11  # ceil(31 / 3) cat-file processes

    # Removed, changed, and (after a removal) back with the same content.
    for i in (2, 11, 29):
        newsroom.remove(f"n/{i % 3}/{i:03}.md")
    newsroom.commit()
    repo.fetch()
    assert scan(engine, repo, FIELDS, ALL_MD, workers=1).deleted == 3
    newsroom.remove("n/1/028.md")
    # A new file listed first: its row, written before the sweep, is above every id the scan
    # started with, in the sweep's range of ids, and must not count as gone.
    newsroom.write("a/new.md", article("New"))
    write_articles(newsroom, 28, edit=1)  # 28 and 29 gone; 2 and 11 come back changed
    repo.fetch()
    handed.clear()
    monkeypatch.setattr(plan, "SWEEP", 1000)
    monkeypatch.setattr(write, "chunk_size", lambda count, workers: 2)  # written early
    monkeypatch.setattr(write, "WRITE_BATCH", 2)
    result = scan(engine, repo, FIELDS, ALL_MD, workers=1, full=True)
    assert (result.mode, result.deleted, result.changed, result.new) == ("full", 1, 26, 3)
    assert max(handed) <= 4
    sliced = stored(engine)

    clear(engine)
    monkeypatch.undo()
    scan(engine, repo, FIELDS, ALL_MD, workers=1)
    fresh = stored(engine)
    # The removed ones stay in the sliced database as removed rows; the rest agree.
    assert {p: r for p, r in sliced.items() if r[0]} == fresh
    assert sorted(p for p, r in sliced.items() if not r[0]) == ["n/1/028.md", "n/2/029.md"]


def test_workers_hold_a_bounded_number_of_chunks(
    engine: Engine, repo: ContentRepo, monkeypatch: pytest.MonkeyPatch
):
    """With worker processes, the plan waits for the oldest results once IN_FLIGHT chunks
    per worker are out, instead of handing the whole repo over at once."""
    import multiprocessing

    scan(engine, repo, FIELDS, ALL_MD, workers=1)
    whole = stored(engine)
    clear(engine)

    out: list[int] = []
    real_submit = parser.Parser._submit

    def submit(self: parser.Parser, count: int) -> None:
        real_submit(self, count)
        out.append(len(self._futures))

    monkeypatch.setattr(parser.Parser, "_submit", submit)
    monkeypatch.setattr(parser, "PARALLEL_MIN", 4)
    monkeypatch.setattr(parser, "_pool_context", lambda: multiprocessing.get_context("fork"))
    monkeypatch.setattr(parser, "IN_FLIGHT", 1)
    monkeypatch.setattr(write, "chunk_size", lambda count, workers: 2)
    monkeypatch.setattr(plan, "SLICE", 6)
    result = scan(engine, repo, FIELDS, ALL_MD, workers=2)
    assert (result.new, result.scanned) == (31, 31)
    assert stored(engine) == whole
    # 16 chunks of 2 in all; never more out than the 2 allowed plus one slice's 3.
    assert max(out) <= 2 + 3


def test_cat_file_maps_a_bounded_share_of_the_pack(newsroom: Newsroom, content_repo: ContentRepo):
    """Each cat-file of the scan lets go of pack windows past PACK_LIMIT; a baseline's keeps
    git's own settings."""
    newsroom.write("a.md", "one")
    tip = newsroom.commit()
    content_repo.fetch()
    sha = next(s for p, s, _ in content_repo.tree_entries(tip) if p == "a.md")
    for one_process, limited in ((False, True), (True, False)):
        with BlobReader(content_repo.git_dir, one_process=one_process) as reader:
            assert reader.read_many([sha]) == [b"one"]
            args = reader._proc.args
            assert isinstance(args, list)
            assert ("core.packedGitLimit=32m" in args) is limited
            assert ("core.packedGitWindowSize=1m" in args) is limited


@pytest.mark.parametrize(("width", "depth"), [(8, 3), (2, 1), (2, 3), (1, 0), (100, 3)])
def test_the_tree_is_listed_a_directory_at_a_time(
    newsroom: Newsroom, content_repo: ContentRepo, monkeypatch: pytest.MonkeyPatch, width, depth
):
    """The top levels are listed one directory at a time and each directory below gets its
    own `ls-tree -r` (no git process holds the whole tree): the same entries, in the same
    order, as one `ls-tree -r`."""
    monkeypatch.setattr(ContentRepo, "LIST_WIDTH", width)
    monkeypatch.setattr(ContentRepo, "LIST_DEPTH", depth)
    for path in (
        "top.md", "news/2024/01/a.md", "news/2024/01/b.md", "news/2024/02/c.md",
        "news/2025/01/deep/e/f/g.md", "news-x.md", "news.md", "a/b.md", "dir with space/é.md",
    ):  # fmt: skip
        newsroom.write(path, path)
    (newsroom.work / "link.md").symlink_to("top.md")
    tip = newsroom.commit()
    content_repo.fetch()
    calls: list[bool] = []
    real = ContentRepo._ls_tree

    def ls_tree(self: ContentRepo, tree: str, *, recursive: bool):  # type: ignore[no-untyped-def]
        calls.append(recursive)
        return real(self, tree, recursive=recursive)

    monkeypatch.setattr(ContentRepo, "_ls_tree", ls_tree)
    out = content_repo.git("ls-tree", "-r", "-z", tip).split(b"\0")
    one = [
        (e.split(b"\t")[1].decode(), e.split(b" ")[2].split(b"\t")[0].decode()) for e in out if e
    ]
    assert [(p, s) for p, s, _ in content_repo.tree_entries(tip)] == one
    if depth == 0:  # one ls-tree -r, as before
        assert calls == [True]
    else:  # the root alone, then directory by directory
        assert calls[0] is False and len(calls) > 2
