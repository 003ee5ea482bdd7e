"""The write path's statements, run on the DBAPI connection under the SQLAlchemy one.

SQLAlchemy Core costs tens of microseconds per execution (compiled-cache
lookup, parameter processing, result set-up); a single transfer runs about
eight statements, so on SQLite the Core overhead was most of the store's time.
The statements a transfer needs (the book head, the idempotency probe, the
account locks and the writes) are therefore pre-rendered here for each dialect
and run on the same connection's driver connection, inside the same database
transaction that SQLAlchemy began. Everything else (schema, migrations, the
engine and pool, the cold reads) stays on SQLAlchemy.

Two things SQLAlchemy did for those statements are kept:

- ``before_cursor_execute`` listeners on the engine still see every statement
  (the store's fault-injection tests and any instrumentation rely on them);
- driver errors leave as SQLAlchemy ``DBAPIError`` subclasses, a lost
  connection is marked as such and invalidated, so the store's retry and error
  translation treat them exactly as before.

On PostgreSQL (psycopg 3) the statements run with server-side prepared
statements, and the unit's round trips are folded with pipeline mode: the head
lock and the idempotency probe travel together, and all of a unit's writes
travel together before the separate ``COMMIT``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import msgspec
from sqlalchemy import Connection, exc

__all__ = ["RawDriver", "raw_driver"]

_json_encode = msgspec.json.Encoder().encode
_json_decode = msgspec.json.decode

_ACCOUNT_COLUMNS = (
    "book_id, id, balance_minutes_min, balance_minutes_max, metadata, opened_at, closed_at,"
    " posted_minutes, debits_pending_minutes, credits_pending_minutes"
)


class RawDriver:
    """Pre-rendered SQL and value conversions for one dialect, run on one connection."""

    postgres = False
    HEAD = "SELECT head_sequence, head_hash, head_recorded_at FROM books WHERE id = ?"
    FIND = "SELECT request, sequence, error FROM requests WHERE book_id = ? AND transaction_id = ?"
    INSERT_TRANSACTION = (
        "INSERT INTO transactions (book_id, sequence, transaction_id, kind, code, metadata,"
        " recorded_at, effective_at, expires_at, related_id, previous_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    INSERT_POSTING = (
        "INSERT INTO postings (book_id, sequence, posting_index, account_id, side,"
        " amount_minutes, posted_minutes, debits_pending_minutes, credits_pending_minutes)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    UPDATE_ACCOUNT = (
        "UPDATE accounts SET closed_at = ?, posted_minutes = ?, debits_pending_minutes = ?,"
        " credits_pending_minutes = ? WHERE book_id = ? AND id = ?"
    )
    INSERT_REQUEST = (
        "INSERT INTO requests (book_id, transaction_id, request, sequence, error)"
        " VALUES (?, ?, ?, ?, ?)"
    )
    UPDATE_HEAD = (
        "UPDATE books SET head_sequence = ?, head_hash = ?, head_recorded_at = ? WHERE id = ?"
    )
    UPDATE_HOLD = "UPDATE holds SET status = ?, resolved_by = ? WHERE book_id = ? AND hold_id = ?"

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.raw: Any = connection.connection.driver_connection
        self._cursor: Any = None
        dispatch = connection.dispatch.before_cursor_execute
        self._listeners = dispatch if dispatch else None

    # --- value conversions (what SQLAlchemy's type processors did) -------------------------

    @staticmethod
    def time_in(moment: datetime | None) -> Any:
        """SQLAlchemy's SQLite storage format: fixed-width UTC text, always with microseconds."""
        if moment is None:
            return None
        if moment.tzinfo is not UTC:
            assert moment.utcoffset() is not None, "the store keeps only aware datetimes"
            moment = moment.astimezone(UTC)
        return moment.replace(tzinfo=None).isoformat(" ", "microseconds")

    @staticmethod
    def time_out(value: Any) -> datetime | None:
        if value is None:
            return None
        return datetime.fromisoformat(value).replace(tzinfo=UTC)

    @staticmethod
    def json_in(value: Any) -> Any:
        return None if value is None else _json_encode(value).decode()

    @staticmethod
    def json_out(value: Any) -> Any:
        return _json_decode(value) if isinstance(value, str) else value

    # --- statements ------------------------------------------------------------------

    def accounts_sql(self, count: int, *, lock: bool) -> str:
        marks = ", ".join("?" * count)
        return (
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE book_id = ? AND id IN ({marks})"
            " ORDER BY id"
        )

    def accounts_params(self, book_id: str, ids: list[str]) -> Sequence[Any]:
        return (book_id, *ids)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Statements inside travel together (PostgreSQL pipeline mode); a no-op on SQLite."""
        yield

    def _cursor_for(self) -> Any:
        if self._cursor is None:
            self._cursor = self.raw.cursor()
        return self._cursor

    def execute(self, statement: str, params: Sequence[Any]) -> Any:
        """Run one statement; returns the cursor holding its rows."""
        cursor = self._cursor_for()
        if self._listeners is not None:
            self._listeners(self.connection, cursor, statement, params, None, False)
        try:
            cursor.execute(statement, params)
        except Exception as error:
            raise self.wrap(error, statement, params) from error
        return cursor

    def insert_rows(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run an ``INSERT ... VALUES (...)`` for many rows, up to ``ROWS_PER_STATEMENT`` each."""
        if len(rows) == 1:
            self.execute(statement, rows[0])
            return
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            chunk = rows[start : start + ROWS_PER_STATEMENT]
            self.execute(_many_values(statement, len(chunk)), [v for row in chunk for v in row])

    def update_accounts(self, rows: Sequence[Sequence[Any]]) -> None:
        """``UPDATE_ACCOUNT`` for many rows: one ``UPDATE ... FROM (VALUES ...)`` per chunk."""
        if len(rows) == 1:
            self.execute(self.UPDATE_ACCOUNT, rows[0])
            return
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            chunk = rows[start : start + ROWS_PER_STATEMENT]
            self.execute(_update_accounts_sql(len(chunk)), [v for row in chunk for v in row])

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        cursor = self._cursor_for()
        if self._listeners is not None:
            self._listeners(self.connection, cursor, statement, rows, None, True)
        try:
            cursor.executemany(statement, rows)
        except Exception as error:
            raise self.wrap(error, statement, rows) from error

    def wrap(self, error: Exception, statement: str | None, params: Any) -> Exception:
        """A driver error as SQLAlchemy would have raised it; a lost connection is invalidated."""
        connection = self.connection
        dialect = connection.dialect
        dbapi = dialect.loaded_dbapi
        if not isinstance(error, dbapi.Error):
            return error
        disconnect = dialect.is_disconnect(error, self.raw, self._cursor)
        wrapped = exc.DBAPIError.instance(
            statement,
            params,
            error,
            dbapi.Error,
            connection_invalidated=disconnect,
            dialect=dialect,
        )
        if disconnect:
            connection.invalidate(error)
        return wrapped


