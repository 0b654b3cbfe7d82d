"""A card's copy of what ``/digest`` filters and sorts its article by (migration 0017).

``/digest`` looks at the cards in scope (tens of thousands at a million articles) and tests
each: is its article removed, good enough (``min:``), on a topic, does it hold the words; then
sorts the matches by quality, heat and date. Read from ``article`` that is a random lookup into
a million rows per card. So each ``post`` row carries a copy of those values (``art_*``
columns, :data:`COPIED`), its title and excerpt lowered once, when written, between them a
:data:`SEP` (``art_text``, migration 0019: :func:`text_expr`), and a topic list
(``art_topics``: each case-folded key between two :data:`SEP`), and a digest query reads
``post`` alone.

The copies are kept in step by triggers in the database, so in the transaction of whatever
writes the article, its topics or the card: the scan, the posting code, a migration, a
manual ``UPDATE``. :func:`copy_all` sets them all again (after a bulk load that ran without
triggers), :func:`out_of_step` lists the cards whose copy differs (for tests and checks).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

# article column -> its copy on post
COPIED = {
    "quality": "art_quality",
    "heat": "art_heat",
    "dated": "art_dated",
    "removed_at": "art_removed_at",
}
SEP = "\x1f"  # between topic keys in art_topics (and around them), title and excerpt in art_text


def text_expr(dialect: str, row: str) -> str:
    """SQL for the ``art_text`` of the article ``row`` (a table alias): its title and excerpt,
    each lowered by the database's ``lower()`` (the one ILIKE lowers by), between them a SEP."""
    sep = "char(31)" if dialect == "sqlite" else "chr(31)"
    return f"coalesce(lower({row}.title), '') || {sep} || coalesce(lower({row}.excerpt), '')"


def topics_expr(dialect: str, article_id: str) -> str:
    """SQL for the ``art_topics`` value of the article ``article_id`` (an SQL expression):
    every key between separators, or NULL without topics."""
    agg = "group_concat(key, char(31))" if dialect == "sqlite" else "string_agg(key, chr(31))"
    sep = "char(31)" if dialect == "sqlite" else "chr(31)"
    return (
        f"(SELECT {sep} || {agg} || {sep} FROM article_topic t WHERE t.article_id = {article_id})"
    )


def topic_test(key: str) -> str:
    """The text a card's ``art_topics`` holds when its article is on topic ``key``."""
    return SEP + key + SEP


def copy_all(conn: Connection) -> None:
    """Set every card's copy from its article and topics again."""
    dialect = conn.dialect.name
    columns = ", ".join(COPIED.values())
    values = ", ".join(f"a.{c}" for c in COPIED)
    conn.execute(
        text(
            f"UPDATE post SET ({columns}, art_text, art_topics) = (SELECT {values}, "
            f"{text_expr(dialect, 'a')}, {topics_expr(dialect, 'post.article_id')} FROM article a "
            "WHERE a.id = post.article_id)"
        )
    )


def out_of_step(conn: Connection) -> list[int]:
    """The ids of the cards whose copy differs from their article (none, when in step)."""
    columns = ", ".join(f"a.{c}, p.{copy}" for c, copy in COPIED.items())
    differs = "IS NOT" if conn.dialect.name == "sqlite" else "IS DISTINCT FROM"
    rows = conn.execute(
        text(
            f"SELECT p.id, a.id AS article_id, p.art_topics, {columns}, "
            f"p.art_text {differs} {text_expr(conn.dialect.name, 'a')} AS text_differs "
            "FROM post p JOIN article a ON a.id = p.article_id ORDER BY p.id"
        )
    ).all()
    keys: dict[int, set[str]] = {}
    for article_id, key in conn.execute(text("SELECT article_id, key FROM article_topic")):
        keys.setdefault(article_id, set()).add(key)
    differ = []
    for row in rows:
        pairs = list(row[3:-1])
        copied = set(row.art_topics.strip(SEP).split(SEP)) if row.art_topics else set()
        if (
            row.text_differs
            or any(pairs[i] != pairs[i + 1] for i in range(0, len(pairs), 2))
            or copied != keys.get(row.article_id, set())
        ):
            differ.append(row.id)
    return differ
