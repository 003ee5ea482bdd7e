"""Readers and units of work over one book, on one SQLAlchemy connection.

``SqlReader`` answers the ledger's reads straight from the database.
``SqlUnit`` adds the writes. It buffers them and writes them in bulk
(one ``executemany`` per table) when the unit commits or before a read that
needs the database to be current, and it keeps what it read or wrote in
memory, so a bulk import of a thousand transactions costs one batched
idempotency lookup and a handful of batched writes. That is safe because
every writer of a book holds the lock on the book's row for its whole unit:
nobody else can change what the unit has cached. The hot statements (head,
idempotency probe, account locks, writes) run on the driver connection
(``timebank.store.fast``); the rest through SQLAlchemy Core.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from timebank.ledger.errors import BookNotFound
from timebank.ledger.model import (
    Account,
    Balance,
    BookHead,
    Entry,
    HoldRecord,
    Kind,
    Posting,
    Rejection,
    Transaction,
)
from timebank.ledger.port import Commit, Committed
from timebank.store import statements as sql
from timebank.store.codec import (
    account_from_row,
    account_row,
    decode_request,
    encode_request,
    hold_from_row,
    posting_from_row,
    transaction_from_row,
)
from timebank.store.fast import RawDriver, raw_driver

__all__ = ["SqlReader", "SqlUnit"]

_CHUNK = 500
"""Ids per query of ``find_many`` (well under every driver's limit on bound values)."""


class SqlReader:
    """Reads of one book inside one database transaction."""

    def __init__(self, connection: Connection, head: BookHead) -> None:
        self._connection = connection
        self._head = head
        self.book_id = head.book_id

    def head(self) -> BookHead:
        return self._head

    def account(self, account_id: str) -> Account | None:
        row = self._connection.execute(
            sql.ACCOUNT, {"book_id": self.book_id, "account_id": account_id}
        ).first()
        return None if row is None else account_from_row(row)

    def find(self, transaction_id: str) -> Committed | Rejection | None:
        row = self._connection.execute(
            sql.FIND, {"book_id": self.book_id, "transaction_id": transaction_id}
        ).first()
        if row is None:
            return None
        return self._outcome(row.request, row.sequence, row.error)

    def _outcome(
        self, request: str | None, sequence: int | None, error: dict[str, object] | None
    ) -> Committed | Rejection:
        if sequence is None:
            assert request is not None
            assert error is not None
            return Rejection(
                request=decode_request(request), error_code=str(error["code"]), error=error
            )
        transaction = self._transaction(sequence)
        return Committed(
            request=None if request is None else decode_request(request), transaction=transaction
        )

    def find_many(self, transaction_ids: Sequence[str]) -> dict[str, Committed | Rejection]:
        """Three queries per chunk of ids, whatever their number: requests, records, legs."""
        found: dict[str, Committed | Rejection] = {}
        unique = list(dict.fromkeys(transaction_ids))
        execute = self._connection.execute
        for start in range(0, len(unique), _CHUNK):
            rows = execute(
                sql.FIND_MANY, {"book_id": self.book_id, "ids": unique[start : start + _CHUNK]}
            ).all()
            sequences = [row.sequence for row in rows if row.sequence is not None]
            records: dict[int, Transaction] = {}
            if sequences:
                legs = self._postings_of(sequences)
                for record in execute(
                    sql.TRANSACTIONS_IN, {"book_id": self.book_id, "seqs": sequences}
                ):
                    records[record.sequence] = transaction_from_row(record, legs[record.sequence])
            for row in rows:
                request = None if row.request is None else decode_request(row.request)
                if row.sequence is None:
                    assert request is not None
                    error: dict[str, object] = row.error
                    found[row.transaction_id] = Rejection(
                        request=request, error_code=str(error["code"]), error=error
                    )
                else:
                    found[row.transaction_id] = Committed(
                        request=request, transaction=records[row.sequence]
                    )
        return found

    def _transaction(self, sequence: int) -> Transaction:
        execute = self._connection.execute
        row = execute(sql.TRANSACTION, {"book_id": self.book_id, "seq": sequence}).one()
        return transaction_from_row(row, self._postings_of([sequence])[sequence])

    def _postings_of(self, sequences: Sequence[int]) -> dict[int, list[Posting]]:
        found: dict[int, list[Posting]] = {sequence: [] for sequence in sequences}
        for row in self._connection.execute(
            sql.POSTINGS_OF, {"book_id": self.book_id, "seqs": list(sequences)}
        ):
            found[row.sequence].append(posting_from_row(row))
        return found

    def hold(self, hold_id: str) -> HoldRecord | None:
        row = self._connection.execute(
            sql.HOLD, {"book_id": self.book_id, "hold_id": hold_id}
        ).first()
        if row is None:
            return None
        return hold_from_row(row, self._postings_of([row.sequence])[row.sequence])

    def reversal_of(self, transaction_id: str) -> str | None:
        reversal_id: str | None = self._connection.execute(
            sql.REVERSAL, {"book_id": self.book_id, "original_id": transaction_id}
        ).scalar()
        return reversal_id

    def entries(self, account_id: str, *, after: int | None, limit: int) -> Sequence[Entry]:
        assert limit > 0
        execute = self._connection.execute
        rows = execute(
            sql.ENTRIES,
            {
                "book_id": self.book_id,
                "account_id": account_id,
                "after": after or 0,
                "limit": limit,
            },
        ).all()
        if not rows:
            return []
        before: Sequence[int] = (0, 0, 0)
        if after:
            previous = execute(
                sql.BALANCE_BEFORE,
                {"book_id": self.book_id, "account_id": account_id, "seq": after},
            ).first()
            if previous is not None:
                before = tuple(previous)
        result = []
        for row in rows:
            after_entry = (
                row.posted_minutes,
                row.debits_pending_minutes,
                row.credits_pending_minutes,
            )
            result.append(
                Entry(
                    account_id=account_id,
                    sequence=row.sequence,
                    transaction_id=row.transaction_id,
                    kind=Kind(row.kind),
                    code=row.code,
                    recorded_at=row.recorded_at,
                    effective_at=row.recorded_at if row.effective_at is None else row.effective_at,
                    posted_delta_minutes=after_entry[0] - before[0],
                    debits_pending_delta_minutes=after_entry[1] - before[1],
                    credits_pending_delta_minutes=after_entry[2] - before[2],
                    posted_minutes=after_entry[0],
                    debits_pending_minutes=after_entry[1],
                    credits_pending_minutes=after_entry[2],
                )
            )
            before = after_entry
        return result

    def balance_recorded_at(self, account_id: str, moment: datetime) -> Balance:
        execute = self._connection.execute
        sequence = execute(
            sql.LAST_SEQUENCE_AT, {"book_id": self.book_id, "moment": moment}
        ).scalar()
        row = None
        if sequence is not None:
            row = execute(
                sql.BALANCE_BEFORE,
                {"book_id": self.book_id, "account_id": account_id, "seq": sequence},
            ).first()
        values = (0, 0, 0) if row is None else tuple(row)
        return _balance(account_id, values)

    def balance_effective_at(self, account_id: str, moment: datetime) -> Balance:
        row = self._connection.execute(
            sql.EFFECTIVE_DELTAS,
            {"book_id": self.book_id, "account_id": account_id, "moment": moment},
        ).one()
        return _balance(account_id, tuple(int(value) for value in row))

    def journal(self, *, after: int, limit: int) -> Sequence[Transaction]:
        assert limit > 0
        execute = self._connection.execute
        rows = execute(sql.JOURNAL, {"book_id": self.book_id, "after": after, "limit": limit}).all()
        if not rows:
            return []
        legs: dict[int, list[Posting]] = {row.sequence: [] for row in rows}
        for leg in execute(
            sql.POSTINGS_RANGE,
            {"book_id": self.book_id, "after": after, "last": rows[-1].sequence},
        ):
            legs[leg.sequence].append(posting_from_row(leg))
        return [transaction_from_row(row, legs[row.sequence]) for row in rows]

    def accounts(self, *, after: str | None, limit: int) -> Sequence[Account]:
        assert limit > 0
        if after is None:
            rows = self._connection.execute(
                sql.ACCOUNTS_FIRST, {"book_id": self.book_id, "limit": limit}
            )
        else:
            rows = self._connection.execute(
                sql.ACCOUNTS_AFTER, {"book_id": self.book_id, "after": after, "limit": limit}
            )
        return [account_from_row(row) for row in rows]


class SqlUnit(SqlReader):
    """One atomic unit of work on a book, holding the lock on the book's row.

    The book's row is read (and on PostgreSQL locked) by the unit's first call,
    whatever it is, and at the latest by ``flush``: every unit takes the lock,
    and a unit of an unknown book raises ``BookNotFound``. When that first call
    is ``find``, the lock and the idempotency probe share one round trip.
    """

    def __init__(self, connection: Connection, book_id: str, *, lock_rows: bool) -> None:
        self._connection = connection
        self.book_id = book_id
        self._head_row: BookHead | None = None
        self._lock_rows = lock_rows
        self._raw = raw_driver(connection)
        self._accounts: dict[str, Account] = {}
        self._locked: set[str] = set()
        self._missing: set[str] = set()
        self._records: dict[str, Committed | Rejection] = {}
        self._holds: dict[str, HoldRecord] = {}
        self._reversals: dict[str, str] = {}
        # What flush() writes, in foreign-key order; rows are driver parameter tuples.
        self._new_accounts: dict[str, Account] = {}
        self._changed_accounts: dict[str, Account] = {}
        self._transaction_rows: list[tuple[Any, ...]] = []
        self._posting_rows: list[tuple[Any, ...]] = []
        self._new_holds: dict[str, tuple[HoldRecord, int]] = {}
        self._changed_holds: dict[str, HoldRecord] = {}
        self._reversal_rows: list[dict[str, Any]] = []
        self._request_rows: list[tuple[Any, ...]] = []
        self._head_changed = False

    # --- the book's row ----------------------------------------------------------------

    def _load_head(self, transaction_id: str | None) -> tuple[BookHead, Any]:
        """Read (and lock) the book's row, and probe ``transaction_id`` in the same trip."""
        raw = self._raw
        book_id = self.book_id
        found = None
        if raw.postgres:
            head_sql = raw.HEAD_FOR_UPDATE if self._lock_rows else raw.HEAD  # type: ignore[attr-defined]
            with raw.batch():
                head_cursor = raw.execute(head_sql, (book_id,))
                if transaction_id is not None:
                    find_cursor = raw.execute(raw.FIND, (book_id, transaction_id))
            row = head_cursor.fetchone()
            if transaction_id is not None:
                found = find_cursor.fetchone()
        else:
            row = raw.execute(raw.HEAD, (book_id,)).fetchone()
            if transaction_id is not None and row is not None:
                found = raw.execute(raw.FIND, (book_id, transaction_id)).fetchone()
        if row is None:
            raise BookNotFound(book_id=book_id)
        head = BookHead(
            book_id=book_id, sequence=row[0], hash=row[1], recorded_at=raw.time_out(row[2])
        )
        self._head_row = head
        return head, found

    def _ready(self) -> None:
        if self._head_row is None:
            self._load_head(None)

    def head(self) -> BookHead:
        head = self._head_row
        return self._load_head(None)[0] if head is None else head

    # --- reads that the unit's own writes can answer -------------------------------

    def account(self, account_id: str) -> Account | None:
        self._ready()
        account = self._accounts.get(account_id)
        if account is None and account_id not in self._missing:
            account = super().account(account_id)
            if account is None:
                self._missing.add(account_id)
            else:
                self._accounts[account_id] = account
        return account

    def find(self, transaction_id: str) -> Committed | Rejection | None:
        found = self._records.get(transaction_id)
        if found is not None:
            return found
        raw = self._raw
        if self._head_row is None:
            row = self._load_head(transaction_id)[1]
        else:
            row = raw.execute(raw.FIND, (self.book_id, transaction_id)).fetchone()
        if row is None:
            return None
        request, sequence, error = row
        return self._outcome(request, sequence, raw.json_out(error))

    def find_many(self, transaction_ids: Sequence[str]) -> dict[str, Committed | Rejection]:
        self._ready()
        records = self._records
        found = {i: records[i] for i in transaction_ids if i in records}
        rest = [i for i in transaction_ids if i not in found]
        if rest:
            found.update(super().find_many(rest))
        return found

    def hold(self, hold_id: str) -> HoldRecord | None:
        self._ready()
        hold = self._holds.get(hold_id)
        if hold is None:
            hold = super().hold(hold_id)
            if hold is not None:
                self._holds[hold_id] = hold
        return hold

    def reversal_of(self, transaction_id: str) -> str | None:
        self._ready()
        found = self._reversals.get(transaction_id)
        return super().reversal_of(transaction_id) if found is None else found

    # --- reads that need the database to hold the unit's writes --------------------

    def entries(self, account_id: str, *, after: int | None, limit: int) -> Sequence[Entry]:
        self.flush()
        return super().entries(account_id, after=after, limit=limit)

    def balance_recorded_at(self, account_id: str, moment: datetime) -> Balance:
        self.flush()
        return super().balance_recorded_at(account_id, moment)

    def balance_effective_at(self, account_id: str, moment: datetime) -> Balance:
        self.flush()
        return super().balance_effective_at(account_id, moment)

    def journal(self, *, after: int, limit: int) -> Sequence[Transaction]:
        self.flush()
        return super().journal(after=after, limit=limit)

    def accounts(self, *, after: str | None, limit: int) -> Sequence[Account]:
        self.flush()
        return super().accounts(after=after, limit=limit)

    def due_holds(self, moment: datetime, limit: int) -> Sequence[HoldRecord]:
        self.flush()
        rows = self._connection.execute(
            sql.DUE_HOLDS, {"book_id": self.book_id, "moment": moment, "limit": limit}
        ).all()
        legs = self._postings_of([row.sequence for row in rows]) if rows else {}
        due = [hold_from_row(row, legs[row.sequence]) for row in rows]
        for hold in due:
            self._holds[hold.hold_id] = hold
        return due

    # --- writes --------------------------------------------------------------------

    def lock_accounts(self, account_ids: Sequence[str]) -> list[Account | None]:
        self._ready()
        locked = self._locked
        wanted = [
            i
            for i in account_ids
            if i not in locked and i not in self._new_accounts and i not in self._missing
        ]
        if wanted:
            raw = self._raw
            ids = sorted(set(wanted))
            statement = raw.accounts_sql(len(ids), lock=self._lock_rows)
            time_out = raw.time_out
            json_out = raw.json_out
            changed = self._changed_accounts
            for row in raw.execute(statement, raw.accounts_params(self.book_id, ids)).fetchall():
                account_id = row[1]
                # Accounts this unit changed were locked before it changed them; keep ours.
                if account_id not in changed:
                    self._accounts[account_id] = Account(
                        book_id=row[0],
                        account_id=account_id,
                        balance_minutes_min=row[2],
                        balance_minutes_max=row[3],
                        metadata=json_out(row[4]),
                        opened_at=time_out(row[5]),  # type: ignore[arg-type]
                        closed_at=time_out(row[6]),
                        posted_minutes=row[7],
                        debits_pending_minutes=row[8],
                        credits_pending_minutes=row[9],
                    )
                locked.add(account_id)
            self._missing.update(i for i in wanted if i not in locked)
        get = self._accounts.get
        return [get(account_id) for account_id in account_ids]

    def add_account(self, account: Account) -> None:
        self._ready()
        account_id = account.account_id
        assert account.book_id == self.book_id
        assert account_id not in self._accounts
        self._missing.discard(account_id)
        self._accounts[account_id] = account
        self._new_accounts[account_id] = account
        self._locked.add(account_id)

    def replace_account(self, account: Account) -> None:
        self._ready()
        assert account.account_id in self._accounts
        self._store_account(account)

    def _store_account(self, account: Account) -> None:
        account_id = account.account_id
        self._accounts[account_id] = account
        if account_id in self._new_accounts:
            self._new_accounts[account_id] = account
        else:
            self._changed_accounts[account_id] = account

    def append(self, commit: Commit) -> None:
        transaction = commit.transaction
        sequence = transaction.sequence
        head = self.head()
        assert transaction.book_id == self.book_id
        assert sequence == head.sequence + 1
        assert transaction.previous_hash == head.hash
        assert len(commit.accounts) == len(transaction.postings)
        book_id = self.book_id
        raw = self._raw
        time_in = raw.time_in
        transaction_id = transaction.transaction_id
        self._transaction_rows.append(
            (
                book_id,
                sequence,
                transaction_id,
                transaction.kind.value,
                transaction.code,
                raw.json_in(transaction.metadata),
                time_in(transaction.recorded_at),
                time_in(transaction.effective_at),
                time_in(transaction.expires_at),
                transaction.related_id,
                transaction.previous_hash,
                transaction.hash,
            )
        )
        posting_rows = self._posting_rows
        accounts = self._accounts
        new_accounts = self._new_accounts
        changed_accounts = self._changed_accounts
        for index, (posting, account) in enumerate(
            zip(transaction.postings, commit.accounts, strict=True)
        ):
            account_id = posting.account_id
            assert account_id == account.account_id
            posting_rows.append(
                (
                    book_id,
                    sequence,
                    index,
                    account_id,
                    posting.side.value,
                    posting.amount_minutes,
                    account.posted_minutes,
                    account.debits_pending_minutes,
                    account.credits_pending_minutes,
                )
            )
            accounts[account_id] = account
            if account_id in new_accounts:
                new_accounts[account_id] = account
            else:
                changed_accounts[account_id] = account
        request = commit.request
        self._request_rows.append(
            (
                book_id,
                transaction_id,
                None if request is None else encode_request(request),
                sequence,
                None,
            )
        )
        self._records[transaction_id] = Committed(request=request, transaction=transaction)
        if commit.hold is not None:
            self._store_hold(commit.hold, transaction)
        if transaction.kind is Kind.REVERSAL:
            assert transaction.related_id is not None
            self._reversals[transaction.related_id] = transaction_id
            self._reversal_rows.append(
                {
                    "book_id": book_id,
                    "original_id": transaction.related_id,
                    "reversal_id": transaction_id,
                }
            )
        self._head_row = BookHead(
            book_id=book_id,
            sequence=sequence,
            hash=transaction.hash,
            recorded_at=transaction.recorded_at,
        )
        self._head_changed = True

    def _store_hold(self, hold: HoldRecord, transaction: Transaction) -> None:
        hold_id = hold.hold_id
        self._holds[hold_id] = hold
        if transaction.kind is Kind.HOLD:
            assert hold_id == transaction.transaction_id
            self._new_holds[hold_id] = (hold, transaction.sequence)
        elif hold_id in self._new_holds:
            self._new_holds[hold_id] = (hold, self._new_holds[hold_id][1])
        else:
            self._changed_holds[hold_id] = hold

    def reject(self, rejection: Rejection) -> None:
        self._ready()
        transaction_id = rejection.request.transaction_id
        self._records[transaction_id] = rejection
        self._request_rows.append(
            (
                self.book_id,
                transaction_id,
                encode_request(rejection.request),
                None,
                self._raw.json_in(rejection.error),
            )
        )

    def flush(self) -> None:
        """Write everything buffered, parents before children.

        The journal, its postings, the balances, the idempotency records and the
        head go through the driver (on PostgreSQL in one pipelined round trip);
        the rarer rows (new accounts, holds, reversals) through SQLAlchemy.
        """
        self._ready()
        execute = self._connection.execute
        book_id = self.book_id
        if self._new_accounts:
            execute(sql.INSERT_ACCOUNT, [account_row(x) for x in self._new_accounts.values()])
            self._new_accounts.clear()
        if (
            self._transaction_rows
            or self._changed_accounts
            or self._request_rows
            or self._head_changed
        ):
            self._flush_raw()
        if self._new_holds:
            rows = [
                {
                    "book_id": book_id,
                    "hold_id": hold.hold_id,
                    "sequence": sequence,
                    "status": hold.status.value,
                    "expires_at": hold.expires_at,
                    "resolved_by": hold.resolved_by,
                }
                for hold, sequence in self._new_holds.values()
            ]
            execute(sql.INSERT_HOLD, rows)
            self._new_holds.clear()
        if self._changed_holds:
            rows = [
                {
                    "b_book_id": book_id,
                    "b_id": hold.hold_id,
                    "b_status": hold.status.value,
                    "b_resolved_by": hold.resolved_by,
                }
                for hold in self._changed_holds.values()
            ]
            execute(sql.UPDATE_HOLD, rows)
            self._changed_holds.clear()
        if self._reversal_rows:
            execute(sql.INSERT_REVERSAL, self._reversal_rows)
            self._reversal_rows = []

    def _flush_raw(self) -> None:
        raw = self._raw
        with raw.batch():
            if self._transaction_rows:
                _write(raw, raw.INSERT_TRANSACTION, self._transaction_rows)
                self._transaction_rows = []
            if self._posting_rows:
                _write(raw, raw.INSERT_POSTING, self._posting_rows)
                self._posting_rows = []
            if self._changed_accounts:
                time_in = raw.time_in
                rows = [
                    (
                        time_in(x.closed_at),
                        x.posted_minutes,
                        x.debits_pending_minutes,
                        x.credits_pending_minutes,
                        x.book_id,
                        x.account_id,
                    )
                    for x in self._changed_accounts.values()
                ]
                _write(raw, raw.UPDATE_ACCOUNT, rows)
                self._changed_accounts.clear()
            if self._request_rows:
                _write(raw, raw.INSERT_REQUEST, self._request_rows)
                self._request_rows = []
            if self._head_changed:
                head = self.head()
                raw.execute(
                    raw.UPDATE_HEAD,
                    (head.sequence, head.hash, raw.time_in(head.recorded_at), self.book_id),
                )
                self._head_changed = False


def _write(raw: RawDriver, statement: str, rows: list[tuple[Any, ...]]) -> None:
    if len(rows) == 1:
        raw.execute(statement, rows[0])
    else:
        raw.executemany(statement, rows)


def _balance(account_id: str, values: Sequence[int]) -> Balance:
    posted, debits_pending, credits_pending = values
    return Balance(
        account_id=account_id,
        posted_minutes=posted,
        debits_pending_minutes=debits_pending,
        credits_pending_minutes=credits_pending,
    )
