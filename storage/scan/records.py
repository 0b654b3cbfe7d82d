"""What a scan reports, and what it knows of each article it has to read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Progress = Callable[[int, int], None]


@dataclass
class ScanResult:
    """Counts a scan reports; ``mode`` says how the changes were found."""

    commit: str
    mode: str  # "unchanged" | "diff" | "full"
    scanned: int = 0
    new: int = 0
    changed: int = 0
    deleted: int = 0
    unchanged: int = 0
    errors: int = 0
    # Files read by this scan with a warning (`curator scan --errors` lists every one):
    # counted as they are read, so an unchanged rescan costs no more.
    warnings: int = 0
    # Every article read again: the field map or the extraction rules changed since.
    reread: bool = False


@dataclass(frozen=True)
class Known:
    """An article the database has: its row, the blob it was read from, whether removed."""

    id: int
    sha: str
    removed: bool
    # Last read whole and without error, as an unpublished article: a change can be read
    # from the lines that changed (see extract_change).
    whole: bool


@dataclass
class Todo:
    """A blob to read: an article that is new, changed, or came back.

    ``skip`` says why it is recorded as an error without being read (a symlink, a file
    name with control characters: see storage.skipped).
    """

    path: str
    sha: str
    known: Known | None
    skip: str | None = None
