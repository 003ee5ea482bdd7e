"""The in-memory store: the reference implementation of the storage port.

It keeps each book in plain dicts and lists behind one lock, so it is safe
with many threads. Because the ledger validates everything before writing and
writes each decision with a single ``append``, a unit here needs no undo log.

To stay small and fast, it keeps each account's statement as the sequence
numbers of its entries and the account states after them, and builds
``Entry`` values when read; and it keeps the request behind a transaction only
where the transaction itself does not say what it was.
"""

from __future__ import annotations

import bisect
import threading
from array import array
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from types import TracebackType

from timebank.ledger.errors import BookExists, BookNotFound
from timebank.ledger.hashing import GENESIS_HASH
from timebank.ledger.model import (
    Account,
    Balance,
    BookHead,
    Entry,
    Hold,
    HoldRecord,
    HoldStatus,
    Kind,
    PostHold,
    Rejection,
    Request,
    Reverse,
    Transaction,
    Transfer,
    VoidHold,
)
from timebank.ledger.port import (
    ChainHead,
    Commit,
    Committed,
    LedgerUnit,
    StoredCheckpoint,
    StoredHold,
    StoredOutcome,
    StoredReversal,
    T,
)

__all__ = ["MemoryStore"]


class _MemoryBook:
    """One book's state; it is its own reader and unit."""

    def __init__(self, book_id: str) -> None:
        self.book_id = book_id
        self.lock = threading.Lock()
        self._head: ChainHead = BookHead(
            book_id=book_id, sequence=0, hash=GENESIS_HASH, recorded_at=None
        )
        self._accounts: dict[str, Account] = {}
        self._records: dict[str, Transaction | Rejection] = {}
        self._posts: dict[str, PostHold] = {}
        self._journal: list[Transaction] = []
        self._lines: dict[str, _Lines] = {}
        self._holds: dict[str, HoldRecord] = {}
        self._expiring: dict[str, datetime] = {}
        self._reversals: dict[str, str] = {}
        self._checkpoint: StoredCheckpoint | None = None

    def __enter__(self) -> _MemoryBook:
        self.lock.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.lock.release()

    # --- reads -------------------------------------------------------------

    def head(self) -> ChainHead:
        return self._head

    def checkpoint(self) -> StoredCheckpoint | None:
        return self._checkpoint

    def account(self, account_id: str) -> Account | None:
        return self._accounts.get(account_id)

    def find(self, transaction_id: str) -> Committed | Rejection | None:
        found = self._records.get(transaction_id)
        if isinstance(found, Transaction):
            return Committed(request=self._request_of(found), transaction=found)
        return found

    def find_many(self, transaction_ids: Sequence[str]) -> dict[str, Committed | Rejection]:
        records = self._records
        found: dict[str, Committed | Rejection] = {}
        for transaction_id in transaction_ids:
            if transaction_id in records:
                outcome = self.find(transaction_id)
                assert outcome is not None
                found[transaction_id] = outcome
        return found

    def _request_of(self, transaction: Transaction) -> Request | None:
        kind = transaction.kind
        if kind is Kind.TRANSFER:
            return Transfer(
                transaction_id=transaction.transaction_id,
                postings=transaction.postings,
                code=transaction.code,
                metadata=transaction.metadata,
                effective_at=transaction.effective_at,
            )
        if kind is Kind.HOLD:
            return Hold(
                transaction_id=transaction.transaction_id,
                postings=transaction.postings,
                expires_at=transaction.expires_at,
                code=transaction.code,
                metadata=transaction.metadata,
            )
        if kind is Kind.POST:
            return self._posts[transaction.transaction_id]
        assert transaction.related_id is not None
        if kind is Kind.VOID:
            return VoidHold(
                transaction_id=transaction.transaction_id,
                hold_id=transaction.related_id,
                code=transaction.code,
                metadata=transaction.metadata,
            )
        if kind is Kind.REVERSAL:
            return Reverse(
                transaction_id=transaction.transaction_id,
                reverses_id=transaction.related_id,
                code=transaction.code,
                metadata=transaction.metadata,
            )
        return None

    def hold(self, hold_id: str) -> HoldRecord | None:
        return self._holds.get(hold_id)

    def reversal_of(self, transaction_id: str) -> str | None:
        return self._reversals.get(transaction_id)

    def entries(self, account_id: str, *, after: int | None, limit: int) -> Sequence[Entry]:
        lines = self._lines.get(account_id)
        if lines is None:
            return []
        start = 0 if after is None else bisect.bisect_right(lines.sequence, after)
        stop = min(start + limit, len(lines.sequence))
        return [self._entry(account_id, lines, index) for index in range(start, stop)]

    def _entry(self, account_id: str, lines: _Lines, index: int) -> Entry:
        record = self._journal[lines.sequence[index] - 1]
        before = (0, 0, 0) if index == 0 else lines.balances(index - 1)
        posted, debits_pending, credits_pending = lines.balances(index)
        return Entry(
            account_id=account_id,
            sequence=record.sequence,
            transaction_id=record.transaction_id,
            kind=record.kind,
            code=record.code,
            recorded_at=record.recorded_at,
            effective_at=record.recorded_at if record.effective_at is None else record.effective_at,
            posted_delta_minutes=posted - before[0],
            debits_pending_delta_minutes=debits_pending - before[1],
            credits_pending_delta_minutes=credits_pending - before[2],
            posted_minutes=posted,
            debits_pending_minutes=debits_pending,
            credits_pending_minutes=credits_pending,
        )

    def balance_recorded_at(self, account_id: str, moment: datetime) -> Balance:
        lines = self._lines.get(account_id)
        if lines is None:
            return _zero(account_id)
        # Recorded times increase with the sequence, so the journal is sorted by both.
        last_sequence = bisect.bisect_right(self._journal, moment, key=_recorded_at)
        index = bisect.bisect_right(lines.sequence, last_sequence)
        if index == 0:
            return _zero(account_id)
        posted, debits_pending, credits_pending = lines.balances(index - 1)
        return Balance(
            account_id=account_id,
            posted_minutes=posted,
            debits_pending_minutes=debits_pending,
            credits_pending_minutes=credits_pending,
        )

    def balance_effective_at(self, account_id: str, moment: datetime) -> Balance:
        posted = debits_pending = credits_pending = 0
        lines = self._lines.get(account_id)
        for index in range(0 if lines is None else len(lines.sequence)):
            assert lines is not None
            entry = self._entry(account_id, lines, index)
            if entry.effective_at <= moment:
                posted += entry.posted_delta_minutes
                debits_pending += entry.debits_pending_delta_minutes
                credits_pending += entry.credits_pending_delta_minutes
        return Balance(
            account_id=account_id,
            posted_minutes=posted,
            debits_pending_minutes=debits_pending,
            credits_pending_minutes=credits_pending,
        )

    def journal(self, *, after: int, limit: int) -> Sequence[Transaction]:
        return self._journal[after : after + limit]

    def accounts(self, *, after: str | None, limit: int) -> Sequence[Account]:
        ids = sorted(self._accounts)
        start = 0 if after is None else bisect.bisect_right(ids, after)
        return [self._accounts[i] for i in ids[start : start + limit]]

    # --- what verify() lists -----------------------------------------------------

    def holds(self, *, after: str | None, limit: int) -> Sequence[StoredHold]:
        return [self._stored_hold(i) for i in _page(self._holds, after, limit)]

    def _stored_hold(self, hold_id: str) -> StoredHold:
        hold = self._holds[hold_id]
        record = self._records[hold_id]
        assert isinstance(record, Transaction)
        return StoredHold(
            hold_id=hold_id,
            sequence=record.sequence,
            status=hold.status,
            expires_at=hold.expires_at,
            resolved_by=hold.resolved_by,
        )

    def reversals(self, *, after: str | None, limit: int) -> Sequence[StoredReversal]:
        return [
            StoredReversal(original_id=i, reversal_id=self._reversals[i])
            for i in _page(self._reversals, after, limit)
        ]

    def outcomes(self, *, after: str | None, limit: int) -> Sequence[StoredOutcome]:
        return [self._outcome(i) for i in _page(self._records, after, limit)]

    def outcomes_of(self, transaction_ids: Sequence[str]) -> dict[str, StoredOutcome]:
        return {i: self._outcome(i) for i in transaction_ids if i in self._records}

    def _outcome(self, transaction_id: str) -> StoredOutcome:
        found = self._records[transaction_id]
        if isinstance(found, Transaction):
            return StoredOutcome(
                transaction_id=transaction_id,
                sequence=found.sequence,
                request=self._request_of(found),
                error=None,
            )
        return StoredOutcome(
            transaction_id=transaction_id, sequence=None, request=found.request, error=found.error
        )

    # --- writes ------------------------------------------------------------

    def lock_accounts(self, account_ids: Sequence[str]) -> list[Account | None]:
        return list(map(self._accounts.get, account_ids))

    def due_holds(self, moment: datetime, limit: int) -> Sequence[HoldRecord]:
        due = sorted(
            (expires_at, hold_id)
            for hold_id, expires_at in self._expiring.items()
            if expires_at <= moment
        )
        return [self._holds[hold_id] for _, hold_id in due[:limit]]

    def add_account(self, account: Account) -> None:
        assert account.account_id not in self._accounts
        self._accounts[account.account_id] = account

    def replace_account(self, account: Account) -> None:
        assert account.account_id in self._accounts
        self._accounts[account.account_id] = account

    def append(self, commit: Commit) -> None:
        transaction = commit.transaction
        sequence = transaction.sequence
        assert sequence == self._head.sequence + 1
        self._journal.append(transaction)
        self._records[transaction.transaction_id] = transaction
        accounts = self._accounts
        all_lines = self._lines
        for account in commit.accounts:
            account_id = account.account_id
            accounts[account_id] = account
            lines = all_lines.get(account_id)
            if lines is None:
                lines = all_lines[account_id] = _Lines()
            lines.sequence.append(sequence)
            lines.states.append(account)
        if transaction.kind is not Kind.TRANSFER:
            self._append_other(commit)
        self._head = transaction

    def _append_other(self, commit: Commit) -> None:
        """The bookkeeping for holds, posts, voids, expiries and reversals."""
        transaction = commit.transaction
        if type(commit.request) is PostHold:
            self._posts[transaction.transaction_id] = commit.request
        hold = commit.hold
        if hold is not None:
            self._holds[hold.hold_id] = hold
            if hold.status is HoldStatus.PENDING:
                if hold.expires_at is not None:
                    self._expiring[hold.hold_id] = hold.expires_at
            else:
                self._expiring.pop(hold.hold_id, None)
        if transaction.kind is Kind.REVERSAL:
            assert transaction.related_id is not None
            self._reversals[transaction.related_id] = transaction.transaction_id

    def reject(self, rejection: Rejection) -> None:
        self._records[rejection.request.transaction_id] = rejection


