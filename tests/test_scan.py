"""Scanning a real content repo (bare remote + clones) into a real database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from storage import scan as scan_package
from storage.articles import unpublished_pool
from storage.extract import PUBLISHED_COLUMNS, extract
from storage.fields import FieldMap
from storage.git_command import GitError
from storage.gitrepo import ContentRepo
from storage.models import Article, ArticleTopic, as_utc
from storage.pathfilter import PathFilter
from storage.scan import age, parser, plan, scan, write
from storage.scan.write import FULL_COLUMNS
from tests.conftest import SAMPLE
from tests.helpers import Newsroom, article, git

FIELDS = FieldMap()
FULL = [c for c in FULL_COLUMNS if c != "path"]
ALL_MD = PathFilter(["**/*.md"])


def rows(engine: Engine) -> dict[str, Article]:
    with engine.connect() as conn:
        return {r.path: r for r in conn.execute(select(Article.__table__))}


def topics(engine: Engine, path: str) -> set[str]:
    a, t = Article.__table__, ArticleTopic.__table__
    q = select(t.c.topic).join(a, a.c.id == t.c.article_id).where(a.c.path == path)
    with engine.connect() as conn:
        return set(conn.scalars(q))


def do_scan(engine: Engine, repo: ContentRepo, **kw: object):
    repo.fetch()
    return scan(engine, repo, FIELDS, kw.pop("paths", ALL_MD), **kw)  # type: ignore[arg-type]


def test_scan_follows_commits(engine: Engine, newsroom: Newsroom, content_repo: ContentRepo):
    newsroom.write("news/a.md", article("Alpha", quality=80, topics=("AI", "Cities")))
    newsroom.write("news/b.md", article("Beta", published=True))
    newsroom.write("README.txt", "not an article")
    newsroom.commit("two articles")

    first = do_scan(engine, content_repo)
    assert (first.mode, first.scanned, first.new, first.changed, first.deleted) == (
        "full",
        2,
        2,
        0,
        0,
    )
    got = rows(engine)
    assert set(got) == {"news/a.md", "news/b.md"}
    assert got["news/a.md"].title == "Alpha"
    assert got["news/a.md"].quality == 80
    assert got["news/a.md"].published is False
    assert got["news/a.md"].provider_name == "Example News"
    assert got["news/a.md"].related_json and "Related 0 to Alpha" in got["news/a.md"].related_json
    assert got["news/b.md"].published is True
    assert got["news/b.md"].related_json is None  # published: related links never parsed
    assert topics(engine, "news/a.md") == {"AI", "Cities"}

    # Change one, delete one, add one.
    newsroom.write("news/a.md", article("Alpha v2", quality=81, topics=("Policy",)))
    newsroom.remove("news/b.md")
    newsroom.write("news/c.md", article("Gamma"))
    newsroom.commit("edit, delete, add")
    second = do_scan(engine, content_repo)
    assert (second.mode, second.scanned, second.new, second.changed, second.deleted) == (
        "diff",
        2,
        1,
        1,
        0 + 1,
    )
    got = rows(engine)
    assert got["news/a.md"].title == "Alpha v2"
    assert topics(engine, "news/a.md") == {"Policy"}
    assert got["news/b.md"].removed_at is not None  # kept for history, marked removed
    assert got["news/c.md"].removed_at is None
    ids_before = {p: r.id for p, r in got.items()}

    # Nothing new: no blob is read, nothing changes.
    third = do_scan(engine, content_repo)
    assert (third.mode, third.scanned, third.unchanged, third.new, third.changed) == (
        "unchanged",
        2,
        2,
        0,
        0,
    )

    # The deleted file comes back with the same content: restored without a re-read.
    newsroom.write("news/b.md", article("Beta", published=True))
    newsroom.commit("restore b")
    fourth = do_scan(engine, content_repo)
    assert (fourth.new, fourth.changed, fourth.scanned) == (1, 0, 3)
    got = rows(engine)
    assert got["news/b.md"].removed_at is None
    assert {p: r.id for p, r in got.items()} == ids_before  # ids are stable


def test_full_scan_agrees_with_diff_scan(engine: Engine, newsroom: Newsroom, content_repo):
    for i in range(5):
        newsroom.write(f"a{i}.md", article(f"Story {i}", quality=i))
    newsroom.commit()
    do_scan(engine, content_repo)
    newsroom.write("a1.md", article("Story 1 edited"))
    newsroom.remove("a2.md")
    newsroom.commit()
    diff = do_scan(engine, content_repo)
    after_diff = {p: (r.blob_sha, r.title, r.removed_at is None) for p, r in rows(engine).items()}
    full = do_scan(engine, content_repo, full=True)
    after_full = {p: (r.blob_sha, r.title, r.removed_at is None) for p, r in rows(engine).items()}
    assert after_diff == after_full
    assert full.mode == "full" and full.new == full.changed == full.deleted == 0
    assert diff.scanned == full.scanned == 4


def test_a_rescan_sets_only_the_columns_that_changed(engine, newsroom: Newsroom, content_repo):
    # Each column an UPDATE names rewrites that column's index entries, even for an equal
    # value: a refreshed score must not touch the title, URL, path or flag indexes.
    newsroom.write("open.md", article("Open", quality=10, heat=1, topics=("AI",)))
    newsroom.write("live.md", article("Live", published=True))
    newsroom.commit()
    do_scan(engine, content_repo)
    newsroom.write("open.md", article("Open", quality=11, heat=2, topics=("AI",)))
    newsroom.write("live.md", article("Live", published=True, quality=99))
    newsroom.commit("refresh scores")
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        result = do_scan(engine, content_repo)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert result.changed == 2
    updates = sorted(s for s in statements if s.startswith("UPDATE article SET"))
    assert len(updates) == 2, updates
    set_clauses = sorted(s.split(" SET ")[1].split(" WHERE ")[0] for s in updates)
    columns = [sorted(part.split("=")[0].strip() for part in c.split(",")) for c in set_clauses]
    assert sorted(columns) == [
        ["blob_sha", "heat", "quality", "updated_at"],  # the candidate: its new scores
        ["blob_sha", "updated_at"],  # the live one: nothing it keeps changed
    ]
    assert not [s for s in statements if s.startswith("DELETE FROM article_topic")]
    got = rows(engine)
    assert (got["open.md"].quality, got["open.md"].heat) == (11, 2)
    assert topics(engine, "open.md") == {"AI"}


def test_broken_files_are_recorded_not_fatal(engine, newsroom: Newsroom, content_repo):
    newsroom.write("good.md", article("Fine"))
    newsroom.write("bad-yaml.md", "---\ntitle: [unclosed\n---\nbody\n")
    newsroom.write("no-frontmatter.md", "# Just a heading\n")
    newsroom.write("evil.md", "---\ntitle: !!python/object/apply:os.system ['true']\n---\n")
    newsroom.write("binary.md", b"---\ntitle: x\x00\n---\n")
    newsroom.write("string-flag.md", article("Quoted", published='"false"'))
    newsroom.write("bad-date.md", "---\ntitle: x\ndate: 2021-02-30\npublished: false\n---\n")
    newsroom.commit()
    result = do_scan(engine, content_repo)
    assert (result.scanned, result.errors) == (7, 6)
    got = rows(engine)
    assert got["good.md"].error is None
    broken = ("bad-yaml.md", "no-frontmatter.md", "evil.md", "binary.md", "string-flag.md")
    for path in (*broken, "bad-date.md"):
        assert got[path].error, path
        assert "\n" not in got[path].error
        assert got[path].published is None
    assert "published" in got["string-flag.md"].error and "string" in got["string-flag.md"].error

    # Fixing a file clears its error on the next scan.
    newsroom.write("bad-yaml.md", article("Fixed"))
    newsroom.commit()
    result = do_scan(engine, content_repo)
    assert result.errors == 5
    assert rows(engine)["bad-yaml.md"].title == "Fixed"
    assert rows(engine)["bad-date.md"].error.startswith("value '2021-02-30' at line 3")


def test_include_exclude_globs(engine, newsroom: Newsroom, content_repo):
    newsroom.write("news/a.md", article("A"))
    newsroom.write("news/drafts/b.md", article("B"))
    newsroom.write("events/c.md", article("C"))
    newsroom.commit()
    paths = PathFilter(["news/**/*.md"], ["**/drafts/**"])
    result = do_scan(engine, content_repo, paths=paths)
    assert result.scanned == 1
    assert set(rows(engine)) == {"news/a.md"}


@pytest.mark.parametrize("start_method", ["fork", "forkserver"])
def test_parallel_scan_equals_serial(
    engine, newsroom: Newsroom, tmp_path: Path, monkeypatch, start_method: str
):
    """Worker processes (forked for the CLI, from a forkserver in the threaded bot) and the
    in-process path store the same rows."""
    import multiprocessing

    sample = SAMPLE.read_text()
    for i in range(60):
        body = sample if i % 3 else sample.replace("published: false", "published: true")
        newsroom.write(f"n/{i:03}.md", body.replace("What cities", f"Story {i}: what cities"))
    newsroom.write("n/broken.md", "---\n\tbad: [\n---\n")
    newsroom.commit()
    repo = ContentRepo(tmp_path / "clone.git", str(newsroom.remote), "main")
    repo.fetch()
    monkeypatch.setattr(parser, "PARALLEL_MIN", 10)
    monkeypatch.setattr(parser, "PARALLEL_MIN_FORKSERVER", 10)
    context = multiprocessing.get_context(start_method)
    monkeypatch.setattr(parser, "_pool_context", lambda: context)
    monkeypatch.setattr(parser, "CHUNK", 7)
    scan(engine, repo, FIELDS, ALL_MD, workers=2)
    parallel = {p: _comparable(r) for p, r in rows(engine).items()}
    with engine.begin() as conn:
        conn.execute(ArticleTopic.__table__.delete())
        conn.execute(Article.__table__.delete())
    scan(engine, repo, FIELDS, ALL_MD, workers=1, full=True)
    serial = {p: _comparable(r) for p, r in rows(engine).items()}
    assert parallel == serial
    assert len(serial) == 61


@pytest.mark.parametrize("start_method", ["fork", "forkserver"])
def test_a_streamed_rescan_equals_a_serial_full_scan(
    engine, newsroom: Newsroom, tmp_path: Path, monkeypatch, start_method: str
):
    """A rescan hands blobs to the workers while git still lists changes: the pool starts
    partway through, chunks fill across batches, and the rows match a serial full scan."""
    import multiprocessing

    for i in range(40):
        newsroom.write(f"n/{i:03}.md", article(f"Story {i}", quality=i, published=i % 4 == 0))
    newsroom.commit()
    repo = ContentRepo(tmp_path / "clone.git", str(newsroom.remote), "main")
    repo.fetch()
    scan(engine, repo, FIELDS, ALL_MD, workers=1)
    for i in range(0, 40, 2):  # refreshed scores, flips both ways, a retitle, deletions
        text = article(f"Story {i}", quality=i + 1, published=i % 3 == 0, heat=i)
        newsroom.write(f"n/{i:03}.md", text.replace(f'"Story {i}"', f"Story {i}b", i % 5 == 0))
    for i in (1, 3, 5):
        newsroom.remove(f"n/{i:03}.md")
    newsroom.write("n/new.md", article("New one"))
    newsroom.commit()
    repo.fetch()
    monkeypatch.setattr(parser, "PARALLEL_MIN", 10)
    monkeypatch.setattr(parser, "PARALLEL_MIN_FORKSERVER", 10)
    monkeypatch.setattr(plan, "STREAM_BATCH", 4)
    monkeypatch.setattr(plan, "STREAM_CHUNK", 3)
    monkeypatch.setattr(write, "WRITE_BATCH", 5)
    context = multiprocessing.get_context(start_method)
    monkeypatch.setattr(parser, "_pool_context", lambda: context)
    started: list[int] = []
    real_pool = parser.ProcessPoolExecutor

    def pool(*args: object, **kwargs: object) -> object:
        started.append(1)
        return real_pool(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(parser, "ProcessPoolExecutor", pool)
    result = scan(engine, repo, FIELDS, ALL_MD, workers=2)
    assert (result.mode, result.changed, result.new, result.deleted) == ("diff", 20, 1, 3)
    assert started == [1]

    def stored() -> dict[str, tuple]:
        # A live article keeps what was read while it was a candidate: compare what it
        # was read for; a candidate, all of it and its topics.
        return {
            p: (r.blob_sha, r.title, r.url, r.published, r.error)
            if r.published
            else (*_comparable(r), sorted(topics(engine, p)))
            for p, r in rows(engine).items()
            if r.removed_at is None
        }

    streamed = stored()
    with engine.begin() as conn:
        conn.execute(ArticleTopic.__table__.delete())
        conn.execute(Article.__table__.delete())
    scan(engine, repo, FIELDS, ALL_MD, workers=1, full=True)
    assert streamed == stored()
    assert len(streamed) == 38


def _comparable(row: Article) -> tuple:
    return tuple(
        getattr(row, c)
        for c in Article.__table__.columns.keys()  # noqa: SIM118 (a ColumnCollection)
        if c not in ("id", "first_seen_at", "updated_at")
    )


@pytest.mark.parametrize(
    "flag_text, published", [("true", False), ("false", True), ("no", True), ("yes", False)]
)
def test_draft_style_repos(engine, newsroom: Newsroom, content_repo, flag_text, published):
    """Hugo/Jekyll: ``draft: true`` means unpublished; a missing flag means published."""
    newsroom.write("post.md", f"---\ntitle: Hugo post\ndraft: {flag_text}\n---\nbody\n")
    newsroom.write("plain.md", "---\ntitle: No flag\n---\nbody\n")
    newsroom.commit()
    content_repo.fetch()
    scan(engine, content_repo, FieldMap(flag="draft", flag_style="draft"), ALL_MD)
    got = rows(engine)
    assert got["post.md"].published is published
    assert got["plain.md"].published is True


def test_a_live_article_keeps_what_was_read_while_it_was_a_candidate(
    engine, newsroom: Newsroom, content_repo
):
    """Of a live article only flag, URL and title are read; the rest stays as last known."""
    newsroom.write("a.md", article("Story", quality=77, topics=("AI", "Cities")))
    newsroom.commit()
    do_scan(engine, content_repo)
    newsroom.write("a.md", article("Story, live", quality=77, topics=("AI", "Cities"),
                                   published=True))  # fmt: skip
    newsroom.commit()
    do_scan(engine, content_repo)
    row = rows(engine)["a.md"]
    assert (row.published, row.title, row.quality) == (True, "Story, live", 77)
    assert row.related_json and "Related 0" in row.related_json
    assert topics(engine, "a.md") == {"AI", "Cities"}
    # Born live: nothing beyond flag, URL and title is ever built.
    newsroom.write("b.md", article("Born live", quality=5, published=True))
    newsroom.commit()
    do_scan(engine, content_repo)
    born = rows(engine)["b.md"]
    assert (born.published, born.title, born.quality, born.related_json) == (
        True, "Born live", None, None,
    )  # fmt: skip
    assert born.url == "https://example.org/born-live"
    assert topics(engine, "b.md") == set()


def test_a_candidate_refreshed_in_place_is_read_from_the_lines_that_changed(
    engine, newsroom: Newsroom, content_repo, monkeypatch: pytest.MonkeyPatch
):
    """A collector's refresh of a score, and the bot's own flag flip, are read from the
    changed lines; each row ends up as a whole read of the new file would write it."""
    for name in ("scores", "flip", "retopic", "retitle"):
        newsroom.write(f"{name}.md", article(name.title(), quality=10, topics=("AI",)))
    newsroom.commit()
    do_scan(engine, content_repo)
    newsroom.write("scores.md", article("Scores", quality=12, heat=7, topics=("AI",)))
    newsroom.write("flip.md", article("Flip", quality=10, topics=("AI",), published=True))
    newsroom.write("retopic.md", article("Retopic", quality=10, topics=("Policy",)))
    retitled = article("Retitle", quality=10, topics=("AI",)).replace(': "Retitle"', ": Retitled")
    newsroom.write("retitle.md", retitled)
    newsroom.commit()
    read_from_change: list[str] = []
    real = parser.extract_change

    def spy(path: str, *args: object) -> object:
        got = real(path, *args)  # type: ignore[arg-type]
        if got is not None:
            read_from_change.append(path)
        return got

    monkeypatch.setattr(parser, "extract_change", spy)
    assert do_scan(engine, content_repo).changed == 4
    # The topic list is a block: that file is read whole; so is a new title, which changes
    # what editors vote on (its fingerprint, storage.fingerprint). The rest come from their
    # lines.
    assert sorted(read_from_change) == ["flip.md", "scores.md"]
    got = rows(engine)
    for name in ("scores", "flip", "retopic", "retitle"):
        path = f"{name}.md"
        whole = extract(path, got[path].blob_sha, (newsroom.work / path).read_bytes(), FIELDS)
        columns = PUBLISHED_COLUMNS if whole.published else FULL
        stored = {c: getattr(got[path], c) for c in columns}
        assert {c: as_utc(v) if c == "dated" else v for c, v in stored.items()} == {
            c: getattr(whole, c) for c in columns
        }, path
        assert topics(engine, path) == ({"AI"} if name != "retopic" else {"Policy"})


def test_a_candidate_whose_last_blob_is_gone_is_read_whole(
    engine, newsroom: Newsroom, content_repo
):
    """The blob a row was read from can vanish from the clone (its commit force-pushed away
    and pruned, or a new clone beside the old database): the change is read whole."""
    newsroom.write("a.md", article("Story", quality=10))
    newsroom.commit()
    do_scan(engine, content_repo)
    with engine.begin() as conn:
        conn.execute(Article.__table__.update().values(blob_sha="0" * 40))
    newsroom.write("a.md", article("Story", quality=11))
    newsroom.commit()
    assert do_scan(engine, content_repo).changed == 1
    row = rows(engine)["a.md"]
    assert (row.quality, row.error) == (11, None)
    assert row.blob_sha != "0" * 40


def test_a_new_field_map_reads_every_article_again(engine, newsroom: Newsroom, content_repo):
    """Rows hold what was read with the field map of the time. When `fields:` changes,
    the next scan reads every article again, once, even with no new commit."""
    newsroom.write("a.md", article("Story", quality=10, heat=70))
    newsroom.write("live.md", article("Live", published=True))
    newsroom.commit()
    do_scan(engine, content_repo)
    assert rows(engine)["a.md"].quality == 10
    swapped = FieldMap(quality="heat", heat="quality")
    content_repo.fetch()
    again = scan(engine, content_repo, swapped, ALL_MD)
    assert (again.mode, again.reread, again.changed) == ("full", True, 2)
    assert (rows(engine)["a.md"].quality, rows(engine)["a.md"].heat) == (70, 10)
    # Once: the next scan of the same commit is unchanged again.
    assert scan(engine, content_repo, swapped, ALL_MD).mode == "unchanged"
    # And a refreshed score is read from its changed line under the new map.
    newsroom.write("a.md", article("Story", quality=10, heat=71))
    newsroom.commit()
    content_repo.fetch()
    scan(engine, content_repo, swapped, ALL_MD)
    assert rows(engine)["a.md"].quality == 71


# --- hostile content (issue 9): repeated keys, links, file names, dates ---------------------


def _commit_with_gitlink(newsroom: Newsroom, path: str) -> None:
    """Commit everything plus a submodule (a gitlink) at ``path``."""
    git("add", "-A", cwd=newsroom.work)
    git("update-index", "--add", "--cacheinfo", f"160000,{'1' * 40},{path}", cwd=newsroom.work)
    git("commit", "--quiet", "-m", "with a submodule", cwd=newsroom.work)
    git("push", "--quiet", "origin", f"HEAD:{newsroom.branch}", cwd=newsroom.work)


def test_a_key_the_bot_reads_twice_is_an_error_never_a_candidate(
    engine, newsroom: Newsroom, content_repo
):
    """`published: true` and later `published: false`: PyYAML keeps the last, so the file
    used to be offered, then refused at publish after the votes. Now it is a scan error."""
    twice = article("Twice").replace("published: false", "published: true", 1)
    twice = twice.replace("\nprovider:", "\npublished: false\nprovider:", 1)
    newsroom.write("twice.md", twice)
    newsroom.write("score-twice.md", article("Scored twice").replace("heat: 0", "quality: 99"))
    extra = article("Fine").replace("heat: 0", "heat: 0\nnotes: a\nnotes: b")
    newsroom.write("other-key-twice.md", extra)
    newsroom.commit()
    result = do_scan(engine, content_repo)
    got = rows(engine)
    assert got["twice.md"].error == (
        "duplicate key 'published' on lines 8 and 10: keep one (YAML would silently use the last)"
    )
    assert got["score-twice.md"].error.startswith("duplicate key 'quality' on lines 6 and 7")
    assert got["other-key-twice.md"].error is None  # a key nobody reads may repeat
    assert result.errors == 2
    with engine.connect() as conn:
        assert {a.path for a in unpublished_pool(conn)} == {"other-key-twice.md"}


def test_links_submodules_and_odd_file_names_are_listed_as_skipped(
    engine, newsroom: Newsroom, content_repo
):
    newsroom.write("real.md", article("Real"))
    (newsroom.work / "link.md").symlink_to("real.md")
    newsroom.write("esc\x1b[2Jname.md", article("Escape"))
    newsroom.write("two\nlines.md", article("Newline"))
    newsroom.write("rlo\u202edm.md", article("Bidi"))
    newsroom.write("caf\udce9.md", article("Latin-1 name"))  # the bytes b"caf\xe9.md"
    _commit_with_gitlink(newsroom, "vendor.md")
    result = do_scan(engine, content_repo)
    got = rows(engine)
    skipped = {p: r.error for p, r in got.items() if r.error}
    assert skipped == {
        "link.md": "skipped: a symbolic link, not a file (the bot reads regular files only); "
        "commit the article itself, or exclude the link in content.exclude",
        "vendor.md": "skipped: a git submodule, not a file; exclude it in content.exclude",
        "esc\x1b[2Jname.md": "skipped: the file name has control characters (\\x1b); "
        "rename the file",
        "two\nlines.md": "skipped: the file name has control characters (\\n); rename the file",
        "rlo\u202edm.md": "skipped: the file name has control characters (\\u202e); "
        "rename the file",
        "caf\\xe9.md": "skipped: the file name is not UTF-8; rename the file",
    }
    assert (result.scanned, result.errors) == (7, 6)
    with engine.connect() as conn:
        assert [a.path for a in unpublished_pool(conn)] == ["real.md"]
    # Unchanged: nothing is read again, on either path.
    assert do_scan(engine, content_repo, full=True).changed == 0
    # A file that becomes a link, and a link that becomes a file, follow on a diff scan.
    (newsroom.work / "real.md").unlink()
    (newsroom.work / "real.md").symlink_to("esc\x1b[2Jname.md")
    (newsroom.work / "link.md").unlink()
    newsroom.write("link.md", article("Now a file"))
    git("add", "-A", cwd=newsroom.work)
    git("commit", "--quiet", "-m", "swap", cwd=newsroom.work)
    git("push", "--quiet", "origin", "HEAD:main", cwd=newsroom.work)
    assert do_scan(engine, content_repo).mode == "diff"
    got = rows(engine)
    assert got["real.md"].error.startswith("skipped: a symbolic link")
    assert got["link.md"].error is None and got["link.md"].title == "Now a file"


def test_an_undated_article_takes_its_age_from_the_commit_that_added_it(
    engine, newsroom: Newsroom, content_repo, monkeypatch: pytest.MonkeyPatch
):
    """Not from when the bot first saw it: a 2020 article scanned today is not today's."""
    from bot.rules.candidates import CandidateRules, select_candidates

    monkeypatch.setenv("GIT_AUTHOR_DATE", "2020-05-12T14:00:00Z")
    newsroom.write("old.md", article("Old").replace("2026-11-25T10:00:00Z", "'12/05/2020'"))
    newsroom.write("old-undated.md", article("Old, no date").replace("publishedDateTime", "x"))
    newsroom.commit("2020")
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-11-26T08:00:00Z")
    newsroom.write("new.md", article("New").replace("2026-11-25T10:00:00Z", "'someday'"))
    newsroom.write("dated.md", article("Dated"))
    newsroom.commit("2026")
    asked: list[list[str]] = []
    real = ContentRepo.added_times

    def spy(self: ContentRepo, commit: str, paths: list[str]) -> object:
        asked.append(sorted(paths))
        return real(self, commit, paths)

    monkeypatch.setattr(ContentRepo, "added_times", spy)
    do_scan(engine, content_repo)
    assert asked == [["new.md", "old-undated.md", "old.md"]]  # one git log for all of them
    got = rows(engine)
    when = {p: as_utc(r.added_at) for p, r in got.items()}
    assert when == {
        "old.md": datetime(2020, 5, 12, 14, 0, tzinfo=UTC),
        "old-undated.md": datetime(2020, 5, 12, 14, 0, tzinfo=UTC),
        "new.md": datetime(2026, 11, 26, 8, 0, tzinfo=UTC),
        "dated.md": None,  # its own date is its age
    }
    assert got["old.md"].warning.startswith("publishedDateTime (line 4): '12/05/2020' is not")
    assert got["old-undated.md"].warning is None
    with engine.connect() as conn:
        pool = unpublished_pool(conn)
    now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    chosen = select_candidates(pool, CandidateRules(), now=now)
    assert sorted(a.path for a in chosen) == ["dated.md", "new.md"]

    # A rescan asks git only about what it has not dated yet: the new undated file.
    newsroom.write("dated.md", article("Dated", quality=60))
    newsroom.write("newer.md", article("Newer").replace("publishedDateTime", "x"))
    newsroom.commit()
    do_scan(engine, content_repo)
    assert asked[1:] == [["newer.md"]]
    newsroom.write("dated.md", article("Dated", quality=61))
    newsroom.commit()
    do_scan(engine, content_repo)
    assert asked[1:] == [["newer.md"]]  # nothing new to date: no git log at all


