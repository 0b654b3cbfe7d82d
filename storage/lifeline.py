"""Worker processes end with the process that started them.

A pool's workers wait for work on a pipe that each of them also holds open, so when their
parent is killed (kill -9, the OOM killer) nothing ever tells them: they would wait for
good, and keep the forkserver that forked them alive too. A worker that calls
:func:`follow` (as its pool initializer) exits as soon as that parent is gone.
"""

from __future__ import annotations

import os
import select
import threading
import time


def follow(parent: int) -> None:
    """End this process when process ``parent`` ends (a thread watches it)."""
    threading.Thread(target=_watch, args=(parent,), name="lifeline", daemon=True).start()


def _watch(parent: int) -> None:
    try:
        # Linux 5.3+: a descriptor that becomes readable when the process ends, zombie or
        # not, and can never point to another process that reuses the pid.
        fd = os.pidfd_open(parent)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):
        while _running(parent):
            time.sleep(0.5)
    else:
        select.select([fd], [], [])
    os._exit(1)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
