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
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import Connection, exc

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
    Request,
    Side,
    Transaction,
)
from timebank.ledger.port import (
    Commit,
    Committed,
    StoredCheckpoint,
    StoredHold,
    StoredOutcome,
    StoredReversal,
    StoredRowInvalid,
)
from timebank.store import statements as sql
from timebank.store.codec import (
    account_from_row,
    account_row,
    balances_from_row,
    encode_request,
    entry_values,
    hold_from_row,
    outcome_from_row,
    posting_from_row,
    reversal_from_row,
    stored_hold_from_row,
    transaction_from_row,
)
from timebank.store.fast import RawDriver, raw_driver

__all__ = ["SqlReader", "SqlUnit"]

_CHUNK = 500
"""Ids per query of ``find_many`` (well under every driver's limit on bound values)."""
CUSTOM_PLANS_FROM_ROWS = 64
"""Journal rows in one flush from which a PostgreSQL unit plans its checks per row."""


class SqlReader:
    """Reads of one book inside one database transaction.

    Every row is checked as it is decoded (``timebank.store.codec``): a row that
    cannot be the ledger's raises ``StoredRowInvalid``, and so do journal rows
    that no record accounts for (postings without their record, a sequence
    below 1 or missing).
    """

    def __init__(
        self, connection: Connection, book_id: str, head: BookHead | StoredRowInvalid
    ) -> None:
        self._connection = connection
        self._head = head
        self.book_id = book_id

    def head(self) -> BookHead:
        head = self._head
        if isinstance(head, StoredRowInvalid):
            raise StoredRowInvalid(
                table=head.table, detail=head.detail, sequence=head.sequence, key=head.key
            )
        return head

    def account(self, account_id: str) -> Account | None:
        row = self._connection.execute(
            sql.ACCOUNT, {"book_id": self.book_id, "account_id": account_id}
        ).first()
        return None if row is None else account_from_row(row)

    def find(self, transaction_id: str) -> Committed | Rejection | None:
        row = self._connection.execute(
            sql.FIND, {"book_id": self.book_id, "transaction_id": transaction_id}
        ).first()
        return None if row is None else self._outcome(outcome_from_row(row))

    def _outcome(self, outcome: StoredOutcome) -> Committed | Rejection:
        if outcome.sequence is None:
            return _rejection(outcome)
        return Committed(request=outcome.request, transaction=self._transaction(outcome))

    def find_many(self, transaction_ids: Sequence[str]) -> dict[str, Committed | Rejection]:
        """Three queries per chunk of ids, whatever their number: requests, records, legs."""
        found: dict[str, Committed | Rejection] = {}
        committed: dict[int, StoredOutcome] = {}
        for outcome in self.outcomes_of(transaction_ids).values():
            if outcome.sequence is None:
                found[outcome.transaction_id] = _rejection(outcome)
            else:
                committed[outcome.sequence] = outcome
        sequences = list(committed)
        for start in range(0, len(sequences), _CHUNK):
            chunk = sequences[start : start + _CHUNK]
            legs = self._postings_of(chunk)
            for row in self._connection.execute(
                sql.TRANSACTIONS_IN, {"book_id": self.book_id, "seqs": chunk}
            ):
                record = transaction_from_row(row, legs[row.sequence])
                outcome = committed.pop(record.sequence)
                found[outcome.transaction_id] = Committed(
                    request=outcome.request, transaction=record
                )
        if committed:
            raise _no_record(min(committed.values(), key=_sequence_of))
        return found

    def _transaction(self, outcome: StoredOutcome) -> Transaction:
        sequence = outcome.sequence
        assert sequence is not None
        row = self._connection.execute(
            sql.TRANSACTION, {"book_id": self.book_id, "seq": sequence}
        ).first()
        if row is None:
            raise _no_record(outcome)
        return transaction_from_row(row, self._postings_of([sequence])[sequence])

    def _postings_of(self, sequences: Sequence[int]) -> dict[int, list[Posting]]:
        found: dict[int, list[Posting]] = {sequence: [] for sequence in sequences}
        for row in self._connection.execute(
            sql.POSTINGS_OF, {"book_id": self.book_id, "seqs": list(sequences)}
        ):
            sequence, _index, posting = posting_from_row(row)
            found[sequence].append(posting)
        return found

    def hold(self, hold_id: str) -> HoldRecord | None:
        rows = self._connection.execute(
            sql.HOLD_WITH_POSTINGS, {"book_id": self.book_id, "hold_id": hold_id}
        ).all()
        if not rows:
            return None
        width = len(sql.HOLD_COLUMNS)
        postings = [posting_from_row(row[width:])[2] for row in rows if row[width] is not None]
        return hold_from_row(rows[0][:width], postings)

    def reversal_of(self, transaction_id: str) -> str | None:
        reversal_id = self._connection.execute(
            sql.REVERSAL, {"book_id": self.book_id, "original_id": transaction_id}
        ).scalar()
        if reversal_id is not None and type(reversal_id) is not str:
            reversal_from_row((transaction_id, reversal_id))  # raises, naming the row
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
        before: tuple[int, int, int] = (0, 0, 0)
        if after:
            previous = execute(
                sql.BALANCE_BEFORE,
                {"book_id": self.book_id, "account_id": account_id, "seq": after},
            ).first()
            if previous is not None:
                before = balances_from_row(previous, after)
        result = []
        for row in rows:
            sequence, balances, record = entry_values(row)
            transaction_id, kind, code, recorded_at, effective_at = record
            result.append(
                Entry(
                    account_id=account_id,
                    sequence=sequence,
                    transaction_id=transaction_id,
                    kind=kind,
                    code=code,
                    recorded_at=recorded_at,
                    effective_at=recorded_at if effective_at is None else effective_at,
                    posted_delta_minutes=balances[0] - before[0],
                    debits_pending_delta_minutes=balances[1] - before[1],
                    credits_pending_delta_minutes=balances[2] - before[2],
                    posted_minutes=balances[0],
                    debits_pending_minutes=balances[1],
                    credits_pending_minutes=balances[2],
                )
            )
            before = balances
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
        values = (0, 0, 0) if row is None else balances_from_row(row, sequence)
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
        book_id = self.book_id
        if after == 0:
            self._check_no_strays()
        rows = execute(sql.JOURNAL, {"book_id": book_id, "after": after, "limit": limit}).all()
        if len(rows) < limit:
            # The end of the journal: no posting may come after its last record.
            self._check_no_postings_after(rows[-1].sequence if rows else after)
        if not rows:
            return []
        legs: dict[Any, list[Posting]] = {row.sequence: [] for row in rows}
        for leg in execute(
            sql.POSTINGS_RANGE, {"book_id": book_id, "after": after, "last": rows[-1].sequence}
        ):
            bucket = legs.get(leg.sequence)
            if bucket is None:
                raise _postings_without_record(leg.sequence)
            sequence, index, posting = posting_from_row(leg)
            if index != len(bucket):
                raise StoredRowInvalid(
                    table="postings",
                    sequence=sequence,
                    detail=f"posting_index {index} where the record's posting {len(bucket)}"
                    " belongs: its postings are not numbered 0, 1, 2, ...",
                )
            bucket.append(posting)
        return [transaction_from_row(row, legs[row.sequence]) for row in rows]

    def stated_journal(
        self, *, after: int, limit: int
    ) -> tuple[Sequence[Transaction], Sequence[tuple[int, int, int]]]:
        """``journal``, with the balances each posting's statement entry states (its
        postings row's): a statement is exactly the book's postings rows of one account.

        Rows are decoded on a fast path; a row it does not take goes through the codec,
        which reports what is wrong with it.
        """
        assert limit > 0
        book_id = self.book_id
        reads = sql.verify_reads(self._connection.dialect.name)
        if after == 0:
            self._check_no_strays()
        if reads is None:
            rows: Sequence[Any] = self._connection.execute(
                sql.JOURNAL, {"book_id": book_id, "after": after, "limit": limit}
            ).all()
        else:
            rows = self._fetch(reads.JOURNAL, (book_id, after, limit))
        if len(rows) < limit:
            # The end of the journal: no posting may come after its last record.
            self._check_no_postings_after(rows[-1][1] if rows else after)
        if not rows:
            return [], []
        last = rows[-1][1]
        if reads is None:
            legs_rows: Sequence[Any] = self._connection.execute(
                sql.POSTINGS_RANGE_STATED, {"book_id": book_id, "after": after, "last": last}
            ).all()
        else:
            legs_rows = self._fetch(reads.POSTINGS_STATED, (book_id, after, last))
        legs: dict[Any, list[Posting]] = {row[1]: [] for row in rows}
        stated: list[tuple[int, int, int]] = []
        for leg in legs_rows:
            sequence = leg[0]
            bucket = legs.get(sequence)
            if bucket is None:
                raise _postings_without_record(sequence)
            if leg[1] != len(bucket) or type(leg[1]) is not int:
                index = posting_from_row(leg[:5])[1]
                raise StoredRowInvalid(
                    table="postings",
                    sequence=sequence,
                    detail=f"posting_index {index} where the record's posting {len(bucket)}"
                    " belongs: its postings are not numbered 0, 1, 2, ...",
                )
            bucket.append(_fast_posting(leg))
            stated.append(_fast_balances(leg))
        return [_fast_record(row, legs[row[1]]) for row in rows], stated

    def checkpoint(self) -> StoredCheckpoint | None:
        """The book's last verify checkpoint, its values as stored (``verify()`` checks them)."""
        row = self._connection.execute(sql.CHECKPOINT, {"book_id": self.book_id}).first()
        if row is None:
            return None
        sequence, hash_, state = row
        return StoredCheckpoint(sequence=sequence, hash=hash_, state=state)

    def _check_no_strays(self) -> None:
        stray = self._connection.execute(sql.JOURNAL_STRAYS, {"book_id": self.book_id}).first()
        if stray is not None:
            raise StoredRowInvalid(
                table=stray.tbl,
                sequence=stray.sequence if type(stray.sequence) is int else None,
                detail=f"a row with sequence {stray.sequence!r}, which no record can have",
            )

    def _check_no_postings_after(self, last: Any) -> None:
        found = self._connection.execute(
            sql.POSTINGS_AFTER, {"book_id": self.book_id, "after": last}
        ).scalar()
        if found is not None:
            raise _postings_without_record(found)

    def accounts(self, *, after: str | None, limit: int) -> Sequence[Account]:
        assert limit > 0
        rows = self._page(sql.ACCOUNTS_FIRST, sql.ACCOUNTS_AFTER, after, limit)
        return [account_from_row(row) for row in rows]

    def holds(self, *, after: str | None, limit: int) -> Sequence[StoredHold]:
        assert limit > 0
        rows = self._page(sql.HOLDS_FIRST, sql.HOLDS_AFTER, after, limit)
        return [stored_hold_from_row(row) for row in rows]

    def reversals(self, *, after: str | None, limit: int) -> Sequence[StoredReversal]:
        assert limit > 0
        rows = self._page(sql.REVERSALS_FIRST, sql.REVERSALS_AFTER, after, limit)
        return [reversal_from_row(row) for row in rows]

    def outcomes(self, *, after: str | None, limit: int) -> Sequence[StoredOutcome]:
        assert limit > 0
        reads = sql.verify_reads(self._connection.dialect.name)
        if reads is None:
            rows = self._page(sql.OUTCOMES_FIRST, sql.OUTCOMES_AFTER, after, limit)
        elif after is None:
            rows = self._fetch(reads.OUTCOMES_FIRST, (self.book_id, limit))
        else:
            rows = self._fetch(reads.OUTCOMES_AFTER, (self.book_id, after, limit))
        return [_fast_outcome(row) for row in rows]

    def outcomes_of(self, transaction_ids: Sequence[str]) -> dict[str, StoredOutcome]:
        found: dict[str, StoredOutcome] = {}
        unique = list(dict.fromkeys(transaction_ids))
        reads = sql.verify_reads(self._connection.dialect.name)
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            if reads is None:
                rows: Sequence[Any] = self._connection.execute(
                    sql.FIND_MANY, {"book_id": self.book_id, "ids": chunk}
                ).all()
            elif reads.any_of:
                rows = self._fetch(reads.find_many(len(chunk)), (self.book_id, chunk))
            else:
                rows = self._fetch(reads.find_many(len(chunk)), (self.book_id, *chunk))
            for row in rows:
                outcome = _fast_outcome(row)
                found[outcome.transaction_id] = outcome
        return found

    def _fetch(self, statement: str, params: Sequence[Any]) -> list[Any]:
        """All rows of a driver statement. SQLite's text is read as ``str`` and only when a
        value is not UTF-8 read again with the connection's own text factory (which, in a
        read snapshot, keeps such a value as bytes for the codec to report)."""
        raw = self._driver()
        driver = raw.raw
        if raw.postgres:
            return list(raw.execute(statement, params).fetchall())
        factory = driver.text_factory
        if factory is str:
            return list(raw.execute(statement, params).fetchall())
        driver.text_factory = str
        try:
            return list(raw.execute(statement, params).fetchall())
        except (exc.DBAPIError, driver.OperationalError) as error:
            if "decode" not in str(error):
                raise
        finally:
            driver.text_factory = factory
        return list(raw.execute(statement, params).fetchall())

    def _driver(self) -> RawDriver:
        raw: RawDriver | None = self.__dict__.get("_verify_driver")
        if raw is None:
            raw = self.__dict__["_verify_driver"] = raw_driver(self._connection)
        return raw

    def _page(self, first: Any, following: Any, after: str | None, limit: int) -> Sequence[Any]:
        """One page of a listing keyed by id: ``first`` when ``after`` is None."""
        execute = self._connection.execute
        if after is None:
            return execute(first, {"book_id": self.book_id, "limit": limit}).all()
        return execute(following, {"book_id": self.book_id, "after": after, "limit": limit}).all()