def test_when_git_cannot_be_asked_a_full_scan_dates_them_later(
    engine, newsroom: Newsroom, content_repo, monkeypatch: pytest.MonkeyPatch
):
    newsroom.write("a.md", article("A").replace("publishedDateTime", "x"))
    newsroom.commit()
    real = ContentRepo.added_times

    def broken(self: ContentRepo, commit: str, paths: list[str]) -> object:
        raise GitError("git log: fatal: something went wrong")

    monkeypatch.setattr(ContentRepo, "added_times", broken)
    do_scan(engine, content_repo)  # logged, not fatal
    assert rows(engine)["a.md"].added_at is None  # not offered: its age is unknown
    monkeypatch.setattr(ContentRepo, "added_times", real)
    do_scan(engine, content_repo, full=True)
    assert rows(engine)["a.md"].added_at is not None


def test_an_undated_article_git_cannot_date_counts_as_old(
    engine, newsroom: Newsroom, content_repo, monkeypatch: pytest.MonkeyPatch
):
    newsroom.write("a.md", article("A").replace("publishedDateTime", "x"))
    newsroom.commit()
    monkeypatch.setattr(ContentRepo, "added_times", lambda self, commit, paths: {})
    do_scan(engine, content_repo)
    assert as_utc(rows(engine)["a.md"].added_at) == age.UNKNOWN_AGE


