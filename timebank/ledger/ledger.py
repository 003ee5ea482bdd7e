"""The entry point: a ledger over a store, with an injected clock."""

from __future__ import annotations

from timebank.ledger.book import Book
from timebank.ledger.checks import check_id
from timebank.ledger.clock import Clock, SystemClock
from timebank.ledger.errors import BookNotFound
from timebank.ledger.memory import MemoryStore
from timebank.ledger.port import LedgerStore

__all__ = ["Ledger"]


class Ledger:
    """Books of minutes kept in one store.

    ``Ledger()`` keeps everything in memory; pass a persistent store to keep it.
    The clock stamps every record; pass a ``ManualClock`` to control time.
    """

    def __init__(self, store: LedgerStore | None = None, *, clock: Clock | None = None) -> None:
        self.store: LedgerStore = MemoryStore() if store is None else store
        self.clock: Clock = SystemClock() if clock is None else clock

    def create_book(self, book_id: str) -> Book:
        """Create an empty book; raises ``BookExists`` if the id is taken."""
        check_id("book_id", book_id)
        self.store.create_book(book_id)
        return Book(self.store, self.clock, book_id)

    def book(self, book_id: str) -> Book:
        """An existing book; raises ``BookNotFound``."""
        if not self.store.has_book(book_id):
            raise BookNotFound(book_id=book_id)
        return Book(self.store, self.clock, book_id)

    def book_ids(self) -> list[str]:
        return list(self.store.book_ids())
