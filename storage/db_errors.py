"""The database's failures and addresses, in the words bot/ needs: it tells an outage from a
bug, and names where the database is, without knowing SQLAlchemy or the driver."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DatabaseError as _DriverDatabaseError
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)

from storage.db import normalize_url

#: Any failure of the database layer: a statement, the connection, the driver.
DatabaseError = SQLAlchemyError
#: A write refused because the row is there already (a unique constraint).
DuplicateError = IntegrityError


def unreachable(exc: BaseException) -> BaseException | None:
    """The driver's error when ``exc`` means the database did not answer, or the connection
    died under a statement; None for anything else, such as a statement's own error
    (IntegrityError, ProgrammingError and the like: a bug, not an outage)."""
    if not isinstance(exc, DBAPIError):
        return None
    if not (
        isinstance(exc, OperationalError | InterfaceError)
        or type(exc) is _DriverDatabaseError
        or exc.connection_invalidated
    ):
        return None
    return exc.orig or exc


@dataclass(frozen=True)
class Place:
    """Where a database URL points: "sqlite" and its file, or a server's host and port."""

    backend: str
    database: str | None
    host: str | None
    port: int | None


def place_of(url: object) -> Place | None:
    """Where ``url`` (a string as written, or an engine's URL) points; None when it says
    nothing usable."""
    if isinstance(url, URL):
        parsed = url
    elif not url or not isinstance(url, str):
        return None
    else:
        try:
            parsed = make_url(normalize_url(url.strip()))
        except Exception:
            return None
    return Place(parsed.get_backend_name(), parsed.database, parsed.host, parsed.port)
