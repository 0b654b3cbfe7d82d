"""Entries of the content tree that match the article globs but are never read, and why.

A symlink or a submodule is not an article file, and a file name with control characters
(a newline, ESC) or bytes that are not UTF-8 would forge or garble every line that shows it.
The scan records each as an error row with the reason, so `curator scan --errors` lists it
and it can never become a candidate: nothing is dropped without a word.
"""

from __future__ import annotations

from storage.controls import CONTROLS, escape_controls


def stored_path(path: str) -> str:
    """The path as the database keeps it: a name that is not UTF-8 (decoded with
    surrogateescape) gets its odd bytes as ``\\xe9``, which any database can store."""
    if path.isascii():
        return path
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return path


def skip_reason(path: str, kind: str) -> str | None:
    """Why the scan does not read this entry (one line), or None for an article file.

    ``path`` as git gave it (surrogateescape), ``kind`` as ``storage.git_diff.kind_of`` says.
    """
    if kind == "file" and path.isascii() and path.isprintable():
        return None  # nearly every path: C0 and DEL are the only ASCII controls
    if stored_path(path) != path:
        return "skipped: the file name is not UTF-8; rename the file"
    controls = sorted(set(CONTROLS.findall(path)))
    if controls:
        shown = ", ".join(escape_controls(c) for c in controls)
        return f"skipped: the file name has control characters ({shown}); rename the file"
    if kind == "symlink":
        return (
            "skipped: a symbolic link, not a file (the bot reads regular files only); "
            "commit the article itself, or exclude the link in content.exclude"
        )
    if kind == "submodule":
        return "skipped: a git submodule, not a file; exclude it in content.exclude"
    return None
