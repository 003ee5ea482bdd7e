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

A reader hands back what its storage holds. When a stored row cannot be read
as the ledger's values at all (text where a number belongs, a time that does
not parse, a journal row with no record), it raises ``StoredRowInvalid``
naming the row, never a decoding error: ``verify()`` reports it as a break.
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
    HoldStatus,
    Rejection,
    Request,
    Transaction,
)

__all__ = [
    "ChainHead",
    "CheckpointReader",
    "CheckpointStore",
    "Commit",
    "Committed",
    "LedgerReader",
    "LedgerStore",
    "LedgerUnit",
    "StatedJournal",
    "StoredCheckpoint",
    "StoredHold",
    "StoredOutcome",
    "StoredReversal",
    "StoredRowInvalid",
]

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


class StoredRowInvalid(Exception):
    """A stored row cannot be read as the ledger's values: it was tampered with, or the store broke.

    ``table`` names where the row is kept (a SQL store's table; ``books`` for the head),
    ``sequence`` the journal record it belongs to when it belongs to one, ``key`` its id
    otherwise (an account, a hold, a transaction id), and ``detail`` what is wrong.
    """

    def __init__(
        self, *, table: str, detail: str, sequence: int | None = None, key: str | None = None
    ) -> None:
        where = f" #{sequence}" if sequence is not None else f" {key!r}" if key is not None else ""
        super().__init__(f"{table}{where}: {detail}")
        self.table = table
        self.detail = detail
        self.sequence = sequence
        self.key = key


class StoredHold(Struct, frozen=True, kw_only=True, gc=False):
    """A hold's state as stored, listed for ``verify()`` (``sequence``: the hold's own record)."""

    hold_id: str
    sequence: int
    status: HoldStatus
    expires_at: datetime | None
    resolved_by: str | None


class StoredReversal(Struct, frozen=True, kw_only=True, gc=False):
    """One stored link from a reversed transaction to its reversal, listed for ``verify()``."""

    original_id: str
    reversal_id: str


class StoredOutcome(Struct, frozen=True, kw_only=True):
    """What a store remembers for one transaction id, listed for ``verify()``.

    Committed: ``sequence`` with the request (None if the ledger made the record) and no
    error. Refused: no sequence, the request and the error's dict.
    """

    transaction_id: str
    sequence: int | None
    request: Request | None
    error: dict[str, object] | None


class StoredCheckpoint(Struct, frozen=True, kw_only=True):
    """A verify checkpoint as a store keeps it: the sequence and hash it is bound to, and the
    state ``verify()`` needs to go on from there, as JSON text the store does not read.

    A reader hands back what it holds, whatever its types: ``verify()`` checks every value.
    """

    sequence: int
    hash: str
    state: str


class StatedJournal(Protocol):
    """A reader whose statement entries are exactly its journal's postings (a SQL store's
    ``postings`` rows), which it can read with the balances each entry states after it.

    ``verify()`` then checks every entry as it walks the journal, in one pass, instead of
    reading each account's statement again; a reader that cannot promise this leaves it out.
    """

    def stated_journal(
        self, *, after: int, limit: int
    ) -> tuple[Sequence[Transaction], Sequence[tuple[int, int, int]]]:
        """``journal(after=after, limit=limit)``, and the (posted, debits pending, credits
        pending) each of their postings' statement entries states, in journal and posting
        order. Raises ``StoredRowInvalid`` for a stated value that is no integer."""
        ...


class CheckpointReader(Protocol):
    """A reader that can hand back the book's last verify checkpoint."""

    def checkpoint(self) -> StoredCheckpoint | None: ...


class CheckpointStore(Protocol):
    """A store that keeps one verify checkpoint per book (``Book.verify``'s ``checkpoint``)."""

    def save_checkpoint(self, book_id: str, checkpoint: StoredCheckpoint) -> None:
        """Keep ``checkpoint`` as the book's checkpoint, in place of any earlier one."""
        ...


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

    def holds(self, *, after: str | None, limit: int) -> Sequence[StoredHold]:
        """Up to ``limit`` holds, of any status, with id > ``after``, in id order."""
        ...

    def reversals(self, *, after: str | None, limit: int) -> Sequence[StoredReversal]:
        """Up to ``limit`` reversal links with original id > ``after``, in that order."""
        ...

    def outcomes(self, *, after: str | None, limit: int) -> Sequence[StoredOutcome]:
        """Up to ``limit`` remembered outcomes with transaction id > ``after``, in id order."""
        ...

    def outcomes_of(self, transaction_ids: Sequence[str]) -> dict[str, StoredOutcome]:
        """The remembered outcomes of these ids (a journal page's, for ``verify()``)."""
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
