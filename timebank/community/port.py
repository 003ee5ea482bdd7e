"""The storage port of the time-bank rules: records kept beside the ledger, in its transaction.

A time bank keeps two kinds of state. Minutes live in the ledger (append-only,
hash-chained). Everything else a community centre registers (members, their
relations and proxies, policy versions, service credits, redemptions, events)
is a *record*: a msgspec-encoded document under ``(kind, record_id)`` in one
book, with an optional secondary ``key`` (for example a member's community)
for listing.

``BankStore.transact(book_id, work)`` runs ``work(unit)`` as one atomic unit of
work in which ``unit.ledger`` is the book's ``LedgerUnit`` and ``unit.records``
reads and writes records, so that a credit and the record describing it commit
together or not at all. As with the ledger's port, a store may run ``work``
again after a transient failure, so ``work`` has no effect outside its unit.
A unit holds the book's write lock from its start, so a read-modify-write of a
record inside a unit is safe against concurrent units on the same book.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Protocol, TypeVar

from timebank.ledger.port import LedgerReader, LedgerStore, LedgerUnit

__all__ = [
    "KIND_LENGTH_MAX",
    "RECORD_BYTES_MAX",
    "RECORD_KEY_LENGTH_MAX",
    "BankReader",
    "BankStore",
    "BankUnit",
    "RecordReader",
    "RecordWriter",
]

T = TypeVar("T")

KIND_LENGTH_MAX = 32
"""Longest record kind (``member``, ``policy``, ``credit``...)."""
RECORD_KEY_LENGTH_MAX = 128
"""Longest secondary key of a record."""
RECORD_BYTES_MAX = 65_536
"""Largest encoded record body."""


class RecordReader(Protocol):
    """Reads of one book's records."""

    def get(self, kind: str, record_id: str) -> bytes | None:
        """The body of a record, or None."""
        ...

    def scan(
        self, kind: str, *, key: str | None = None, after: str | None = None, limit: int
    ) -> Sequence[tuple[str, bytes]]:
        """Up to ``limit`` ``(record_id, body)`` pairs of a kind, in ``record_id`` order.

        With ``key``, only records whose secondary key equals it; with ``after``,
        only records whose id sorts after it (a cursor).
        """
        ...


class RecordWriter(RecordReader, Protocol):
    """Reads and writes of one book's records inside a unit of work."""

    def put(self, kind: str, record_id: str, body: bytes, *, key: str | None = None) -> None:
        """Insert the record, or replace its body and key if it exists."""
        ...


class BankUnit(Protocol):
    """One atomic unit of work on a book: its ledger and its records."""

    @property
    def ledger(self) -> LedgerUnit: ...

    @property
    def records(self) -> RecordWriter: ...


class BankReader(Protocol):
    """A consistent read of a book: its ledger and its records."""

    @property
    def ledger(self) -> LedgerReader: ...

    @property
    def records(self) -> RecordReader: ...


class BankStore(Protocol):
    """Where a time bank keeps its books: the ledger's store plus records."""

    @property
    def ledger_store(self) -> LedgerStore:
        """The same books as a plain ledger store (for ``Ledger``)."""
        ...

    def transact(self, book_id: str, work: Callable[[BankUnit], T]) -> T:
        """Run ``work`` as one atomic unit of work on the book."""
        ...

    def read(self, book_id: str) -> AbstractContextManager[BankReader]:
        """A consistent snapshot of the book's ledger and records."""
        ...
