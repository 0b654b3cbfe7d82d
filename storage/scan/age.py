"""The age of an unpublished article without a usable date: when git says it was added."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Engine

from storage.git_command import GitError
from storage.gitrepo import ContentRepo
from storage.models import Article

log = logging.getLogger(__name__)
ARTICLE = Article.__table__

# The age of an undated article whose adding commit git cannot name (it came in with a
# merge's own change, or before a shallow clone's edge): old, so it is never offered as
# today's, and not looked up again.
UNKNOWN_AGE = datetime(1970, 1, 1, tzinfo=UTC)


def age_from_git(engine: Engine, repo: ContentRepo, commit: str, ids: list[int] | None) -> None:
    """Unpublished articles without a usable date take their age from the commit that added
    the file (never from when the bot first saw it, which would make an old article look
    new): one ``git log`` for all of ``ids`` (None: every article) that have none yet.
    """
    if ids is not None and not ids:
        return
    a = ARTICLE
    undated = select(a.c.id, a.c.path).where(
        a.c.published.is_(False), a.c.error.is_(None), a.c.removed_at.is_(None),
        a.c.dated.is_(None), a.c.added_at.is_(None),
    )  # fmt: skip
    with engine.connect() as conn:
        if ids is None:
            rows = list(conn.execute(undated))
        else:
            rows = []
            for i in range(0, len(ids), 500):  # stay under bound-parameter limits
                rows.extend(conn.execute(undated.where(a.c.id.in_(ids[i : i + 500]))))
    if not rows:
        return
    try:
        found = repo.added_times(commit, [r.path for r in rows])
    except GitError as exc:
        log.warning(
            "could not ask git when %d undated articles were added (%s); they are not offered "
            "until 'curator scan --full' can", len(rows), exc,
        )  # fmt: skip
        return
    ages = [{"b_id": r.id, "added_at": found.get(r.path, UNKNOWN_AGE)} for r in rows]
    with engine.begin() as conn:
        conn.execute(
            update(a).where(a.c.id == bindparam("b_id")).values(added_at=bindparam("added_at")),
            ages,
        )