class MemoryStore:
    """Books kept in this process's memory; lost when it exits."""

    def __init__(self) -> None:
        self._books: dict[str, _MemoryBook] = {}
        self._lock = threading.Lock()

    def create_book(self, book_id: str) -> None:
        with self._lock:
            if book_id in self._books:
                raise BookExists(book_id=book_id)
            self._books[book_id] = _MemoryBook(book_id)

    def book_ids(self) -> Sequence[str]:
        return sorted(self._books)

    def has_book(self, book_id: str) -> bool:
        return book_id in self._books

    def transact(self, book_id: str, work: Callable[[LedgerUnit], T]) -> T:
        book = self._get(book_id)
        with book.lock:
            return work(book)

    def read(self, book_id: str) -> _MemoryBook:
        return self._get(book_id)

    def save_checkpoint(self, book_id: str, checkpoint: StoredCheckpoint) -> None:
        book = self._get(book_id)
        with book.lock:
            book._checkpoint = checkpoint

    def _get(self, book_id: str) -> _MemoryBook:
        book = self._books.get(book_id)
        if book is None:
            raise BookNotFound(book_id=book_id)
        return book


class _Lines:
    """One account's statement: the sequence of each entry and the account's state after it.

    The states are the very ``Account`` values the ledger made for each
    transaction, so keeping them costs one reference per entry.
    """

    __slots__ = ("sequence", "states")

    def __init__(self) -> None:
        self.sequence = array("q")
        self.states: list[Account] = []

    def balances(self, index: int) -> tuple[int, int, int]:
        state = self.states[index]
        return state.posted_minutes, state.debits_pending_minutes, state.credits_pending_minutes


def _page(keys: Iterable[str], after: str | None, limit: int) -> list[str]:
    """Up to ``limit`` keys greater than ``after``, in order."""
    ids = sorted(keys)
    start = 0 if after is None else bisect.bisect_right(ids, after)
    return ids[start : start + limit]


def _recorded_at(record: Transaction) -> datetime:
    return record.recorded_at


def _zero(account_id: str) -> Balance:
    return Balance(
        account_id=account_id, posted_minutes=0, debits_pending_minutes=0, credits_pending_minutes=0
    )
