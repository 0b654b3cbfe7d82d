"""The states a candidate post moves through, as the rules name them.

Plain words, so the rules need nothing from storage: ``storage.models.PostStatus`` stores the
same words, and ``tests/test_layout_rules.py`` checks that the two agree.
"""

from __future__ import annotations

OPEN = "open"  # being voted on
APPROVED = "approved"  # waiting to be published
REJECTED = "rejected"
PUBLISHED = "published"
EXPIRED = "expired"  # no decision within the voting window
BLOCKED = "blocked"  # approved, but publishing could not edit the file for now
SKIPPED = "skipped"  # its card could not be built, or Slack refused it: never in Slack
UNPUBLISHING = "unpublishing"  # published, queued to be taken back by the next publish run
UNPUBLISHED = "unpublished"  # taken back: its flag flipped back by a publish run

ALL = (OPEN, APPROVED, REJECTED, PUBLISHED, EXPIRED, BLOCKED, SKIPPED, UNPUBLISHING, UNPUBLISHED)
# Where votes no longer move a post; only a quorum of unpublish votes moves a published one
# (bot.rules.tally.next_status).
FINAL = (PUBLISHED, EXPIRED, UNPUBLISHING, UNPUBLISHED)
