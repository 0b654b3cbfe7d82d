"""Python's cycle collector, set for a scan: rarely, since a scan makes no cycles to collect.

A full scan allocates a few tuples, dicts and rows per article, nearly all freed by their
reference counts at once. The collector's default (a pass every 700 new containers, a full
pass over every live object every hundred of those) then spends a tenth of the scan's CPU
walking objects that are not garbage, in the main process and in each worker. During a
scan it runs every GEN0 new containers instead, and in a worker the modules it imported are
frozen out of its passes (``gc.freeze``): memory stays bounded, as cycles are still
collected, a few hundred times less often.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

GEN0 = 50_000

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, int, int] | None = None


@contextlib.contextmanager
def rarely() -> Iterator[None]:
    """Collect every GEN0 new containers while the block runs, then as before.

    The threshold is the process's own: nested or concurrent blocks share one change, and
    the last to leave puts the old threshold back.
    """
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(max(GEN0, _saved[0]), *_saved[1:])
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None


def for_worker() -> None:
    """In a worker process, for good: freeze what it imported, collect every GEN0.

    No collection first: a forked worker comes with the whole heap of the scan's process,
    and one full pass over it (writing to every object's header, so copying every page the
    fork shared) cost 60-90 ms per worker before its first blob. What is frozen is never
    looked at again, garbage or not, and takes no page more than the fork gave it.
    """
    gc.freeze()
    threshold = gc.get_threshold()
    gc.set_threshold(max(GEN0, threshold[0]), *threshold[1:])
