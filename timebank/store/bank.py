"""``SqlBankStore``: the time bank's storage port, the ledger's tables plus the bank's own.

A bank unit is one of ``SqlStore``'s units of work with a ``SqlRecords``, a
``SqlOrders`` and a ``SqlOutbox`` on the same connection, so a credit, the
records and order describing it and the notification announcing it commit
together, and the unit is retried as a whole after a transient failure. The
unit reads (and on PostgreSQL locks) the book's row before ``work`` runs:
the ledger unit would otherwise take that lock only at its first ledger call,
and a unit that reads a record, then writes it back, must already hold it.
Once ``work`` returns, the records' changes asked for the unit's end are
written, still before the commit.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.engine import URL

from timebank.community.port import BankReader, BankUnit
from timebank.ledger.port import LedgerReader, LedgerUnit
from timebank.store.orders import SqlOrders, SqlOutbox
from timebank.store.records import SqlRecords
from timebank.store.store import SqlStore, open_store
from timebank.store.unit import SqlUnit

__all__ = ["SqlBankStore", "open_bank_store"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Unit:
    ledger: LedgerUnit
    records: SqlRecords
    orders: SqlOrders
    outbox: SqlOutbox


@dataclass(frozen=True, slots=True)
class _Reader:
    ledger: LedgerReader
    records: SqlRecords
    orders: SqlOrders
    outbox: SqlOutbox


class SqlBankStore:
    """Books and everything kept beside them in one SQL database. Safe to share between threads."""

    rolls_back_units = True
    """A unit that raises leaves no trace, however many ledger requests it made."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    @property
    def ledger_store(self) -> SqlStore:
        return self._store

    def transact(self, book_id: str, work: Callable[[BankUnit], T]) -> T:
        def on_unit(connection: Connection, unit: SqlUnit) -> T:
            unit.head()  # the book's lock, first; an unknown book raises BookNotFound
            records = SqlRecords(connection, book_id)
            result = work(
                _Unit(
                    ledger=unit,
                    records=records,
                    orders=SqlOrders(connection, book_id),
                    outbox=SqlOutbox(connection, book_id),
                )
            )
            records.finish()
            return result

        return self._store.run_unit(book_id, on_unit)

    @contextmanager
    def read(self, book_id: str) -> Iterator[BankReader]:
        """A consistent snapshot of the book's ledger, records, orders and outbox."""
        with self._store.read_snapshot(book_id) as (connection, ledger):
            yield _Reader(
                ledger=ledger,
                records=SqlRecords(connection, book_id),
                orders=SqlOrders(connection, book_id),
                outbox=SqlOutbox(connection, book_id),
            )

    def close(self) -> None:
        """Close the ledger store's pooled connections."""
        self._store.close()

    def __enter__(self) -> SqlBankStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_bank_store(target: str | os.PathLike[str] | URL, **options: Any) -> SqlBankStore:
    """``open_store(target, **options)`` (migrating by default), as a time bank's store."""
    return SqlBankStore(open_store(target, **options))