# --- the fast path of verify()'s reads ----------------------------------------------------
# Each function takes a well-formed row with a few type tests and builds its value directly;
# anything else goes through the codec, which checks every value and names the bad one.

_KINDS = {kind.value: kind for kind in Kind}
_SIDES = {side.value: side for side in Side}
_decode_metadata = msgspec.json.Decoder(dict[str, str]).decode
_decode_committed = msgspec.json.Decoder(Request).decode
_FAST_FAILURES = (ValueError, OverflowError, TypeError, KeyError, msgspec.MsgspecError)


def _fast_time(value: Any) -> datetime:
    """A stored time as ``codec`` reads it (raises on anything but text)."""
    if type(value) is not str:
        raise TypeError
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _fast_record(row: Sequence[Any], postings: list[Posting]) -> Transaction:
    (book_id, sequence, transaction_id, kind, code, metadata) = row[:6]
    (recorded_at, effective_at, expires_at, related_id, previous_hash, hash_) = row[6:]
    try:
        if (
            type(book_id) is str
            and type(sequence) is int
            and type(transaction_id) is str
            and type(code) is str
            and type(metadata) is str
            and (related_id is None or type(related_id) is str)
            and type(previous_hash) is str
            and type(hash_) is str
        ):
            return Transaction(
                book_id=book_id,
                transaction_id=transaction_id,
                sequence=sequence,
                kind=_KINDS[kind],
                postings=tuple(postings),
                code=code,
                metadata={} if metadata == "{}" else _decode_metadata(metadata),
                recorded_at=_fast_time(recorded_at),
                effective_at=None if effective_at is None else _fast_time(effective_at),
                expires_at=None if expires_at is None else _fast_time(expires_at),
                related_id=related_id,
                previous_hash=previous_hash,
                hash=hash_,
            )
    except _FAST_FAILURES:
        pass
    return transaction_from_row(row, postings)  # type: ignore[arg-type]


