"""Read queries behind ``/digest`` and the morning summary: candidate cards with their articles.

Every filter runs in SQL, over ``post`` alone (a card per posted story, about a tenth of the
articles): each card carries a copy of what its article is filtered and sorted by (its
quality, heat, date, removal, lowered title and excerpt and topic keys; storage/card_keys.py,
kept in step by triggers), so its cost follows the number of cards in scope, never the million rows
of ``article``, which is read by primary key for the cards shown only.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, and_, exists, func, literal, literal_column, or_, select
from sqlalchemy.sql.elements import ColumnElement

from storage.articles import ARTICLE, POST, ArticleView, topics_of, view_of_row
from storage.card_keys import SEP, topic_test
from storage.models import PostStatus, PublishHold, Vote, required_utc
from storage.votes import Reaction, counted_vote

VOTE = Vote.__table__
HOLD = PublishHold.__table__

Order = Literal["best", "oldest", "changed"]


@dataclass(frozen=True)
class PostView:
    """A candidate card and its article, as a digest or summary line shows it."""

    post_id: int
    status: str
    channel: str
    day: str
    permalink: str | None
    commit_sha: str | None
    posted_at: datetime
    changed_at: datetime
    article: ArticleView
    desk: str | None = None  # as stored: None for a card from before desks


@dataclass(frozen=True)
class PostPage:
    """The cards shown, and how many matched in all (for "10 of 37"); with ``capped``,
    more than ``total`` matched and they were not counted ("10 of 1,000+")."""

    posts: list[PostView]
    total: int
    capped: bool = False


def find_posts(
    conn: Connection,
    *,
    statuses: Collection[str],
    published_since: datetime | None = None,
    since: datetime | None = None,
    topics: Collection[str] = (),
    min_quality: float | None = None,
    words: Sequence[str] = (),
    day: str | None = None,
    desk: str | None = None,
    known_desks: Collection[str] | None = None,
    limit: int | None = None,
    order: Order = "best",
    count_up_to: int | None = None,
) -> PostPage:
    """Cards in any of ``statuses`` whose articles match every filter given.

    ``published_since`` narrows only the published cards (the digest's "published recently");
    ``since`` narrows every card to those whose state changed since then (posted, decided,
    published). ``topics`` match any of the case-folded topic keys; each of ``words`` must
    appear in the title or the excerpt, case-insensitively (SQLite folds ASCII letters only).
    Order "best" is quality, then heat, then the newest article; "oldest" is the posting order;
    "changed" the order of the last state change. ``desk`` and ``known_desks``: the cards of
    one desk (see :func:`_desk_condition`). ``count_up_to`` (with ``limit``): count no further
    than that; more matches give a ``capped`` page, whose cards are read in order from an index
    rather than sorted from every match.
    """
    p, dialect = POST, conn.dialect.name
    conditions: list[ColumnElement[bool]] = [p.c.status.in_(list(statuses))]
    if published_since is not None and dialect == "postgresql":
        conditions[0] = _scope(statuses, published_since)
    elif published_since is not None:
        conditions.append(
            or_(p.c.status != PostStatus.PUBLISHED, p.c.status_changed_at >= published_since)
        )
    if since is not None:
        conditions.append(p.c.status_changed_at >= since)
    if day is not None:
        conditions.append(p.c.day == day)
    if desk is not None:
        conditions.append(_desk_condition(desk, known_desks))
    # A card whose file left the repo can no longer be decided; a published one is history.
    conditions.append(or_(p.c.art_removed_at.is_(None), p.c.status == PostStatus.PUBLISHED))
    if min_quality is not None:
        conditions.append(and_(p.c.art_quality.is_not(None), p.c.art_quality >= min_quality))
    if topics:
        # The card's copy of its article's topic keys, each between separators (card_keys).
        keys = sorted({t.casefold() for t in topics})
        conditions.append(or_(*(_holds(dialect, p.c.art_topics, topic_test(k)) for k in keys)))
    tests = word_conditions(words, dialect, p.c)
    walk_conditions = [*conditions, *tests]
    if dialect == "sqlite":  # "+": not by the index of states (see the walk below)
        walk_conditions[0] = literal_column("+post.status").in_(list(statuses))
    cap = count_up_to if limit is not None else None
    # Every test and sort key is on the card (its copy of the article: storage.card_keys), so
    # the cards in scope are read from ``post`` alone, never from a million articles. Two
    # stages in one statement: "matching" holds the sort keys of every matching card (up to
    # the cap; MATERIALIZED: PostgreSQL builds it whole rather than bet on a walk of the
    # best-first index under the LIMIT), then the full rows are read for the cards shown.
    keys_of = (
        p.c.id.label("post_id"), p.c.article_id, p.c.art_quality.label("quality"),
        p.c.art_heat.label("heat"), p.c.art_dated.label("dated"), p.c.created_at,
        p.c.status_changed_at,
    )  # fmt: skip
    if words and dialect == "postgresql":
        # The words are tested last, on the cards that pass every other test: in a subquery
        # that PostgreSQL cannot flatten (OFFSET 0), else it tests them first, a LIKE being
        # cheaper by its reckoning than a test of the state.
        scope = select(*keys_of, p.c.art_text).where(*conditions).offset(0).subquery("scope")
        found = select(*(scope.c[k.name] for k in keys_of))
        found = found.where(*word_conditions(words, dialect, scope.c))
    else:
        found = select(*keys_of).where(*conditions, *tests)
    matching = (
        found.limit(None if cap is None else cap + 1)
        .cte("matching")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    shown = (
        # The total in the same round trip: the rows are filtered and sorted anyway.
        select(*matching.c, func.count().over().label("total"))
        .order_by(*_ordering(order, matching.c))
        .limit(limit)
        .subquery("shown")
    )
    rows = conn.execute(_full_rows(shown, order)).all()
    total = rows[0].total if rows else 0
    if cap is None or total <= cap:
        return PostPage(_views(conn, rows), total)
    # More than the cap: so many that the best of them come first in the index of the order
    # (ix_post_best): read in that order, stop at the limit. No total to sort them by.
    # SQLite, not analyzed, would start from the index of states and sort every card in them.
    walked = (
        select(*keys_of, literal(cap).label("total"))
        .where(*walk_conditions)
        .order_by(*_ordering(order, p.c, post_id=p.c.id, quality=p.c.art_quality,
                             heat=p.c.art_heat, dated=p.c.art_dated))
        .limit(limit)
        .subquery("shown")
    )  # fmt: skip
    return PostPage(_views(conn, conn.execute(_full_rows(walked, order)).all()), cap, True)


def word_conditions(words: Sequence[str], dialect: str, card: Any) -> list[ColumnElement[bool]]:
    """Each of ``words`` in the title or the excerpt of a card's article, as ILIKE finds it:
    case-insensitive in any script on PostgreSQL, in ASCII only on SQLite. ``card``: the
    columns of ``post`` (or of a subquery of it) with ``art_text`` and ``article_id``.

    The card holds both lowered once, when written (``art_text``: storage.card_keys), so a
    word is ``lower(word)`` found in it: what ILIKE does, less lowering the text of every
    card on every query (PostgreSQL's ILIKE in UTF-8 is ``lower() LIKE lower()``, SQLite's
    is written so); a SEP between the two keeps a word from spanning them. A word holding a
    SEP (Slack sends no control characters) is tested on the article by ILIKE as it stands.

    Tested on each card in scope, from ``ix_post_scope`` alone on SQLite. A trigram index
    (SQLite FTS5) was measured and dropped: at a million articles a phrase of common words
    took 80-260 ms to look up there (every trigram's list of articles is read), more than
    testing the ~21,000 cards of the default scope from that index (bench/digest.py)."""
    return [
        _holds(dialect, card.art_text, word, lowered=True)
        if SEP not in word
        else _in_article(word, card.article_id)
        for word in words
    ]


def _holds(dialect: str, column: Any, text: str, *, lowered: bool = False) -> ColumnElement[bool]:
    """``text`` (lowered by the database with ``lowered``) found in ``column``: ``instr`` on
    SQLite; on PostgreSQL a LIKE, which it estimates from the column's statistics (a rare
    phrase: few cards, read by the index of states), where ``strpos`` is a blind third."""
    if dialect == "sqlite":
        return func.instr(column, func.lower(text) if lowered else text) > 0
    pattern = "%" + _like_escape(text) + "%"
    return column.like(func.lower(pattern) if lowered else pattern, escape="\\")


def _in_article(word: str, article_id: Any) -> ColumnElement[bool]:
    """ILIKE over the card's article: a word holding the separator of ``art_text``."""
    a, pattern = ARTICLE, "%" + _like_escape(word) + "%"
    return exists().where(
        a.c.id == article_id,
        or_(a.c.title.ilike(pattern, escape="\\"), a.c.excerpt.ilike(pattern, escape="\\")),
    )


def _scope(statuses: Collection[str], since: datetime) -> ColumnElement[bool]:
    """Cards in ``statuses``, the published ones only from ``since`` on, as two
    ranges of ``ix_post_status_changed`` (PostgreSQL reads a digest's few thousand cards
    from it, not the whole table)."""
    others = [s for s in statuses if s != PostStatus.PUBLISHED]
    if len(others) == len(statuses):
        return POST.c.status.in_(others)
    recent = and_(POST.c.status == PostStatus.PUBLISHED, POST.c.status_changed_at >= since)
    return or_(POST.c.status.in_(others), recent)


def _full_rows(shown: Any, order: Order) -> Any:
    """The cards of ``shown`` (ids, sort keys and total) with their articles, in order."""
    a, p, s = ARTICLE, POST, shown.c
    return (
        select(
            a,
            p.c.id.label("post_id"),
            p.c.status.label("post_status"),
            p.c.channel.label("post_channel"),
            p.c.day.label("post_day"),
            p.c.desk.label("post_desk"),
            p.c.permalink.label("post_permalink"),
            p.c.commit_sha.label("post_commit_sha"),
            p.c.created_at.label("post_created_at"),
            p.c.status_changed_at.label("post_changed_at"),
            s.total,
        )
        .select_from(shown.join(p, p.c.id == s.post_id).join(a, a.c.id == s.article_id))
        .order_by(*_ordering(order, s))
    )


def _views(conn: Connection, rows: Sequence[Any]) -> list[PostView]:
    topics_by_id = topics_of(conn, ids=[r.id for r in rows])
    return [
        PostView(
            post_id=r.post_id,
            status=r.post_status,
            channel=r.post_channel,
            day=r.post_day,
            permalink=r.post_permalink,
            commit_sha=r.post_commit_sha,
            posted_at=required_utc(r.post_created_at),
            changed_at=required_utc(r.post_changed_at),
            article=view_of_row(r, topics_by_id.get(r.id, ())),
            desk=r.post_desk,
        )
        for r in rows
    ]


def _ordering(order: Order, c: Any, **named: Any) -> list[ColumnElement[Any]]:
    """Sort keys over the columns of "matching" (or of a subquery of it); ``named`` gives the
    columns not in ``c`` (the article's table then: ``post_id``, the card's times)."""

    def col(name: str) -> Any:
        return named[name] if name in named else getattr(c, name)

    if order == "best":  # quality, then heat, then the newest article
        return [
            col("quality").desc().nulls_last(), col("heat").desc().nulls_last(),
            col("dated").desc().nulls_last(), col("post_id").desc(),
        ]  # fmt: skip
    if order == "oldest":  # the order the cards were posted in
        return [col("created_at").asc(), col("post_id").asc()]
    return [col("status_changed_at").asc(), col("post_id").asc()]  # the order of their last change


def _like_escape(text: str) -> str:
    """A LIKE pattern that matches ``text`` literally (``%`` and ``_`` are wildcards)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def reactions_for(
    conn: Connection, *, post_ids: Collection[int], users: Collection[str] | None = None
) -> dict[int, list[Reaction]]:
    """Every reaction of each post that counts (none from before its article changed:
    storage.revotes), in one query (the tally is a pure rule); ``users``: theirs only (a
    veto's tally reads the chiefs' alone)."""
    found: dict[int, list[Reaction]] = {pid: [] for pid in post_ids}
    ids = list(post_ids)
    if users is not None and not users:
        return found
    for i in range(0, len(ids), 500):
        q = (
            select(
                VOTE.c.post_id, VOTE.c.user_id, VOTE.c.reaction, VOTE.c.present, VOTE.c.event_ts
            )
            .join(POST, POST.c.id == VOTE.c.post_id)
            .where(VOTE.c.post_id.in_(ids[i : i + 500]), counted_vote())
        )  # fmt: skip
        if users is not None:
            q = q.where(VOTE.c.user_id.in_(sorted(users)))
        for post_id, *rest in conn.execute(q):
            found[post_id].append(Reaction(*rest))
    return found


def holds_for(conn: Connection, *, post_ids: Collection[int]) -> dict[int, str]:
    """Why each blocked post is held back from publishing."""
    if not post_ids:
        return {}
    q = select(HOLD.c.post_id, HOLD.c.reason).where(HOLD.c.post_id.in_(list(post_ids)))
    return {post_id: reason for post_id, reason in conn.execute(q)}


def posted_on(
    conn: Connection,
    *,
    day: str,
    desk: str | None = None,
    known_desks: Collection[str] | None = None,
) -> bool:
    """Whether the cards of ``day`` (YYYY-MM-DD in the configured zone) were planned, by any
    desk or by ``desk`` (see :func:`_desk_condition`)."""
    conditions = [POST.c.day == day]
    if desk is not None:
        conditions.append(_desk_condition(desk, known_desks))
    return conn.execute(select(exists().where(*conditions))).scalar_one()


def _desk_condition(desk: str, known_desks: Collection[str] | None) -> ColumnElement[bool]:
    """The cards of ``desk``; with ``known_desks`` (given for the default desk), also the
    cards of none of them (from before desks, or of a desk since removed), which the bot
    counts as the default desk's until it next starts and gives them to it."""
    mine = POST.c.desk == desk
    if known_desks is None:
        return mine
    return or_(mine, POST.c.desk.is_(None), POST.c.desk.not_in(sorted(known_desks)))
