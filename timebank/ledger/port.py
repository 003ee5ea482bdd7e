"""The storage port: what a store must do for the ledger.

The ledger decides; a store remembers. Every write is a function of one
``LedgerUnit`` handed to ``LedgerStore.transact(book_id, work)``: the store
runs ``work(unit)`` as one atomic unit of work (one database transaction in an
SQL store) that commits when ``work`` returns and leaves no trace when it
raises. A store may run ``work`` again on a fresh unit after a transient
failure (a serialization failure, a deadlock, a lost connection before the
commit), so ``work`` has no effect outside its unit. Reads inside a unit see
the unit's own writes. The ledger validates everything before it writes and
writes each decision with one ``append`` call, so a store never has to undo
half of a decision.

``MemoryStore`` in ``timebank.ledger.memory`` is the reference implementation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol, TypeVar

from msgspec import Struct

from timebank.ledger.model import (
    Account,
    Balance,
    Entry,
    HoldRecord,
    Rejection,
    Request,
    Transaction,
)

__all__ = ["ChainHead", "Commit", "Committed", "LedgerReader", "LedgerStore", "LedgerUnit"]

T = TypeVar("T")


class ChainHead(Protocol):
    """The end of a book's hash chain: a ``BookHead``, or simply the book's last ``Transaction``."""

    @property
    def sequence(self) -> int: ...

    @property
    def hash(self) -> str: ...

    @property
    def recorded_at(self) -> datetime | None: ...


class Committed(Struct, frozen=True, kw_only=True):
    """A committed transaction and the request that made it (None if the ledger made it)."""

    request: Request | None
    transaction: Transaction


class Commit(Struct, frozen=True, kw_only=True):
    """Everything one accepted request writes, applied by a store as one unit."""

    request: Request | None
    transaction: Transaction
    accounts: tuple[Account, ...]
    """The new state of every account touched: ``accounts[i]`` is the account of
    ``transaction.postings[i]``.

    Each account's statement entry for this transaction is its new state set
    against its previous one (see ``timebank.ledger.model.Entry``).
    """
    hold: HoldRecord | None
    """The hold this transaction creates or resolves, in its new state."""


class LedgerReader(Protocol):
    """Reads of one book. Inside a unit, they see the unit's own writes."""

    def head(self) -> ChainHead:
        """The last record's sequence, hash and recorded time (0, 64 zeros, None when empty)."""
        ...

    def account(self, account_id: str) -> Account | None: ...

    def find(self, transaction_id: str) -> Committed | Rejection | None:
        """What became of a transaction id, if it was ever submitted."""
        ...

    def find_many(self, transaction_ids: Sequence[str]) -> dict[str, Committed | Rejection]:
        """``find`` for many ids at once (a batch's lookups in one round trip); ids never
        submitted are left out."""
        ...

    def hold(self, hold_id: str) -> HoldRecord | None: ...

    def reversal_of(self, transaction_id: str) -> str | None:
        """The id of the reversal of ``transaction_id``, if it was reversed."""
        ...

    def entries(self, account_id: str, *, after: int | None, limit: int) -> Sequence[Entry]:
        """Up to ``limit`` entries of one account with sequence > ``after``, oldest first."""
        ...

    def balance_recorded_at(self, account_id: str, moment: datetime) -> Balance:
        """The account's balances after the last entry recorded at or before ``moment``."""
        ...

    def balance_effective_at(self, account_id: str, moment: datetime) -> Balance:
        """The sum of the account's entries whose effective time is at or before ``moment``."""
        ...

    def journal(self, *, after: int, limit: int) -> Sequence[Transaction]:
        """Up to ``limit`` records with sequence > ``after``, in sequence order."""
        ...

    def accounts(self, *, after: str | None, limit: int) -> Sequence[Account]:
        """Up to ``limit`` accounts with id > ``after``, in id order."""
        ...


class LedgerUnit(LedgerReader, Protocol):
    """One atomic unit of work on one book."""

    def lock_accounts(self, account_ids: Sequence[str]) -> list[Account | None]:
        """Read accounts for update, in the order given; a store locks them in sorted order."""
        ...

    def due_holds(self, moment: datetime, limit: int) -> Sequence[HoldRecord]:
        """Up to ``limit`` pending holds whose expiry is at or before ``moment``, oldest first."""
        ...

    def add_account(self, account: Account) -> None: ...

    def replace_account(self, account: Account) -> None:
        """Store a new state of an existing account (closing it, not balances)."""
        ...

    def append(self, commit: Commit) -> None:
        """Write an accepted transaction: the record, its entries, accounts and hold."""
        ...

    def reject(self, rejection: Rejection) -> None:
        """Remember that a request was refused on a rule."""
        ...


class LedgerStore(Protocol):
    """Where books live."""

    def create_book(self, book_id: str) -> None:
        """Create an empty book; raises ``BookExists``."""
        ...

    def book_ids(self) -> Sequence[str]: ...

    def has_book(self, book_id: str) -> bool: ...

    def transact(self, book_id: str, work: Callable[[LedgerUnit], T]) -> T:
        """Run ``work`` in one atomic unit of work on a book and return its result.

        Commits when ``work`` returns; rolls back and re-raises when it raises.
        Raises ``BookNotFound`` for an unknown book. When the connection is lost
        during the commit itself, the outcome is unknown: a store raises an error
        saying so, and resubmitting the same transaction id is the safe recovery,
        since it returns the original outcome if the commit did happen.
        """
        ...

    def read(self, book_id: str) -> AbstractContextManager[LedgerReader]:
        """Open a consistent read of a book; raises ``BookNotFound``."""
        ...
