"""A big curator database, built fast, for the benches: N articles, ~N/10 cards, ~2 votes each.

    python bench/bigdb.py --n 1000000 --db both     # build (or find) the cached databases
    python bench/bigdb.py --n 100000 --db sqlite --rebuild

    from bench.bigdb import big_database             # in a bench: (url, row counts)
    url, facts = big_database("postgresql", 1_000_000)

Rows go straight into a migrated database (no repo, no scan), shaped like what the scan
writes from a collector's repo (/work/shared/samples): articles with 1-3 of 30 topics, titles
and excerpts from a small vocabulary, quality 0-100, heat, dates over two years; ~10% of
them have a card in a realistic mix of states, spread over the last 60 days, with 0-4
editors' votes each.

``fill`` loads any migrated database (the digest bench's, a temporary one, in the
``DIGEST`` shape it has always had). ``big_database`` builds the ``FULL`` shape once and
keeps it: ``/tmp/curator-bench-sqlite-<n>-r<key>.sqlite``, or the PostgreSQL database
``bench_<n>_r<key>`` beside ``TEST_DATABASE_URL``'s, named by the schema (``schema_key``)
so a schema change (a new index) gets a database of its own; ``--rebuild``
(``rebuild=True``) builds it again. ``FULL`` adds what the scan and the bot keep besides:
three desks routed by topic, every card state (skipped, unpublishing, unpublished too) with
its decision, fingerprints (``content_hash``), related stories, images, undated articles
with ``added_at``, unreadable and removed files; and most articles unpublished, as in a
collector's repo.

Speed: secondary indexes are dropped for the load and made again after it from the very
statements the migrations left (``sqlite_master``, ``pg_indexes``), SQLite's triggers too (the
cards' copies of their articles' keys are then made in one pass); PostgreSQL loads with
``COPY`` and no foreign-key triggers, then ``VACUUM ANALYZE`` of its tables (what autovacuum
does within minutes; the digest bench's shape only analyzes them, as it always did); SQLite
takes Core ``executemany`` batches in one transaction and, as a real one, is not analyzed.
1M articles build in a few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, make_url, text
from sqlalchemy.engine import Connection, Engine

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make ``bench.articles`` importable
    sys.path.insert(0, str(ROOT))

from bench.articles import PROVIDERS, TOPICS, WORDS  # noqa: E402
from bot.rules.desks import Route, desk_for  # noqa: E402
from storage import url_twins  # noqa: E402
from storage.card_keys import copy_all  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.fields import FINGERPRINT_KEYS  # noqa: E402
from storage.migrate import MIGRATIONS, head_revision, upgrade  # noqa: E402
from storage.models import SQLModel  # noqa: E402

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
EDITORS = tuple(f"UEDITOR{i:02d}" for i in range(1, 21))
# Post states as a newsroom accumulates them: most cards end published, rejected or expired.
STATES = (("open", 12), ("approved", 4), ("blocked", 1), ("published", 38), ("rejected", 25),
          ("expired", 20))  # fmt: skip
# (name, channel, topics): two topic desks and a catch-all, as a newsroom with desks has.
DESKS = (
    ("AI", "C0AI", ("AI", "Computer Vision", "Robotics", "Biometrics", "Drones")),
    ("Cities", "C0CITIES", ("Cities", "Transportation", "Housing", "Water", "Budget")),
    ("General", "C0CURATION", ()),
)
CHUNK = 5_000
# The tables loaded, parents first.
SCANNED_ONLY = ("image_url", "related_json", "content_hash", "added_at", "warning", "error",
                "removed_at")  # fmt: skip
TABLES = ("article", "article_topic", "post", "vote", "publish_hold", "decision", "post_unpublish")


@dataclass(frozen=True)
class Shape:
    desks: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # () : one channel, no desk
    scan_fields: bool = False  # fingerprints, related, undated, unreadable, every state...
    published_share: float = 0.5  # of the articles never posted
    vacuum: bool = False  # PostgreSQL: VACUUM ANALYZE after the load, not just ANALYZE


DIGEST = Shape()
FULL = Shape(desks=DESKS, scan_fields=True, published_share=0.05, vacuum=True)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the rows -------------------------------------------------------------------------------


def _sentence(rng: random.Random, lo: int, hi: int) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(lo, hi))).capitalize()


def generate(n: int, seed: int, shape: Shape) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """Rows by table, ``CHUNK`` articles at a time. ``rng`` draws exactly what the digest
    bench always drew (same seed, same rows); what ``FULL`` adds comes from ``more``."""
    rng, more = random.Random(seed), random.Random(seed + 1_000_003)
    states, weights = zip(*STATES, strict=True)
    routes = tuple(Route.of(name, topics) for name, _, topics in shape.desks)
    channels = {name: channel for name, channel, _ in shape.desks}
    for start in range(1, n + 1, CHUNK):
        rows: dict[str, list[dict[str, Any]]] = {table: [] for table in TABLES}
        for i in range(start, min(start + CHUNK, n + 1)):
            name, domain = rng.choice(PROVIDERS)
            dated = NOW - timedelta(seconds=rng.randrange(730 * 86_400))
            posted = rng.random() < 0.10
            status = rng.choices(states, weights)[0] if posted else None
            article = dict(
                id=i, path=f"news/{i // 1000:03d}/{i}.md", blob_sha=f"{i:040x}",
                title=_sentence(rng, 6, 14), excerpt=_sentence(rng, 20, 40) + ".",
                url=f"https://www.{domain}/{i}", quality=float(rng.randint(0, 100)),
                heat=float(rng.randint(-10, 60)), dated=dated, provider_name=name,
                provider_domain=domain, first_seen_at=dated, updated_at=dated,
                published=status == "published" or (not posted and rng.random() < 0.5),
            )  # fmt: skip
            topics = rng.sample(TOPICS, rng.randint(1, 3))
            rows["article"].append(article)
            rows["article_topic"] += [dict(article_id=i, key=t.casefold(), topic=t) for t in topics]
            if shape.scan_fields:
                status = _as_scanned(article, status, more, shape)
            if status is None:
                continue
            window = 3 if status in ("open", "approved", "blocked", "skipped") else 60
            changed = NOW - timedelta(seconds=rng.randrange(window * 86_400))
            created = changed - timedelta(seconds=rng.randrange(3 * 86_400))
            post = dict(
                id=i, article_id=i, channel="CBENCH", ts=f"{1_700_000_000 + i}.000100",
                permalink=f"https://newsroom.slack.com/archives/CBENCH/p{1_700_000_000 + i}",
                day=created.date().isoformat(), status=status, status_changed_at=changed,
                created_at=created,
                commit_sha=f"{rng.getrandbits(160):040x}" if status == "published" else None,
            )  # fmt: skip
            rows["post"].append(post)
            voters = rng.sample(EDITORS, rng.randint(0, 4))
            for k, user in enumerate(voters):
                reaction = rng.choice(("white_check_mark", "x"))
                rows["vote"].append(dict(
                    post_id=i, user_id=user, reaction=reaction, present=True,
                    choice="publish" if reaction == "white_check_mark" else "reject",
                    event_ts=f"{1_700_100_000 + i}.{k:06d}", updated_at=changed,
                ))  # fmt: skip
            if status == "blocked":
                rows["publish_hold"].append(
                    dict(post_id=i, reason="file missing on the remote", at=changed)
                )
            if shape.scan_fields:
                _card_extras(rows, article, post, topics, bool(voters), routes, channels)
        yield rows


def _as_scanned(article: dict[str, Any], status: str | None, more: random.Random,
                shape: Shape) -> str | None:  # fmt: skip
    """Give ``article`` what the scan writes besides; its card's state, refined to every
    state a card takes (``None``: no card)."""
    article.update(dict.fromkeys(SCANNED_ONLY))  # every row of a batch has the same keys
    if status is None:
        article["published"] = more.random() < shape.published_share
    elif status == "published" and more.random() < 0.04:
        status = "unpublished" if more.random() < 0.75 else "unpublishing"
        article["published"] = status == "unpublishing"  # the flag goes back at the run
    elif status == "open" and more.random() < 0.03:
        status = "skipped"
    domain = article["provider_domain"]
    article["image_url"] = f"https://cdn.{domain}/img/{article['id']}.jpg"
    roll = more.random()
    if status is None and roll < 0.002:  # a file the scan could not read
        article.update(title=None, excerpt=None, url=None, quality=None, heat=None,
                       published=None, error="frontmatter: not a mapping")  # fmt: skip
        return None
    if status is None and roll < 0.012:  # a file since deleted from the repo
        article["removed_at"] = NOW - timedelta(days=more.randrange(1, 300))
    if article["published"]:
        return status  # the scan keeps related stories and fingerprints of unpublished only
    if roll > 0.98:  # a date the scan could not read: aged by the commit that added it
        article.update(dated=None, added_at=article["first_seen_at"],
                       warning="publishedDateTime: 'last Tuesday' is not a date")  # fmt: skip
    article["content_hash"] = json.dumps(
        {key: f"{more.getrandbits(64):016x}" for key in FINGERPRINT_KEYS},
        sort_keys=True, separators=(",", ":"),
    )  # fmt: skip
    if more.random() < 0.6:
        article["related_json"] = json.dumps([
            dict(title=_sentence(more, 6, 12), url=f"https://www.{d}/r{article['id']}-{k}",
                 provider=p, quality=more.randint(0, 100))
            for k, (p, d) in enumerate(more.sample(PROVIDERS, more.randint(1, 3)))
        ], ensure_ascii=False)  # fmt: skip
    return status


def _card_extras(rows: dict[str, list[dict[str, Any]]], article: dict[str, Any],
                 post: dict[str, Any], topics: list[str], voted: bool,
                 routes: tuple[Route, ...], channels: dict[str, str]) -> None:  # fmt: skip
    """A card's desk and channel, its last decision, what an unpublished one was left at."""
    desk = desk_for(topics, routes) if routes else None
    post.update(desk=desk, channel=channels.get(desk, "CBENCH"), window_from=None,
                voted_hash=article.get("content_hash") if voted else None)  # fmt: skip
    post["permalink"] = f"https://newsroom.slack.com/archives/{post['channel']}/p{post['ts'][:10]}"
    status = post["status"]
    if status == "skipped":
        post.update(ts=None, permalink=None)
    cause = {"open": "posted", "skipped": "skipped: Slack refused the card (invalid_blocks)",
             "expired": "voting window ended", "blocked": "publish: file missing"}  # fmt: skip
    rows["decision"].append(dict(
        post_id=post["id"], from_status=None if status in ("open", "skipped") else "open",
        to_status=status, cause=cause.get(status, "votes"), at=post["status_changed_at"],
    ))  # fmt: skip
    if status in ("unpublished", "unpublishing"):
        rows["post_unpublish"].append(dict(
            post_id=post["id"], requested_by=None, at=post["status_changed_at"],
            blob_sha=article["blob_sha"] if status == "unpublished" else None,
            left_hash=article.get("content_hash"),
        ))  # fmt: skip