ROWS_PER_STATEMENT = 200
"""Rows in one multi-row statement: 2,400 parameters at most, far below either database's cap."""


@lru_cache(maxsize=256)
def _many_values(statement: str, count: int) -> str:
    """``statement``, an ``INSERT ... VALUES (...) [ON CONFLICT ...]``, with its values group
    ``count`` times."""
    head, separator, rest = statement.rpartition(" VALUES ")
    assert separator, statement
    assert rest.startswith("("), statement
    end = rest.index(")") + 1
    return head + separator + ", ".join([rest[:end]] * count) + rest[end:]


@lru_cache(maxsize=256)
def _update_accounts_sql(count: int) -> str:
    """SQLite's ``UPDATE ... FROM``: the rows of ``UPDATE_ACCOUNT``'s parameters as VALUES."""
    group = "(?, ?, ?, ?, ?, ?)"
    return (
        "UPDATE accounts SET closed_at = v.column1, posted_minutes = v.column2,"
        " debits_pending_minutes = v.column3, credits_pending_minutes = v.column4"
        f" FROM (VALUES {', '.join([group] * count)}) AS v"
        " WHERE accounts.book_id = v.column5 AND accounts.id = v.column6"
    )


class PostgresDriver(RawDriver):
    """psycopg 3: prepared statements, pipeline mode, arrays for variable-length lists."""

    postgres = True
    HEAD = "SELECT head_sequence, head_hash, head_recorded_at FROM books WHERE id = %s"
    HEAD_FOR_UPDATE = HEAD + " FOR UPDATE"
    FIND = (
        "SELECT request, sequence, error FROM requests WHERE book_id = %s AND transaction_id = %s"
    )
    ACCOUNTS = (
        f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE book_id = %s AND id = ANY(%s) ORDER BY id"
    )
    # Rows are locked in the order the scan meets them: by id, so every writer locks alike.
    ACCOUNTS_FOR_UPDATE = ACCOUNTS + " FOR UPDATE"
    INSERT_TRANSACTION = (
        "INSERT INTO transactions (book_id, sequence, transaction_id, kind, code, metadata,"
        " recorded_at, effective_at, expires_at, related_id, previous_hash, hash)"
        " VALUES (%s, %s, %s, %s, %s, %s::json, %s, %s, %s, %s, %s, %s)"
    )
    INSERT_POSTING = (
        "INSERT INTO postings (book_id, sequence, posting_index, account_id, side,"
        " amount_minutes, posted_minutes, debits_pending_minutes, credits_pending_minutes)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
    )
    UPDATE_ACCOUNT = (
        "UPDATE accounts SET closed_at = %s, posted_minutes = %s, debits_pending_minutes = %s,"
        " credits_pending_minutes = %s WHERE book_id = %s AND id = %s"
    )
    INSERT_REQUEST = (
        "INSERT INTO requests (book_id, transaction_id, request, sequence, error)"
        " VALUES (%s, %s, %s, %s, %s::json)"
    )
    UPDATE_HEAD = (
        "UPDATE books SET head_sequence = %s, head_hash = %s, head_recorded_at = %s WHERE id = %s"
    )
    UPDATE_HOLD = (
        "UPDATE holds SET status = %s, resolved_by = %s WHERE book_id = %s AND hold_id = %s"
    )

    @staticmethod
    def time_in(moment: datetime | None) -> Any:
        if moment is not None:
            assert moment.utcoffset() is not None, "the store keeps only aware datetimes"
        return moment

    @staticmethod
    def time_out(value: Any) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value if value.tzinfo is UTC else value.astimezone(UTC)

    def accounts_sql(self, count: int, *, lock: bool) -> str:
        return self.ACCOUNTS_FOR_UPDATE if lock else self.ACCOUNTS

    def accounts_params(self, book_id: str, ids: list[str]) -> Sequence[Any]:
        return (book_id, ids)

    @contextmanager
    def batch(self) -> Iterator[None]:
        try:
            with self.raw.pipeline():
                yield
        except exc.DBAPIError:
            raise
        except Exception as error:
            raise self.wrap(error, None, None) from error

    def execute(self, statement: str, params: Sequence[Any]) -> Any:
        """Run one statement on a cursor of its own (pipelined results stay apart)."""
        cursor = self._cursor = self.raw.cursor()
        if self._listeners is not None:
            self._listeners(self.connection, cursor, statement, params, None, False)
        try:
            cursor.execute(statement, params, prepare=True)
        except Exception as error:
            raise self.wrap(error, statement, params) from error
        return cursor

    def update_accounts(self, rows: Sequence[Sequence[Any]]) -> None:
        """Pipelined, the rows already travel together."""
        self.executemany(self.UPDATE_ACCOUNT, rows)

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        cursor = self._cursor = self.raw.cursor()
        if self._listeners is not None:
            self._listeners(self.connection, cursor, statement, rows, None, True)
        try:
            cursor.executemany(statement, rows)
        except Exception as error:
            raise self.wrap(error, statement, rows) from error


def raw_driver(connection: Connection) -> RawDriver:
    if connection.dialect.name == "postgresql":
        return PostgresDriver(connection)
    return RawDriver(connection)