def _fast_posting(row: Any) -> Posting:
    account_id, side, amount = row[2], row[3], row[4]
    if type(account_id) is str and type(amount) is int and type(row[0]) is int:
        found = _SIDES.get(side) if type(side) is str else None
        if found is not None:
            return Posting(account_id=account_id, side=found, amount_minutes=amount)
    return posting_from_row(row[:5])[2]


def _fast_balances(row: Sequence[Any]) -> tuple[int, int, int]:
    posted, debits_pending, credits_pending = row[5], row[6], row[7]
    if type(posted) is int and type(debits_pending) is int and type(credits_pending) is int:
        return posted, debits_pending, credits_pending
    return balances_from_row(row[5:8], row[0])


def _fast_outcome(row: Sequence[Any]) -> StoredOutcome:
    """A committed requests row on the fast path; a refusal, or anything odd, by the codec."""
    transaction_id, request, sequence, error = row[0], row[1], row[2], row[3]
    if (
        type(sequence) is int
        and error is None
        and type(transaction_id) is str
        and (request is None or type(request) is str)
    ):
        try:
            decoded = None if request is None else _decode_committed(request)
        except _FAST_FAILURES:
            pass
        else:
            return StoredOutcome(
                transaction_id=transaction_id, sequence=sequence, request=decoded, error=None
            )
    return outcome_from_row(row)


