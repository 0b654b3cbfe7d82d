"""A scan runs with Python's cycle collector set to run rarely (storage.scan.collect): in the
main process while it scans, and for good in each worker, whose imports are frozen out of
the collector's passes. The rows are those of a scan with the default collector."""

from __future__ import annotations

import gc
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

import storage.scan
from storage.gitrepo import ContentRepo
from storage.scan import collect, parser, scan
from tests.helpers import Newsroom
from tests.test_scan_slices import ALL_MD, FIELDS, clear, stored, write_articles

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fork with threads


@pytest.fixture
def repo(newsroom: Newsroom, tmp_path: Path) -> ContentRepo:
    write_articles(newsroom, 30)
    repo = ContentRepo(tmp_path / "clone.git", str(newsroom.remote), "main")
    repo.fetch()
    return repo


def test_rarely_raises_the_threshold_and_puts_it_back():
    before = gc.get_threshold()
    with collect.rarely():
        assert gc.get_threshold() == (max(collect.GEN0, before[0]), *before[1:])
        with collect.rarely():  # nested: one change
            assert gc.get_threshold()[0] == max(collect.GEN0, before[0])
        assert gc.get_threshold()[0] == max(collect.GEN0, before[0])
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError), collect.rarely():
        raise RuntimeError
    assert gc.get_threshold() == before


def test_a_scan_collects_rarely_and_stores_the_same_rows(
    engine: Engine, repo: ContentRepo, monkeypatch: pytest.MonkeyPatch
):
    before = gc.get_threshold()
    seen: list[int] = []
    real = storage.scan.apply_changes

    def apply_changes(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(gc.get_threshold()[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(storage.scan, "apply_changes", apply_changes)
    scan(engine, repo, FIELDS, ALL_MD, workers=1)
    assert seen == [max(collect.GEN0, before[0])]
    assert gc.get_threshold() == before  # put back after the scan
    rare = stored(engine)

    clear(engine)
    monkeypatch.setattr(storage.scan, "rarely", gc_as_is)
    scan(engine, repo, FIELDS, ALL_MD, workers=1)
    assert stored(engine) == rare


def gc_as_is():  # type: ignore[no-untyped-def]
    import contextlib

    return contextlib.nullcontext()


def _worker_gc() -> tuple[tuple[int, int, int], int]:
    return gc.get_threshold(), gc.get_freeze_count()


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_a_worker_freezes_its_imports_and_collects_rarely(repo: ContentRepo):
    before = gc.get_threshold()
    init = (str(repo.git_dir), FIELDS, os.getpid())
    with ProcessPoolExecutor(
        1, mp_context=multiprocessing.get_context("fork"),
        initializer=parser._worker_init, initargs=init,
    ) as pool:  # fmt: skip
        threshold, frozen = pool.submit(_worker_gc).result()
    assert threshold == (max(collect.GEN0, before[0]), *before[1:])
    assert frozen > 1000  # the modules it came with
    assert gc.get_threshold() == before  # this process is left alone


def test_a_worker_starts_without_a_pass_over_the_heap_it_came_with(monkeypatch):
    """A forked worker holds the scan process's whole heap: a collection there is a full
    walk of it (and copies every page the fork shared) before the first blob is read."""
    passes: list[object] = []
    monkeypatch.setattr(gc, "collect", lambda *a: passes.append(a) or 0)
    before = gc.get_threshold()
    try:
        collect.for_worker()
        assert passes == []
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
