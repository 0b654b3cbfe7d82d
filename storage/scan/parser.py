"""Reading and parsing blobs, in worker processes when there are many."""

from __future__ import annotations

import collections
import multiprocessing
import multiprocessing.context
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from storage.extract import ArticleData, extract, extract_change
from storage.fields import FieldMap
from storage.gitrepo import BlobReader
from storage.lifeline import follow
from storage.scan.collect import for_worker
from storage.scan.records import Todo

# Below this many blobs, starting worker processes costs more than it saves (a forkserver
# must start, and its workers connect back to it; a forked worker starts in milliseconds).
PARALLEL_MIN = 400
PARALLEL_MIN_FORKSERVER = 2000
CHUNK = 500
# Chunks per worker handed out and not yet taken back by the caller.
IN_FLIGHT = 3


# (path, blob sha, the blob a whole read of it came from if a change can be read from there,
# why it is not read at all)
_Item = tuple[str, str, str | None, str | None]


def _base(todo: Todo) -> str | None:
    known = todo.known
    whole = known is not None and known.whole and not known.removed and todo.skip is None
    return known.sha if whole else None


def chunk_size(count: int, workers: int) -> int:
    # Several chunks per worker, so the workers share the work evenly and the first results
    # reach the database while the rest are still being parsed.
    return max(50, min(CHUNK, -(-count // (workers * 4))))


class Parser:
    """Blobs to parse, handed over as they are found; results come back in that order.

    A few are parsed in this process, once all are known. Once there are enough to pay for
    starting them, worker processes take chunks as they fill, while the caller goes on
    finding more. At most IN_FLIGHT chunks per worker wait for the caller to take their
    results (see :meth:`results`), so what is held stays the same whatever the repo's size.
    """

    def __init__(self, git_dir: Path, fields: FieldMap, workers: int | None) -> None:
        self.git_dir, self.fields = git_dir, fields
        self.workers = workers or os.cpu_count() or 1
        # Chosen now, while the process has only the threads it came with.
        self._context = _pool_context()
        fork = self._context.get_start_method() == "fork"
        self._threshold = PARALLEL_MIN if fork else PARALLEL_MIN_FORKSERVER
        self._pool: ProcessPoolExecutor | None = None
        self._reader: BlobReader | None = None  # for the chunks parsed in this process
        self._chunks: list[list[_Item]] = []  # not yet handed to a worker
        self._futures: collections.deque[Future[list[ArticleData]]] = collections.deque()
        self._count = 0

    def add(self, todo: Sequence[Todo], *, size: int) -> None:
        items = [(t.path, t.sha, _base(t), t.skip) for t in todo]
        if self._chunks and len(self._chunks[-1]) < size:  # top up a chunk left short
            room = size - len(self._chunks[-1])
            self._chunks[-1].extend(items[:room])
            items = items[room:]
        self._chunks += [items[i : i + size] for i in range(0, len(items), size)]
        self._count += len(todo)
        if self._pool is None and self.workers > 1 and self._count >= self._threshold:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=self._context,
                initializer=_worker_init,
                initargs=(str(self.git_dir), self.fields, os.getpid()),
            )
        if self._pool is not None:
            # Full chunks go out now; a short last one may still grow.
            ready = len(self._chunks)
            if ready and len(self._chunks[-1]) < size:
                ready -= 1
            self._submit(ready)

    def _submit(self, count: int) -> None:
        assert self._pool is not None
        for chunk in self._chunks[:count]:
            self._futures.append(self._pool.submit(_worker_parse, chunk))
        del self._chunks[:count]

    def results(self, *, final: bool = True) -> Iterator[list[ArticleData]]:
        """Parsed articles in chunks, in the order they were added.

        ``final``: nothing more will be added; every result comes. Otherwise only what keeps
        memory bounded: results the workers are done with, and the oldest ones (waited for)
        while more than IN_FLIGHT chunks per worker are out. Without workers, nothing yet
        while few are waiting (the workers may still start), all but a short last chunk once
        they never will (a single worker).
        """
        if self._pool is None:
            if final:
                count = len(self._chunks)
            elif self.workers > 1:
                return
            else:
                count = max(0, len(self._chunks) - 1)
            for _ in range(count):
                if self._reader is None:
                    self._reader = BlobReader(self.git_dir)
                yield _parse_chunk_with(self._reader, self._chunks.pop(0), self.fields)
            return
        if final:
            self._submit(len(self._chunks))
        limit = 0 if final else IN_FLIGHT * self.workers
        # Let go of each result once it is handed over.
        while self._futures and (len(self._futures) > limit or self._futures[0].done()):
            yield self._futures.popleft().result()

    def __enter__(self) -> Parser:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._reader is not None:
            self._reader.close()
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)


def _pool_context() -> multiprocessing.context.BaseContext:
    """fork when this process has no other thread (the CLI): workers start in milliseconds.
    forkserver otherwise (the bot, with its scheduler and Slack threads): forking a process
    with threads can copy a lock some thread holds, and deadlock the child."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["storage.extract", "storage.gitrepo"])
    return context


_worker_state: dict[str, object] = {}


def _worker_init(git_dir: str, fields: FieldMap, parent: int) -> None:
    follow(parent)  # end with the scan, even when it is killed
    for_worker()
    _worker_state["reader"] = BlobReader(Path(git_dir))
    _worker_state["fields"] = fields


def _worker_parse(chunk: list[_Item]) -> list[ArticleData]:
    reader = _worker_state["reader"]
    fields = _worker_state["fields"]
    assert isinstance(reader, BlobReader) and isinstance(fields, FieldMap)
    return _parse_chunk_with(reader, chunk, fields)


def _parse_chunk_with(
    reader: BlobReader, chunk: list[_Item], fields: FieldMap
) -> list[ArticleData]:
    bases = [base for _, _, base, _ in chunk if base is not None]
    blobs = iter(reader.read_many([sha for _, sha, _, skip in chunk if skip is None]))
    # A base the clone lost (its commit force-pushed away and pruned, a new clone kept with
    # the old database) only means reading that article whole.
    old = dict(zip(bases, reader.read_present(bases), strict=True))
    parsed = []
    for path, sha, base, skip in chunk:
        if skip is not None:
            parsed.append(ArticleData(path, sha, error=skip))
            continue
        data = next(blobs)
        before = None if base is None else old[base]
        read = None if before is None else extract_change(path, sha, data, before, fields)
        parsed.append(read or extract(path, sha, data, fields))
    return parsed