def _sequence_of(outcome: StoredOutcome) -> int:
    assert outcome.sequence is not None
    return outcome.sequence


def _no_record(outcome: StoredOutcome) -> StoredRowInvalid:
    return StoredRowInvalid(
        table="requests",
        sequence=outcome.sequence,
        key=outcome.transaction_id,
        detail=f"committed as #{outcome.sequence}, which has no transactions row",
    )


def _postings_without_record(sequence: Any) -> StoredRowInvalid:
    return StoredRowInvalid(
        table="transactions",
        sequence=sequence if type(sequence) is int else None,
        detail=f"no record #{sequence!r}, though postings rows carry that sequence",
    )


def _rejection(outcome: StoredOutcome) -> Rejection:
    request, error = outcome.request, outcome.error
    if request is None or error is None:
        raise StoredRowInvalid(
            table="requests",
            key=outcome.transaction_id,
            detail="a refusal needs both its request and its error",
        )
    return Rejection(request=request, error_code=str(error["code"]), error=error)


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
        # Ids found unused: the unit holds the book's lock, so nobody else can use them.
        self._unused: set[str] = set()
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
        self._custom_plans = False

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
            # Read it as a lock would (the driver's path; on PostgreSQL FOR UPDATE): the unit
            # already holds the book's row, so no other writer of the book waits on it, and
            # the lock the ledger takes before writing it is then already held.
            account = self.lock_accounts([account_id])[0]
        return account

    def find(self, transaction_id: str) -> Committed | Rejection | None:
        found = self._records.get(transaction_id)
        if found is not None or transaction_id in self._unused:
            return found
        raw = self._raw
        if self._head_row is None:
            row = self._load_head(transaction_id)[1]
        else:
            row = raw.execute(raw.FIND, (self.book_id, transaction_id)).fetchone()
        if row is None:
            self._unused.add(transaction_id)
            return None
        request, sequence, error = row
        return self._outcome(outcome_from_row((transaction_id, request, sequence, error)))

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

    def stated_journal(
        self, *, after: int, limit: int
    ) -> tuple[Sequence[Transaction], Sequence[tuple[int, int, int]]]:
        self.flush()
        return super().stated_journal(after=after, limit=limit)

    def accounts(self, *, after: str | None, limit: int) -> Sequence[Account]:
        self.flush()
        return super().accounts(after=after, limit=limit)

    def due_holds(self, moment: datetime, limit: int) -> Sequence[HoldRecord]:
        self.flush()
        rows = self._connection.execute(
            sql.DUE_HOLDS, {"book_id": self.book_id, "moment": moment, "limit": limit}
        ).all()
        sequences = [stored_hold_from_row(row).sequence for row in rows]
        legs = self._postings_of(sequences) if rows else {}
        due = [hold_from_row(row, legs[seq]) for row, seq in zip(rows, sequences, strict=True)]
        for hold in due:
            self._holds[hold.hold_id] = hold
        return due

    def holds(self, *, after: str | None, limit: int) -> Sequence[StoredHold]:
        self.flush()
        return super().holds(after=after, limit=limit)

    def reversals(self, *, after: str | None, limit: int) -> Sequence[StoredReversal]:
        self.flush()
        return super().reversals(after=after, limit=limit)

    def outcomes(self, *, after: str | None, limit: int) -> Sequence[StoredOutcome]:
        self.flush()
        return super().outcomes(after=after, limit=limit)

    def outcomes_of(self, transaction_ids: Sequence[str]) -> dict[str, StoredOutcome]:
        self.flush()
        return super().outcomes_of(transaction_ids)

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
            or (self._changed_holds and not self._new_holds)
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
            self._update_holds()
        if self._reversal_rows:
            execute(sql.INSERT_REVERSAL, self._reversal_rows)
            self._reversal_rows = []

    def _flush_raw(self) -> None:
        raw = self._raw
        with raw.batch():
            if (
                raw.postgres
                and not self._custom_plans
                and (len(self._transaction_rows) >= CUSTOM_PLANS_FROM_ROWS)
            ):
                # A bulk write runs the foreign-key checks and the deferred balance check once
                # per row. PostgreSQL plans those queries once per session and may keep a
                # generic plan made while the tables were small (a sequential scan), which it
                # only drops when the tables are analyzed: 10,000 transfers after 200 single
                # ones took 38 s instead of 3.5 s. Plan them for the rows they meet, for the
                # rest of this transaction (its COMMIT, where the deferred checks run, too).
                raw.execute("SET LOCAL plan_cache_mode = force_custom_plan", ())
                self._custom_plans = True
            if self._transaction_rows:
                raw.insert_rows(raw.INSERT_TRANSACTION, self._transaction_rows)
                self._transaction_rows = []
            if self._posting_rows:
                raw.insert_rows(raw.INSERT_POSTING, self._posting_rows)
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
                raw.update_accounts(rows)
                self._changed_accounts.clear()
            if self._request_rows:
                raw.insert_rows(raw.INSERT_REQUEST, self._request_rows)
                self._request_rows = []
            if self._head_changed:
                head = self.head()
                raw.execute(
                    raw.UPDATE_HEAD,
                    (head.sequence, head.hash, raw.time_in(head.recorded_at), self.book_id),
                )
                self._head_changed = False
            if self._changed_holds and not self._new_holds:
                # Holds this unit settled (a post, a void) travel with the journal; holds it
                # created are inserted after it, and their changes follow them (``flush``).
                self._update_holds()

    def _update_holds(self) -> None:
        raw = self._raw
        book_id = self.book_id
        rows = [
            (hold.status.value, hold.resolved_by, book_id, hold.hold_id)
            for hold in self._changed_holds.values()
        ]
        if len(rows) == 1:
            raw.execute(raw.UPDATE_HOLD, rows[0])
        else:
            raw.executemany(raw.UPDATE_HOLD, rows)
        self._changed_holds.clear()


def _balance(account_id: str, values: Sequence[int]) -> Balance:
    posted, debits_pending, credits_pending = values
    return Balance(
        account_id=account_id,
        posted_minutes=posted,
        debits_pending_minutes=debits_pending,
        credits_pending_minutes=credits_pending,
    )
