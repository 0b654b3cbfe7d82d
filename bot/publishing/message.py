"""The commit message and the frontmatter templates of a publish, from the posts it publishes.

Paths, titles, names and links come from others: each is escaped (storage/commit_text.py)
so that nothing can start a line of its own, such as a forged trailer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.config import Config
from bot.rules import states
from storage.commit_text import one_line
from storage.controls import escape_controls
from storage.publish_commit import BATCH_TRAILER
from storage.publish_log import QueuedPost

#: Placeholders ``content.set_on_publish`` templates may use.
TEMPLATE_FIELDS = ("approvers", "approver_ids", "date", "datetime", "permalink", "channel")


@dataclass(frozen=True)
class Candidate(QueuedPost):
    """An approved (or blocked) post as storage queued it, with the editors whose votes
    approved it: what the commit and the report need. A post queued to be unpublished has
    instead who asked for that: the editors whose unpublish reactions are on its card, and
    the operator of ``curator unpublish`` (user id "").
    """

    approvers: tuple[tuple[str, str], ...] = ()  # (user id, display name)

    @property
    def unpublish(self) -> bool:
        return self.status == states.UNPUBLISHING


def display_name(name: str | None, user_id: str) -> str:
    """A name safe in a trailer: one line, no angle brackets, no control characters; the
    user id when empty."""
    return one_line((name or "").replace("<", "").replace(">", "")) or one_line(user_id)


def commit_message(
    posts: Sequence[Candidate], token: str, *, desks: Sequence[str] | None = None
) -> str:
    """Subject with the count, a body line per article, and trailers a reviewer can grep:
    ``Approved-by: Name <U123>`` per editor, ``Slack-Thread: <permalink>`` per post, and the
    ``Curator-Batch:`` token that lets an interrupted run be finished.

    With ``desks`` (the config's, in its order) the articles are grouped by their desk, each
    group under a ``Desk: <name>`` line; a post of none of them comes last, under its own.

    Paths, titles, names and links are escaped (storage/commit_text.py): a newline in any
    of them must never start a line, such as a forged ``Approved-by:``.

    An unpublish (``Candidate.unpublish``) shares the commit: the articles taken back follow
    under an ``Unpublished:`` line, grouped alike, and ``Unpublished-by:`` trailers name who
    asked, after the ``Approved-by:`` ones.
    """
    ups = [c for c in posts if not c.unpublish]
    downs = [c for c in posts if c.unpublish]
    lines = [_subject(len(ups), len(downs)), ""]
    lines += _grouped(ups, desks, "approved")
    if downs:
        lines += ["", "Unpublished:"] if ups else ["Unpublished:"]
        lines += _grouped(downs, desks, "unpublished")
    lines.append("")
    for trailer, group in (("Approved-by", ups), ("Unpublished-by", downs)):
        seen: set[str] = set()
        for c in group:
            for user, name in c.approvers:
                if (user or name) not in seen:
                    seen.add(user or name)
                    who = f"<{one_line(user)}>" if user else "(curator unpublish)"
                    lines.append(f"{trailer}: {name} {who}")
    lines += [f"Slack-Thread: {one_line(c.permalink)}" for c in posts if c.permalink]
    lines.append(f"{BATCH_TRAILER}: {token}")
    return "\n".join(lines) + "\n"


def _subject(ups: int, downs: int) -> str:
    def articles(n: int) -> str:
        return f"{n} article{'' if n == 1 else 's'}"

    if not downs:
        return f"Publish {articles(ups)} approved in Slack"
    if not ups:
        return f"Unpublish {articles(downs)}"
    return f"Publish {articles(ups)} approved in Slack, unpublish {articles(downs)}"


def _grouped(posts: Sequence[Candidate], desks: Sequence[str] | None, verb: str) -> list[str]:
    if desks is None:
        return _articles(posts, verb)
    lines: list[str] = []
    groups: dict[str | None, list[Candidate]] = {name: [] for name in desks}
    for c in posts:
        groups.setdefault(c.desk, []).append(c)
    shown = [(name, group) for name, group in groups.items() if group]
    for i, (name, group) in enumerate(shown):
        lines += [""] if i else []
        lines += [f"Desk: {one_line(name or '') or 'none'}", *_articles(group, verb)]
    return lines


def _articles(posts: Sequence[Candidate], verb: str) -> list[str]:
    lines = []
    for c in posts:
        title, path = one_line(c.title or "")[:120], escape_controls(c.path)
        lines.append(f"- {title}" if title else f"- {path}")
        if title:
            lines.append(f"  {path}")
        if c.approvers:
            lines.append(f"  {verb} by {', '.join(name for _, name in c.approvers)}")
    return lines


def check_templates(templates: Mapping[str, str]) -> None:
    """Raise ValueError naming the key when a set_on_publish template cannot be filled."""
    sample = dict.fromkeys(TEMPLATE_FIELDS, "")
    known = ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS)
    for key, template in templates.items():
        try:
            template.format_map(sample)
        except KeyError as exc:
            problem = f"unknown placeholder {{{exc.args[0]}}}"
        except (ValueError, AttributeError, IndexError) as exc:
            problem = str(exc)
        else:
            continue
        raise ValueError(
            f"content.set_on_publish.{key}: cannot fill {template!r}: {problem}; "
            f"the placeholders are {known}"
        )


def set_on_publish(config: Config, post: Candidate, now: datetime) -> dict[str, str]:
    """The extra frontmatter keys of one article, from the config's templates."""
    templates = config.content.set_on_publish
    if not templates:
        return {}
    local = now.astimezone(config.zone)
    values = {
        "approvers": ", ".join(name for _, name in post.approvers),
        "approver_ids": ", ".join(user for user, _ in post.approvers),
        "date": local.date().isoformat(),
        "datetime": local.isoformat(timespec="seconds"),
        "permalink": post.permalink or "",
        "channel": post.channel,
    }
    return {key: template.format_map(values) for key, template in templates.items()}