# --- two scans at once (issue 9, item 16) ----------------------------------------------------


def _scan_cli(env: dict[str, str]):
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT

    return subprocess.Popen(
        [sys.executable, "-m", "bot", "scan"], cwd=REPO_ROOT, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def test_two_scans_at_once_on_a_new_database(
    engine: Engine, db_url: str, newsroom: Newsroom, tmp_path: Path
):
    """Both finish without an error (no UNIQUE violation on article.path): they take turns."""
    import os

    for i in range(600):
        newsroom.write(f"news/{i:03d}.md", article(f"Story {i}"))
    head = newsroom.commit("collect")
    env = {**os.environ, "DATABASE_URL": db_url}
    for replica in ("a", "b"):  # each with its own clone, as on two hosts
        config = tmp_path / f"{replica}.yml"
        config.write_text(
            f"content:\n  remote: {newsroom.remote}\n  checkout: {tmp_path / replica}.git\n"
            'slack:\n  channel: "#curation"\n'
        )
    procs = [_scan_cli({**env, "CURATOR_CONFIG": str(tmp_path / f"{r}.yml")}) for r in "ab"]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert all("Traceback" not in err for _, err in outs), outs
    lines = sorted(out.splitlines()[-1] for out, _ in outs)
    assert lines == [
        f"scanned 600 at {head[:12]} (full): 600 new, 0 changed, 0 deleted, 0 unchanged, 0 errors",
        f"scanned 600 at {head[:12]} (unchanged): 0 new, 0 changed, 0 deleted, 600 unchanged, "
        "0 errors",
    ]
    assert len(rows(engine)) == 600


def test_a_scan_waits_for_the_running_one_then_says_so(
    engine: Engine, db_url: str, newsroom: Newsroom, tmp_path: Path, monkeypatch
):
    import threading

    from click.testing import CliRunner

    from bot.cli.main import cli
    from storage.db import make_engine
    from storage.locks import run_lock

    newsroom.write("news/a.md", article("Alpha"))
    newsroom.commit()
    config = tmp_path / "curator.yml"
    config.write_text(f'content:\n  remote: {newsroom.remote}\nslack:\n  channel: "#c"\n')
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setattr(scan_package, "SCAN_WAIT", 0.2)
    other = make_engine(db_url)  # another process's scan, as far as the lock can tell
    runner = CliRunner()
    try:
        with run_lock(other, "scan"):
            busy = runner.invoke(cli, ["-c", str(config), "scan"])
        assert busy.exit_code == 0, busy.output
        assert busy.output.startswith("another scan is running (since ")
        assert busy.output.rstrip().endswith("; try again once it is done")
        assert rows(engine) == {}

        # Within the wait, the scan simply runs after the other one.
        monkeypatch.setattr(scan_package, "SCAN_WAIT", 30)
        held, release = threading.Event(), threading.Event()

        def other_scan() -> None:
            with run_lock(other, "scan"):
                held.set()
                release.wait(10)

        thread = threading.Thread(target=other_scan)
        thread.start()
        held.wait(10)
        threading.Timer(0.3, release.set).start()
        done = runner.invoke(cli, ["-c", str(config), "scan"])
        thread.join()
        assert done.exit_code == 0, done.output
        assert "1 new" in done.output and set(rows(engine)) == {"news/a.md"}
    finally:
        other.dispose()