# --- loading --------------------------------------------------------------------------------


def fill(engine: Engine, n: int, seed: int, shape: Shape = DIGEST) -> dict[str, int]:
    """Load ``n`` articles and their cards into a migrated, empty database; row counts."""
    counts = {"articles": 0, "topics": 0, "posts": 0, "votes": 0}
    named = {"article": "articles", "article_topic": "topics", "post": "posts", "vote": "votes"}
    postgres = engine.dialect.name == "postgresql"
    meta = SQLModel.metadata.tables
    with engine.begin() as conn:
        indexes = _secondary_indexes(conn)
        for name, create in indexes:
            what = "TRIGGER" if create.startswith("CREATE TRIGGER") else "INDEX"
            conn.exec_driver_sql(f'DROP {what} "{name}"')
        if postgres:  # no foreign-key trigger per row: the rows are made consistent
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for rows in generate(n, seed, shape):
            for table, batch in rows.items():
                if not batch:
                    continue
                if postgres:
                    _copy(conn, table, batch)
                else:
                    conn.execute(insert(meta[table]), batch)
                if table in named or shape.scan_fields:  # the digest bench's counts as ever
                    key = named.get(table, table)
                    counts[key] = counts.get(key, 0) + len(batch)
        copy_all(conn)  # the cards' copies of their articles, which the triggers keep after
        url_twins.fill(conn)  # the URLs held twice, as well
        for _, create in indexes:
            conn.exec_driver_sql(create)
        if postgres:
            # Explicit ids were inserted: move the sequences past them, as a real database is.
            for table in ("article", "post", "vote", "decision"):
                conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                ))  # fmt: skip
    if postgres:
        # Autovacuum analyzes tables this size within a minute of the load (and vacuums them,
        # which lets index-only scans skip the heap): do it now rather than wait. Only these
        # tables: others in the database are not ours. SQLite never analyzes by itself.
        what = "VACUUM ANALYZE" if shape.vacuum else "ANALYZE"
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"{what} {', '.join(TABLES)}")
    return counts


