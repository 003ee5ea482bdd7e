"""``SqlRecords``: one book's records, read and written on one SQLAlchemy connection.

A record is an opaque encoded body under ``(kind, record_id)``, with an
optional secondary ``key``. ``SqlRecords`` works on the connection of the
unit of work (or snapshot) it belongs to, so its writes commit or roll back
with the ledger's. A ``put`` is kept until ``finish``, which the bank store
calls when the unit's work returns, and all of a unit's puts are then written
by one multi-row upsert; until then reads see them (``get`` from what is kept,
a ``scan`` of a kind with kept rows writes them first). The changes a unit
asks for its end (``update_at_end``) are applied in ``finish`` before that
write: one read per record so changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from timebank.community.port import (
    KIND_LENGTH_MAX,
    RECORD_BYTES_MAX,
    RECORD_KEY_LENGTH_MAX,
    ChangesAtEnd,
)
from timebank.ledger.limits import STORED_ID_LENGTH_MAX
from timebank.store.fast import raw_driver
from timebank.store.tables import records

__all__ = ["SqlRecords"]

_r = records.c
_book: sa.BindParameter[str] = sa.bindparam("book_id")
_kind: sa.BindParameter[str] = sa.bindparam("kind")


def _scan(*, by_key: bool, after: bool) -> sa.Select[tuple[str, bytes]]:
    statement = sa.select(_r.record_id, _r.body).where(_r.book_id == _book, _r.kind == _kind)
    if by_key:
        statement = statement.where(_r.key == sa.bindparam("key"))
    if after:
        statement = statement.where(_r.record_id > sa.bindparam("after"))
    return statement.order_by(_r.record_id).limit(sa.bindparam("limit"))


SCANS = {(k, a): _scan(by_key=k, after=a) for k in (False, True) for a in (False, True)}
"""The four scans, by (filtered by key, after a cursor); built once, like ``statements``."""

_RAW_GET = "SELECT body FROM records WHERE book_id = ? AND kind = ? AND record_id = ?"
_RAW_UPSERT = (
    "INSERT INTO records (book_id, kind, record_id, key, body) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (book_id, kind, record_id) DO UPDATE SET key = excluded.key, body = excluded.body"
)
RAW_STATEMENTS = {
    "sqlite": (_RAW_GET, _RAW_UPSERT),
    "postgresql": (_RAW_GET.replace("?", "%s"), _RAW_UPSERT.replace("?", "%s")),
}
"""The two statements every use case runs, in each driver's own parameter style."""


class SqlRecords:
    """Reads and writes of one book's records inside the connection's transaction.

    ``get`` and ``put``, which every use case runs several times, go straight
    to the driver (as the ledger's write path does); scans, rarer, go through
    SQLAlchemy Core.
    """

    def __init__(self, connection: Connection, book_id: str) -> None:
        self._connection = connection
        self._raw = raw_driver(connection)
        self._get_sql, self._upsert_sql = RAW_STATEMENTS[connection.dialect.name]
        self._at_end = ChangesAtEnd()
        self._kept: dict[tuple[str, str], tuple[str | None, bytes]] = {}
        self._read: dict[tuple[str, str], bytes | None] = {}
        """Bodies this unit read or wrote: nobody else writes the book's records meanwhile
        (the unit holds the book's row; a reader's snapshot does not change)."""
        self.book_id = book_id

    def get(self, kind: str, record_id: str) -> bytes | None:
        _check_kind(kind)
        _check_id(record_id)
        kept = self._kept.get((kind, record_id))
        if kept is not None:
            return kept[1]
        read = self._read
        if (kind, record_id) in read:
            return read[kind, record_id]
        row = self._raw.execute(self._get_sql, (self.book_id, kind, record_id)).fetchone()
        body = None if row is None else bytes(row[0])
        read[kind, record_id] = body
        return body

    def scan(
        self, kind: str, *, key: str | None = None, after: str | None = None, limit: int
    ) -> Sequence[tuple[str, bytes]]:
        _check_kind(kind)
        if key is not None:
            _check_key(key)
        if limit < 0:
            raise ValueError(f"limit must not be negative, not {limit}")
        if any(kept_kind == kind for kept_kind, _ in self._kept):
            self._write_kept()
        statement = SCANS[key is not None, after is not None]
        parameters = {
            "book_id": self.book_id,
            "kind": kind,
            "key": key,
            "after": after,
            "limit": limit,
        }
        rows = self._connection.execute(statement, parameters)
        return [(row.record_id, bytes(row.body)) for row in rows]

    def put(self, kind: str, record_id: str, body: bytes, *, key: str | None = None) -> None:
        _check_kind(kind)
        _check_id(record_id)
        if key is not None:
            _check_key(key)
        if len(body) > RECORD_BYTES_MAX:
            raise ValueError(f"a record body is at most {RECORD_BYTES_MAX} bytes, not {len(body)}")
        self._kept[kind, record_id] = (key, bytes(body))

    def update_at_end(
        self,
        kind: str,
        record_id: str,
        change: Callable[[bytes | None], bytes],
        *,
        key: str | None = None,
    ) -> None:
        _check_kind(kind)
        _check_id(record_id)
        self._at_end.add(kind, record_id, change, key)

    def finish(self) -> None:
        """Apply the changes asked for the unit's end (its work has returned), then write."""
        self._at_end.apply(self)
        self._write_kept()

    def _write_kept(self) -> None:
        rows = [
            (self.book_id, kind, record_id, key, body)
            for (kind, record_id), (key, body) in self._kept.items()
        ]
        self._read.update((key, kept[1]) for key, kept in self._kept.items())
        self._kept.clear()
        if rows:
            self._raw.insert_rows(self._upsert_sql, rows)


def _check_kind(kind: str) -> None:
    if not 0 < len(kind) <= KIND_LENGTH_MAX:
        raise ValueError(f"a record kind has 1 to {KIND_LENGTH_MAX} characters: {kind!r}")


def _check_id(record_id: str) -> None:
    if not 0 < len(record_id) <= STORED_ID_LENGTH_MAX:
        raise ValueError(f"a record id has 1 to {STORED_ID_LENGTH_MAX} characters")


def _check_key(key: str) -> None:
    if len(key) > RECORD_KEY_LENGTH_MAX:
        raise ValueError(f"a record key has at most {RECORD_KEY_LENGTH_MAX} characters")
