"""The URLs more than one article holds (``url_twin``), kept by database triggers.

An unpublished article whose URL another article holds may be a copy of a story already
published or posted ("same story"): the census of ``curator status`` counts those among
the old articles. Finding the URLs held twice meant a pass over the index of every URL (a
million entries, 0.2-0.4 s) to find a handful. Triggers on ``article`` (migration 0020)
keep this table in step in the transaction of every insert, URL change and delete — one
probe of the index on URL per write — so the census reads the handful.

Two transactions each inserting one article of the same new URL at the same moment would
each see one holder and mark none (PostgreSQL): the scan, the only writer of articles,
runs one at a time. :func:`fill` makes the table again from the articles (after a bulk load
that ran without triggers); :func:`out_of_step` says whether it differs from them.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, MetaData, String, Table, select, text

URL_TWIN = Table("url_twin", MetaData(), Column("url", String, primary_key=True))

_HELD_TWICE = "SELECT url FROM article WHERE url IS NOT NULL GROUP BY url HAVING count(*) > 1"


def shared_urls(conn: Connection) -> list[str]:
    """Every URL more than one article holds (removed or unreadable ones too)."""
    return list(conn.scalars(select(URL_TWIN.c.url).order_by(URL_TWIN.c.url)))


def fill(conn: Connection) -> None:
    """Make the table again from the articles."""
    conn.execute(text("DELETE FROM url_twin"))
    conn.execute(text(f"INSERT INTO url_twin (url) {_HELD_TWICE}"))


def out_of_step(conn: Connection) -> tuple[set[str], set[str]]:
    """(URLs held twice the table lacks, URLs it holds that are not): empty when in step."""
    held = set(conn.scalars(text(_HELD_TWICE)))
    kept = set(shared_urls(conn))
    return held - kept, kept - held