def _secondary_indexes(conn: Connection) -> list[tuple[str, str]]:
    """(name, CREATE statement) of each index but those of primary keys and constraints."""
    if conn.dialect.name == "postgresql":
        query = (
            "SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = current_schema() "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        )
    else:  # and the triggers (cards' copies, URLs held twice): done after the load instead
        query = (
            "SELECT name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
            "AND sql IS NOT NULL"
        )
    return [(name, create) for name, create in conn.exec_driver_sql(query)]


def _copy(conn: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    cursor = conn.connection.driver_connection.cursor()  # psycopg 3, in conn's transaction
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


# --- the cached database --------------------------------------------------------------------


def big_database(kind: str, n: int, *, seed: int = 1, rebuild: bool = False) -> tuple[str, str]:
    """The URL of the ``FULL`` database of ``n`` articles on ``kind``, built unless it is
    there; and a line saying what it holds and how long it took (or that it was reused)."""
    if kind == "sqlite":
        path = Path(f"/tmp/curator-bench-sqlite-{n}-r{schema_key()}.sqlite")
        if path.exists() and not rebuild:
            return f"sqlite:///{path}", f"sqlite: reused {path}"
        building = path.with_suffix(".building")
        for leftover in (building, *path.parent.glob(f"{building.name}-*")):
            leftover.unlink(missing_ok=True)
        line = _build(f"sqlite:///{building}", n, seed)
        for old in (path, *path.parent.glob(f"{path.name}-*")):  # with its -wal and -shm
            old.unlink(missing_ok=True)
        building.rename(path)  # only a whole build is ever found there
        return f"sqlite:///{path}", f"sqlite: {line} ({path})"
    name = f"bench_{n}_r{schema_key()}"
    admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            have = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            if have and not rebuild:
                return _url_of(name), f"postgresql: reused database {name}"
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}_building")
            conn.exec_driver_sql(f"CREATE DATABASE {name}_building")
        line = _build(_url_of(f"{name}_building"), n, seed)
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
            conn.exec_driver_sql(f"ALTER DATABASE {name}_building RENAME TO {name}")
    finally:
        admin.dispose()
    return _url_of(name), f"postgresql: {line} (database {name})"


def schema_key() -> str:
    """The newest migration and a digest of every migration's text: two branches that each
    wrote a migration of the same number, or one re-chained at a merge, differ."""
    digest = hashlib.sha256()
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"{head_revision()}_{digest.hexdigest()[:8]}"


def _url_of(database: str) -> str:
    return make_url(PG_URL).set(database=database).render_as_string(hide_password=False)


def _build(url: str, n: int, seed: int) -> str:
    engine = make_engine(url)
    try:
        upgrade(engine)
        started = time.perf_counter()
        counts = fill(engine, n, seed, FULL)
        took = time.perf_counter() - started
    finally:
        engine.dispose()
    return f"built {', '.join(f'{v:,} {k}' for k, v in counts.items())} in {took:.0f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="articles (default 100,000)")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rebuild", action="store_true", help="build again even if cached")
    args = parser.parse_args()
    for kind in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        _, line = big_database(kind, args.n, seed=args.seed, rebuild=args.rebuild)
        print(line)


if __name__ == "__main__":
    main()
