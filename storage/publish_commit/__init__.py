"""Publish articles in one commit on top of the remote tip, without a working tree.

For each article the blob at the tip is read, re-checked (still unpublished, still editable)
and rewritten byte-minimally by :func:`storage.frontmatter.set_keys`. The new blobs go into
the object store, a temporary index read from the tip takes them, and ``commit-tree`` makes
one commit whose parent is the tip. The push is a fast-forward or nothing: when someone
pushed in between, the edits are redone on the new tip, every article re-checked, a bounded
number of times. ``git`` runs with argument lists, never a shell, and its errors are scrubbed
of credentials (:func:`storage.credentials.scrub`).

The caller takes the steps (:func:`plan_attempt`, :func:`prepare`, :func:`push`,
:func:`next_tip`), writes the commit message from the plan and records what it must between
them: bot/publishing/job.py writes its batch ahead of each push.
"""

from storage.publish_commit.attempt import Attempt, next_tip, plan_attempt, prepare, push
from storage.publish_commit.history import (
    changed_paths,
    find_publisher,
    find_pushed,
    read_message,
)
from storage.publish_commit.planning import (
    PARALLEL_MIN,
    Edited,
    edit_all,
    edit_article,
    plan,
    tree_entries,
    unified_diff,
)
from storage.publish_commit.results import (
    BATCH_TRAILER,
    ArticleResult,
    Author,
    Edit,
    Outcome,
    PublishResult,
    PushRejected,
    Scalar,
)
from storage.publish_commit.write import push_commit, write_blobs, write_commit

__all__ = [
    "BATCH_TRAILER",
    "PARALLEL_MIN",
    "ArticleResult",
    "Attempt",
    "Author",
    "Edit",
    "Edited",
    "Outcome",
    "PublishResult",
    "PushRejected",
    "Scalar",
    "changed_paths",
    "edit_all",
    "edit_article",
    "find_publisher",
    "find_pushed",
    "next_tip",
    "plan",
    "plan_attempt",
    "prepare",
    "push",
    "push_commit",
    "read_message",
    "tree_entries",
    "unified_diff",
    "write_blobs",
    "write_commit",
]  # fmt: skip
