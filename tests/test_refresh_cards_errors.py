"""Cards refreshed together (``refresh_cards``) share one transaction: a database error while
one of them is rendered must not cost the others their refresh. On PostgreSQL a failed
statement aborts the whole transaction, so every later card that reads anything (a blocked
card's cause, a card sent back to a vote) failed with it and was dropped from the queue."""

from __future__ import annotations

from sqlalchemy import select, text, update

import bot.slack.card_message as card_message
from bot.config import config_from_mapping
from bot.slack import daily_post
from bot.slack.card_message import refresh_cards
from bot.slack.client import make_client
from storage.fields import FieldMap
from storage.models import Post
from storage.pathfilter import PathFilter
from storage.scan import scan
from tests.helpers import article
from tests.test_event_statements import EDITORS, NOW


def test_a_database_error_on_one_card_leaves_the_others_refreshed(
    tmp_path, db_url, engine, standin, newsroom, content_repo, monkeypatch
):
    config = config_from_mapping(
        {
            "content": {"remote": str(newsroom.remote)},
            "slack": {"channel": "#curation", "editors": list(EDITORS)},
            "candidates": {"per_day": 3, "max_age_days": 100000},
        },
        path=tmp_path / "curator.yml",
        env={"DATABASE_URL": db_url},
    )
    for name in ("a", "b", "c"):
        newsroom.write(f"{name}.md", article(name.upper(), quality=90))
    newsroom.commit()
    content_repo.fetch()
    scan(engine, content_repo, FieldMap(), PathFilter())
    client = make_client("xoxb-test-token", standin.url)
    assert daily_post.post_day(engine, client, config, NOW).posted == 3
    post = Post.__table__
    with engine.begin() as conn:
        conn.execute(update(post).values(status="blocked"))  # each card reads why
        ids = list(conn.execute(select(post.c.id).order_by(post.c.id)).scalars())
    cause = card_message.publish_log.block_cause

    def failing_cause(tx, *, post_id):  # a statement of the first card fails in the database
        if post_id == ids[0]:
            tx.execute(text("SELECT no_such_column FROM post"))
        return cause(tx, post_id=post_id)

    monkeypatch.setattr(card_message.publish_log, "block_cause", failing_cause)
    before = len(standin.called("chat.update"))
    refresh_cards(engine, client, config, ids, NOW)
    sent = [u.params["ts"] for u in standin.called("chat.update")[before:]]
    with engine.connect() as conn:
        ts = dict(conn.execute(select(post.c.id, post.c.ts)).all())
    assert sent == [ts[ids[1]], ts[ids[2]]]
