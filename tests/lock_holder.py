"""Hold a run lock until killed (for tests that SIGKILL the holder).

    python tests/lock_holder.py DB_URL NAME

Prints "held" once the lock is taken, then sleeps.
"""

from __future__ import annotations

import sys
import time

from storage.db import make_engine
from storage.locks import run_lock


def main(db_url: str, name: str) -> None:
    with run_lock(make_engine(db_url), name):
        print("held", flush=True)
        time.sleep(600)


if __name__ == "__main__":
    main(*sys.argv[1:])
