"""Engines for the two supported databases, configured the way the ledger needs.

SQLite (a file): WAL, ``foreign_keys=ON``, ``synchronous=NORMAL`` unless told
otherwise, a busy timeout, and SQLAlchemy's documented recipe for taking over
``BEGIN`` from the stdlib driver: the driver's own deferred ``BEGIN`` is
switched off on connect and the engine's ``begin`` event emits
``BEGIN IMMEDIATE``, so a writer holds the write lock from its first statement
and two writers never both read and then both try to write. Reads open with a
plain (deferred) ``BEGIN``, which in WAL mode never blocks a writer.
The store's write units issue ``BEGIN IMMEDIATE``/``COMMIT``/``ROLLBACK`` on the
driver themselves (``sqlite_execute``); the ``begin`` hook then only notes that
a transaction is already open.

PostgreSQL: psycopg 3, READ COMMITTED; the store's row locks serialise writers.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url

__all__ = ["SQLITE_BEGIN_OPTION", "make_engine", "normalise_url", "sqlite_execute"]

SQLITE_BEGIN_OPTION = "timebank_sqlite_begin"
"""Connection execution option naming the statement that begins a SQLite transaction."""

_SYNCHRONOUS = frozenset({"OFF", "NORMAL", "FULL", "EXTRA"})
_json_encode = msgspec.json.Encoder().encode


def normalise_url(target: str | os.PathLike[str] | URL) -> URL:
    """A SQLAlchemy URL from a URL or a SQLite file path; PostgreSQL means psycopg 3."""
    if isinstance(target, URL):
        url = target
    elif isinstance(target, os.PathLike) or "://" not in target:
        url = URL.create("sqlite", database=str(Path(target)))
    else:
        url = make_url(target)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    backend = url.get_backend_name()
    if backend == "sqlite" and url.database in (None, "", ":memory:"):
        raise ValueError("an in-memory SQLite store would vanish per connection; use a file")
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"unsupported database {backend!r}: use SQLite or PostgreSQL")
    return url


def make_engine(
    target: str | os.PathLike[str] | URL,
    *,
    sqlite_synchronous: str = "NORMAL",
    busy_timeout_ms: int = 5_000,
    pool_size: int = 10,
    echo: bool = False,
) -> Engine:
    """An engine for ``target`` with the store's connection settings and hooks."""
    url = normalise_url(target)
    common: dict[str, Any] = {
        "json_serializer": lambda value: _json_encode(value).decode(),
        "json_deserializer": msgspec.json.decode,
        "echo": echo,
    }
    if url.get_backend_name() == "sqlite":
        synchronous = sqlite_synchronous.upper()
        if synchronous not in _SYNCHRONOUS:
            raise ValueError(f"sqlite_synchronous must be one of {sorted(_SYNCHRONOUS)}")
        assert 0 <= busy_timeout_ms <= 600_000
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
            poolclass=sa.pool.QueuePool,
            pool_size=pool_size,
            max_overflow=2 * pool_size,
            **common,
        )
        _install_sqlite_hooks(engine, synchronous, busy_timeout_ms)
        return engine
    return sa.create_engine(url, pool_size=pool_size, max_overflow=2 * pool_size, **common)


def _install_sqlite_hooks(engine: Engine, synchronous: str, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Stop the stdlib driver from issuing its own deferred BEGIN (and COMMIT before DDL).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute(f"PRAGMA synchronous = {synchronous}")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        raw: Any = connection.connection.driver_connection
        if raw.in_transaction:
            # The store began this write unit on the driver itself (``sqlite_execute``);
            # SQLAlchemy's autobegin of a cold-path statement joins that transaction.
            return
        begin = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "BEGIN IMMEDIATE")
        assert begin in ("BEGIN", "BEGIN IMMEDIATE", "BEGIN EXCLUSIVE")
        sqlite_execute(connection, begin)


def sqlite_execute(connection: Connection, statement: str) -> None:
    """``BEGIN``/``COMMIT``/``ROLLBACK`` straight to the stdlib driver.

    A ``BEGIN`` still passes through the engine's ``before_cursor_execute`` listeners (as when
    SQLAlchemy ran it; ``COMMIT`` and ``ROLLBACK`` never did), and a busy file still leaves as
    SQLAlchemy's ``OperationalError``, which the store retries.
    """
    dispatch = connection.dispatch.before_cursor_execute
    raw: Any = connection.connection.driver_connection
    if dispatch and statement.startswith("BEGIN"):
        dispatch(connection, None, statement, (), None, False)
    try:
        raw.execute(statement)
    except sqlite3.Error as error:
        raise sa.exc.DBAPIError.instance(
            statement, (), error, sqlite3.Error, dialect=connection.dialect
        ) from error
