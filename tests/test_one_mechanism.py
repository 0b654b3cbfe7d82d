"""One mechanism per idea: the escaper, the scrubber and the scan's problem listing are
each defined once, so they cannot grow apart again.

Issue 9 review: commit messages had an escaper of their own that missed bidi controls,
storage had two weaker credential hiders, the terminal had a second name for the escaper,
and the scan's errors and warnings two near-copies of one query.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO_ROOT

# Each idea, by the one name it has and the one module that defines it.
ONE_PLACE = {
    "escape_controls": "storage/controls.py",
    "scrub": "storage/credentials.py",
    "scan_problems": "storage/articles.py",
}
# Names those ideas used to go by elsewhere.
GONE = {"printable", "has_controls", "redact", "scan_errors", "scan_warnings"}


def _defined() -> dict[str, list[str]]:
    """Every top-level function name in bot/ and storage/, with the modules defining it."""
    found: dict[str, list[str]] = {}
    for package in ("bot", "storage"):
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            for node in tree.body:
                if isinstance(node, ast.FunctionDef):
                    found.setdefault(node.name, []).append(str(path.relative_to(REPO_ROOT)))
    return found


def test_each_idea_is_defined_once_under_one_name():
    defined = _defined()
    for name, module in ONE_PLACE.items():
        assert defined.get(name) == [str(Path(module))], (name, defined.get(name))
    assert not GONE & defined.keys(), sorted(GONE & defined.keys())
