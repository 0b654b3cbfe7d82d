"""Each card's copy of its article's digest keys (migration 0017, storage/card_keys.py) stays
in step on every write: the scan's inserts, updates, topic rewrites and removals, the posting
code's new cards, a plain UPDATE of the article or its topics; the migration fills the cards
already there; and ``/digest`` filters and sorts by the copy, not the article's row."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.engine import Engine

from bot.slack import daily_post
from storage import migrate
from storage.card_keys import SEP, out_of_step
from storage.db import make_engine
from storage.fields import FieldMap
from storage.models import Article, ArticleTopic, Post
from storage.pathfilter import PathFilter
from storage.post_views import find_posts
from storage.scan import scan
from tests.helpers import Newsroom, article
from tests.test_digest import add_card
from tests.test_revote import make_config
from tests.test_slack_loop import client

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
ALL = ("open", "approved", "blocked", "published", "rejected", "expired")
POST, ARTICLE, TOPIC = Post.__table__, Article.__table__, ArticleTopic.__table__


def _card(engine: Engine) -> dict:
    with engine.connect() as conn:
        assert out_of_step(conn) == []
        return dict(conn.execute(select(POST)).one()._mapping)


def _topics(card: dict) -> set[str]:
    return set(card["art_topics"].strip(SEP).split(SEP)) if card["art_topics"] else set()


def test_the_scan_and_the_posting_code_keep_the_copy_in_step(
    engine, newsroom: Newsroom, content_repo, tmp_path, db_url, standin
):
    config = make_config(tmp_path, db_url, newsroom)

    def rescan() -> None:
        content_repo.fetch()
        scan(engine, content_repo, FieldMap(), PathFilter())

    newsroom.write("a.md", article("Alpha", quality=90, heat=3, topics=("AI", "Data")))
    newsroom.commit()
    rescan()
    daily_post.post_day(engine, client(standin), config, NOW)  # the card: copied at insert
    card = _card(engine)
    assert (card["art_quality"], card["art_heat"]) == (90, 3) and card["art_dated"] is not None
    assert card["art_text"] == f"alpha{SEP}about alpha."  # lowered once, when written
    assert _topics(card) == {"ai", "data"} and card["art_removed_at"] is None

    # A changed file: its new values and topics reach the card in the scan's transaction.
    newsroom.write("a.md", article("Beta", quality=40, heat=7, topics=("Climate",)))
    newsroom.commit()
    rescan()
    card = _card(engine)
    assert (card["art_quality"], card["art_heat"], card["art_text"]) == (
        40,
        7,
        f"beta{SEP}about beta.",
    )
    assert _topics(card) == {"climate"}
    with engine.connect() as conn:
        page = find_posts(conn, statuses=ALL, topics=["CLIMATE"], min_quality=30, words=["bet"])
    assert [p.article.title for p in page.posts] == ["Beta"]

    newsroom.remove("a.md")  # removed from the repo: the card is out of the digest
    newsroom.commit()
    rescan()
    assert _card(engine)["art_removed_at"] is not None
    with engine.connect() as conn:
        assert find_posts(conn, statuses=ALL).posts == []


def test_plain_writes_of_articles_topics_and_cards_keep_the_copy_in_step(engine: Engine):
    with engine.begin() as conn:
        first = add_card(conn, title="One", quality=10, topics=("AI",), now=NOW)
        other = add_card(conn, title="Two", quality=20, topics=("Tech",), now=NOW, status=None)
    steps = [
        update(ARTICLE).where(ARTICLE.c.id == first).values(quality=99, heat=5, title="Uno"),
        update(ARTICLE).where(ARTICLE.c.id == first).values(excerpt="New", dated=NOW),
        update(ARTICLE).where(ARTICLE.c.id == first).values(removed_at=NOW),
        insert(TOPIC).values(article_id=first, key="space", topic="Space"),
        update(TOPIC).where(TOPIC.c.key == "ai").values(key="ml", topic="ML"),
        delete(TOPIC).where(TOPIC.c.article_id == first, TOPIC.c.key == "space"),
        update(POST).values(article_id=other),  # a card pointed at another article
        delete(TOPIC).where(TOPIC.c.article_id == other),
    ]
    seen = []
    for step in steps:
        with engine.begin() as conn:
            conn.execute(step)
        card = _card(engine)
        seen.append((card["art_quality"], card["art_text"], _topics(card)))
    assert seen[0] == (99, f"uno{SEP}about one.", {"ai"})
    assert seen[1][1] == f"uno{SEP}new" and seen[2] == seen[1]
    assert [s[2] for s in seen[3:]] == [{"ai", "space"}, {"ml", "space"}, {"ml"}, {"tech"}, set()]
    assert seen[6][:2] == (20, f"two{SEP}about two.")


def test_the_migration_copies_the_cards_already_there(db_url: str):
    engine = make_engine(db_url)
    try:
        migrate.upgrade(engine, "0016")
        with engine.begin() as conn:
            for n in range(3):
                add_card(conn, title=f"Card {n}", quality=n, topics=("AI", f"T{n}"), now=NOW)
        migrate.upgrade(engine)
        with engine.connect() as conn:
            assert out_of_step(conn) == []
            copied = conn.execute(text("SELECT art_text, art_topics FROM post ORDER BY id"))
            rows = [(words, set(topics.strip(SEP).split(SEP))) for words, topics in copied]
        assert rows == [(f"card {n}{SEP}about card {n}.", {"ai", f"t{n}"}) for n in range(3)]
    finally:
        engine.dispose()


def test_the_digest_reads_the_cards_copy_not_the_article(engine: Engine):
    """Set apart by hand (no writer does this), the copy decides: the digest never reads the
    article's row to filter or sort."""
    with engine.begin() as conn:
        low = add_card(conn, title="Low", quality=10, topics=("AI",), now=NOW)
        add_card(conn, title="High", quality=90, topics=("AI",), now=NOW)
        conn.execute(
            update(POST)
            .where(POST.c.article_id == low)
            .values(art_quality=95, art_text=f"zebra{SEP}", art_topics=f"{SEP}zoo{SEP}")
        )
    with engine.connect() as conn:
        best = find_posts(conn, statuses=ALL, limit=5, count_up_to=1000)
        assert [p.article.title for p in best.posts] == ["Low", "High"]
        assert [p.article.title for p in find_posts(conn, statuses=ALL, min_quality=50).posts] == [
            "Low",
            "High",
        ]
        assert [p.article.title for p in find_posts(conn, statuses=ALL, topics=["zoo"]).posts] == [
            "Low"
        ]
        assert [p.article.title for p in find_posts(conn, statuses=ALL, words=["ze"]).posts] == [
            "Low"
        ]


def test_migration_0019_goes_both_ways(db_url: str):
    """Down to 0018 the cards get their title and excerpt back, kept by 0017's triggers; up
    again, their lowered text (art_text)."""
    engine = make_engine(db_url)
    try:
        migrate.upgrade(engine)
        with engine.begin() as conn:
            first = add_card(conn, title="Café Day", excerpt="On ÉTÉ.", now=NOW)
        with engine.begin() as conn:
            command.downgrade(migrate._alembic_config(conn), "0018")
        with engine.begin() as conn:
            add_card(conn, title="Second", now=NOW)
            conn.execute(update(ARTICLE).where(ARTICLE.c.id == first).values(title="Café Night"))
            copied = conn.execute(text("SELECT art_title, art_excerpt FROM post ORDER BY id"))
            assert [tuple(r) for r in copied] == [
                ("Café Night", "On ÉTÉ."), ("Second", "About Second.")
            ]  # fmt: skip
        migrate.upgrade(engine)
        with engine.begin() as conn:
            assert out_of_step(conn) == []
            lowered = conn.execute(text("SELECT art_text FROM post ORDER BY id")).scalars().all()
        # Lowered by the database's lower(): SQLite's folds ASCII letters only.
        ete = "on ÉtÉ." if engine.dialect.name == "sqlite" else "on été."
        assert lowered == [f"café night{SEP}{ete}", f"second{SEP}about second."]
    finally:
        engine.dispose()
