"""Recompute a book from its journal and report the first thing that does not match.

``verify_book`` walks the journal in sequence order, checks that each record is
well formed, that its ``previous_hash`` is the hash before it and that its own
hash is what its canonical encoding gives, that it keeps the ledger's rules
(balanced postings, increasing recorded times, a post within its hold), and
that the store remembers it under its transaction id with the request that
made it; and it folds every record into balances. It then checks the book's
head against the journal's end, every account's settings and cached balances
against that fold, every statement entry against the journal, that posted and
pending minutes each sum to zero across the book, and that the stored holds,
reversal links and remembered outcomes are exactly those the journal implies.

A break names its kind, the table it was found in (``books``, ``accounts``,
``transactions``, ``postings``, ``holds``, ``reversals``, ``requests``: a SQL
store's tables, and the same parts of any store) and a sequence: the record's,
or for what lies outside the journal (a cached balance, a refusal) the last
record it concerns or the journal's end. A row the store cannot read at all
(``StoredRowInvalid``) is a break like any other: ``verify_book`` reports; it
does not raise on what it reads.

Nothing the size of the book is held in memory. Statement entries are checked
through a running digest per account of the (sequence, balances after) rows the
journal implies, against the same digest of the stored entries; holds, reversal
links and committed outcomes through an order-free digest (a sum of row hashes)
of the rows the journal implies, against that of the stored rows. Only when
digests differ is the journal walked again, to name the first row that is wrong. A
reader that offers ``stated_journal`` (``timebank.ledger.port.StatedJournal``: its
statement entries are its journal's postings) hands each posting's stated balances with
the journal, and every entry is checked against the fold as the journal is walked.

``verify_from_checkpoint`` goes on from a checkpoint that an earlier clean verify recorded
(``VerifyCheckpoint``: the sequence, hash and time where it ended, every account's balances
and the pending holds). The checkpoint must match its own digest, and the record at its
sequence must still be the one it is bound to, with the hash it names; then only the later
records are walked, and what must hold for the whole book is checked against the continued
fold: the head, every account's cached balances, bounds and statement entries after the
checkpoint, and conservation. The holds, reversal links and outcomes that later records made
or changed are checked row by row; rows of earlier records are left to the full verify.
"""

from __future__ import annotations

import enum
import hashlib
import struct
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec
from msgspec import Struct
from msgspec.structs import replace

from timebank.ledger.hashing import GENESIS_HASH, sha256_hex, transaction_hash
from timebank.ledger.limits import AMOUNT_MINUTES_MAX, POSTINGS_PER_TRANSACTION_MIN
from timebank.ledger.model import (
    Account,
    Entry,
    Hold,
    HoldRecord,
    HoldStatus,
    Kind,
    PostHold,
    Posting,
    Reverse,
    Side,
    Transaction,
    Transfer,
    VoidHold,
)
from timebank.ledger.port import (
    LedgerReader,
    StoredCheckpoint,
    StoredHold,
    StoredOutcome,
    StoredReversal,
    StoredRowInvalid,
)

__all__ = [
    "BreakKind",
    "VerifyBreak",
    "VerifyCheckpoint",
    "VerifyReport",
    "verify_book",
    "verify_from_checkpoint",
]

_PAGE = 1_000
_JOURNAL_PAGE = 5_000
"""Records per journal page: a page's records and postings are held at once, no more."""
_ROW = struct.Struct("<qqqq")
_Row = tuple[int, int, int, int]
"""(sequence, posted, debits pending, credits pending) after one entry."""
_MOD = 1 << 128
_CREDIT = Side.CREDIT
_DEBIT = Side.DEBIT
K = TypeVar("K")
R = TypeVar("R")

BOOKS = "books"
ACCOUNTS = "accounts"
TRANSACTIONS = "transactions"
POSTINGS = "postings"
HOLDS = "holds"
REVERSALS = "reversals"
REQUESTS = "requests"
CHECKPOINTS = "checkpoints"


class BreakKind(enum.StrEnum):
    SEQUENCE_GAP = "sequence_gap"
    FOREIGN_RECORD = "foreign_record"
    CHAIN_BROKEN = "chain_broken"
    HASH_MISMATCH = "hash_mismatch"
    UNKNOWN_HOLD = "unknown_hold"
    HEAD_MISMATCH = "head_mismatch"
    BALANCE_MISMATCH = "balance_mismatch"
    ENTRY_MISMATCH = "entry_mismatch"
    UNKNOWN_ACCOUNT = "unknown_account"
    CONSERVATION_BROKEN = "conservation_broken"
    ROW_INVALID = "row_invalid"
    """A stored row cannot be the ledger's: a value of the wrong type or shape, a row missing."""
    RECORD_INVALID = "record_invalid"
    """A record with a valid hash breaks a ledger rule (its postings, its times, its hold)."""
    BOUNDS_BROKEN = "bounds_broken"
    """An account's bounds are impossible, or its balances lie outside them."""
    HOLD_MISMATCH = "hold_mismatch"
    """The holds table differs from the holds the journal made and resolved."""
    REVERSAL_MISMATCH = "reversal_mismatch"
    """The reversal links differ from the journal's reversals."""
    OUTCOME_MISMATCH = "outcome_mismatch"
    """A remembered outcome (the requests table) differs from the journal, or is malformed."""
    CHECKPOINT_INVALID = "checkpoint_invalid"
    """A verify checkpoint does not match its digest, or no longer the record it is bound to."""


class VerifyBreak(Struct, frozen=True, kw_only=True):
    """The first place where the stored book differs from its recomputation.

    ``table`` is where the break was found (see the module's docstring); ``sequence``
    the record it concerns, or for a break outside the journal the last record it
    concerns or the journal's end.
    """

    kind: BreakKind
    detail: str
    sequence: int | None = None
    transaction_id: str | None = None
    account_id: str | None = None
    table: str | None = None


class VerifyReport(Struct, frozen=True, kw_only=True):
    book_id: str
    ok: bool
    transactions_checked: int
    accounts_checked: int
    first_break: VerifyBreak | None = None


class VerifyCheckpoint(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where a clean verify ended, and what its fold needs to go on from there.

    ``sequence``, ``hash`` and ``recorded_at`` are the journal's end as verified;
    ``balances`` each account's (posted, debits pending, credits pending, last sequence to
    touch it) after that record; ``held`` each pending hold's postings, sequence and expiry.
    ``digest`` is SHA-256 over the canonical JSON of the rest, so that an edited checkpoint
    is caught.
    """

    book_id: str
    sequence: int
    hash: str
    recorded_at: datetime | None
    balances: dict[str, tuple[int, int, int, int]]
    held: dict[str, tuple[tuple[Posting, ...], int, datetime | None]]
    digest: str = ""

    def sealed(self) -> VerifyCheckpoint:
        return replace(self, digest=_checkpoint_digest(self))

    def stored(self) -> StoredCheckpoint:
        return StoredCheckpoint(
            sequence=self.sequence, hash=self.hash, state=_encode_checkpoint(self).decode()
        )


_encode_checkpoint = msgspec.json.Encoder(order="sorted").encode
_decode_checkpoint = msgspec.json.Decoder(VerifyCheckpoint).decode


def _checkpoint_digest(checkpoint: VerifyCheckpoint) -> str:
    return sha256_hex(_encode_checkpoint(replace(checkpoint, digest="")))


class _Found(Exception):
    def __init__(self, found: VerifyBreak) -> None:
        self.found = found


def verify_book(book_id: str, reader: LedgerReader) -> VerifyReport:
    """Recompute ``book_id`` through ``reader``; stop at the first break."""
    return verify_from_checkpoint(book_id, reader, None)[0]


def verify_from_checkpoint(
    book_id: str, reader: LedgerReader, since: StoredCheckpoint | None
) -> tuple[VerifyReport, VerifyCheckpoint | None]:
    """Verify ``book_id`` from the checkpoint ``since`` (from its first record when None).

    Returns the report and, when it found nothing, the checkpoint at the journal's end.
    ``transactions_checked`` counts the records walked: those after the checkpoint.
    """
    verifier = _Verifier(book_id, reader)
    try:
        if since is None:
            verifier.walk_journal()
            state = verifier.checkpoint()
            verifier.check_head()
            verifier.check_accounts()
            verifier.check_holds()
            verifier.check_reversals()
            verifier.check_outcomes()
        else:
            verifier.resume(since)
            verifier.walk_journal()
            state = verifier.checkpoint()
            verifier.check_head()
            verifier.check_accounts()
            verifier.check_new_holds()
            verifier.check_new_reversals()
    except _Found as stop:
        first_break: VerifyBreak | None = stop.found
    except StoredRowInvalid as invalid:
        first_break = _unreadable(invalid, verifier.position)
    else:
        first_break = None
    report = VerifyReport(
        book_id=book_id,
        ok=first_break is None,
        transactions_checked=verifier.transactions_checked,
        accounts_checked=verifier.accounts_checked,
        first_break=first_break,
    )
    # An empty journal has no record to bind a checkpoint to.
    found = first_break is None and state.sequence > 0
    return report, (state.sealed() if found else None)


class _Tally:
    """An order-free digest of a multiset of rows: their count and the sum of their hashes."""

    __slots__ = ("count", "total")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0

    def add(self, row: tuple[object, ...]) -> None:
        # repr() is defined for any value a reader may hand back, odd text included.
        digest = hashlib.blake2b(repr(row).encode(), digest_size=16).digest()
        self.total = (self.total + int.from_bytes(digest, "little")) % _MOD
        self.count += 1

    def same(self, other: _Tally) -> bool:
        return (self.count, self.total) == (other.count, other.total)


class _Verifier:
    def __init__(self, book_id: str, reader: LedgerReader) -> None:
        self.book_id = book_id
        self.reader = reader
        # Per account: posted, debits pending, credits pending, and the last sequence to touch it.
        self.balances: dict[str, list[int]] = {}
        self.digests: dict[str, hashlib.blake2b] = {}
        # Pending holds: their postings, sequence and expiry.
        self.held: dict[str, tuple[tuple[Posting, ...], int, datetime | None]] = {}
        self.holds = _Tally()
        self.reversals = _Tally()
        # Committed outcomes are counted: each record's own was found by its id with its
        # sequence, and no two records share a sequence, so the stored committed rows are
        # exactly the journal's when there are as many of them as records.
        self.committed = 0
        self.stated = callable(getattr(reader, "stated_journal", None))
        self.start = 0
        """The sequence the walk starts after: a checkpoint's, or 0."""
        self.base: dict[str, tuple[int, int, int, int]] = {}
        self.since: VerifyCheckpoint | None = None
        """Each account's balances at ``start``."""
        self.new_holds: dict[str, tuple[HoldRecord, int]] | None = None
        """From a checkpoint: the holds later records made or resolved, as they should be."""
        self.new_reversals: dict[str, tuple[str, int]] | None = None
        """From a checkpoint: the links later reversals made (reversal id, sequence)."""
        self.previous_hash = GENESIS_HASH
        self.last_sequence = 0
        self.last_recorded_at: datetime | None = None
        self.position = 1
        """The sequence a break found now concerns, when it names none of its own."""
        self.transactions_checked = 0
        self.accounts_checked = 0

    # --- the journal ---------------------------------------------------------

    def resume(self, stored: StoredCheckpoint) -> None:
        """Take up the fold where ``stored`` left it, once it proves to be this book's."""
        self.seed(self._trusted(stored))

    def seed(self, checkpoint: VerifyCheckpoint) -> None:
        self.since = checkpoint
        self.start = self.last_sequence = checkpoint.sequence
        self.previous_hash = checkpoint.hash
        self.last_recorded_at = checkpoint.recorded_at
        self.position = checkpoint.sequence + 1
        self.base = checkpoint.balances
        self.balances = {key: list(row) for key, row in checkpoint.balances.items()}
        self.held = dict(checkpoint.held)
        self.new_holds = {}
        self.new_reversals = {}

    def _trusted(self, stored: StoredCheckpoint) -> VerifyCheckpoint:
        """The checkpoint, once it matches its digest and the record it is bound to."""

        def invalid(detail: str, sequence: object = None) -> _Found:
            at = sequence if type(sequence) is int else 0
            return _Found(_break(BreakKind.CHECKPOINT_INVALID, detail, at, CHECKPOINTS))

        try:
            checkpoint = _decode_checkpoint(stored.state)
        except (msgspec.DecodeError, TypeError) as error:
            raise invalid(f"the checkpoint's state is not a checkpoint: {error}") from None
        sequence = checkpoint.sequence
        if checkpoint.digest != _checkpoint_digest(checkpoint):
            raise invalid("the checkpoint does not match its digest", sequence)
        if (stored.sequence, stored.hash, checkpoint.book_id) != (
            sequence,
            checkpoint.hash,
            self.book_id,
        ):
            detail = (
                f"the checkpoint row says #{stored.sequence!r:.20} {stored.hash!r:.20} of"
                f" {self.book_id!r}; its state says #{sequence} of {checkpoint.book_id!r}"
            )
            raise invalid(detail, sequence)
        if sequence < 1:
            raise invalid(f"a checkpoint at #{sequence}", sequence)
        self.reader.journal(after=0, limit=1)  # the journal's strays, as a full walk sees them
        found = self.reader.journal(after=sequence - 1, limit=1)
        record = found[0] if found else None
        if record is None or _record_shape(record) is not None or record.sequence != sequence:
            raise invalid(f"the journal has no record #{sequence} to bind it to", sequence)
        if (record.hash, record.recorded_at) != (checkpoint.hash, checkpoint.recorded_at) or (
            _hash_of(record) != record.hash
        ):
            raise invalid(f"record #{sequence} is not the one the checkpoint verified", sequence)
        return checkpoint

    def checkpoint(self) -> VerifyCheckpoint:
        """The state at the end of the walk (taken before the account checks consume it)."""
        return VerifyCheckpoint(
            book_id=self.book_id,
            sequence=self.last_sequence,
            hash=self.previous_hash,
            recorded_at=self.last_recorded_at,
            balances={key: (row[0], row[1], row[2], row[3]) for key, row in self.balances.items()},
            held=dict(self.held),
        )

    def walk_journal(self) -> None:
        reader = self.reader
        if self.stated:
            read = reader.stated_journal  # type: ignore[attr-defined]

            def stated_page(after: int, limit: int) -> _StatedPage:
                records, stated = read(after=after, limit=limit)
                return _StatedPage(records, stated)

            pages: Iterator[Sequence[Transaction]] = _paged(
                stated_page, self.start, _sequence_of, _JOURNAL_PAGE
            )
        else:
            pages = _paged(self._journal, self.start, _sequence_of, _JOURNAL_PAGE)
        check_record = self._check_record
        for page in pages:
            checked: list[Transaction] = []
            failure: _Found | None = None
            for record in page:
                try:
                    check_record(record)
                except _Found as found:
                    failure = found
                    break
                checked.append(record)
            if checked:
                stated = page.stated if isinstance(page, _StatedPage) else None
                self._settle(checked, stated, 0)
            if failure is not None:
                raise failure
        self.position = self.last_sequence

    def _journal(self, after: int, limit: int) -> Sequence[Transaction]:
        return self.reader.journal(after=after, limit=limit)

    def _check_record(self, record: Transaction) -> None:
        """Shape, place in the chain, hash and rules of the next record."""
        sequence = self.last_sequence + 1
        self.position = sequence
        problem = _record_shape(record)
        if problem is not None:
            table, detail = problem
            raise _record_break(BreakKind.ROW_INVALID, record, detail, table, sequence)
        if record.sequence != sequence:
            detail = f"expected #{sequence}, found #{record.sequence}"
            raise _record_break(BreakKind.SEQUENCE_GAP, record, detail)
        if record.book_id != self.book_id:
            detail = f"record belongs to book {record.book_id!r}"
            raise _record_break(BreakKind.FOREIGN_RECORD, record, detail)
        if record.previous_hash != self.previous_hash:
            detail = "previous_hash is not the hash of the record before"
            raise _record_break(BreakKind.CHAIN_BROKEN, record, detail)
        if _hash_of(record) != record.hash:
            detail = (
                "the record's content (its transactions and postings rows) does not give its hash"
            )
            raise _record_break(BreakKind.HASH_MISMATCH, record, detail)
        problem = _record_rules(record, self.last_recorded_at)
        if problem is not None:
            table, detail = problem
            raise _record_break(BreakKind.RECORD_INVALID, record, detail, table)
        self.previous_hash = record.hash
        self.last_sequence = sequence
        self.last_recorded_at = record.recorded_at
        self.position = sequence + 1

    def _settle(
        self,
        records: list[Transaction],
        stated: Sequence[tuple[int, int, int]] | None,
        offset: int,
    ) -> None:
        """Check each record's remembered outcome, then fold it, in order; with ``stated``
        (from ``offset``), check the statement entries each record's postings state."""
        try:
            outcomes = self.reader.outcomes_of([record.transaction_id for record in records])
        except StoredRowInvalid as invalid:
            if len(records) == 1:
                raise _Found(_unreadable(invalid, records[0].sequence)) from None
            for record in records:  # one at a time, so that earlier records come first
                self._settle([record], stated, offset)
                offset += len(record.postings)
            return
        get = outcomes.get
        check_outcome = self._check_outcome
        fold = self._fold
        for record in records:
            check_outcome(record, get(record.transaction_id))
            fold(record)
            if stated is not None:
                self._check_stated(record, stated, offset)
                offset += len(record.postings)
            self.transactions_checked += 1

    def _check_stated(
        self, record: Transaction, stated: Sequence[tuple[int, int, int]], offset: int
    ) -> None:
        """Each posting's statement entry states the account's balances after the record."""
        balances = self.balances
        for index, posting in enumerate(record.postings):
            row = balances[posting.account_id]
            entry = stated[offset + index]
            if entry[0] != row[0] or entry[1] != row[1] or entry[2] != row[2]:
                raise _Found(
                    VerifyBreak(
                        kind=BreakKind.ENTRY_MISMATCH,
                        detail=f"statement entry states {list(entry)}; the journal gives"
                        f" {row[:3]} (posted, debits pending, credits pending)",
                        sequence=record.sequence,
                        transaction_id=record.transaction_id,
                        account_id=posting.account_id,
                        table=POSTINGS,
                    )
                )

    def _check_outcome(self, record: Transaction, outcome: StoredOutcome | None) -> None:
        hold = self.held.get(record.related_id or "")
        problem = _outcome_problem(record, outcome, None if hold is None else hold[0])
        if problem is not None:
            raise _record_break(BreakKind.OUTCOME_MISMATCH, record, problem, REQUESTS)
        self.committed += 1

    def _fold(self, record: Transaction) -> None:
        """Apply one record to the balances, the holds and the links it implies."""
        kind = record.kind
        touched = record.postings
        if kind is Kind.TRANSFER:
            self._add(touched, pending=False, sign=1)
        elif kind is Kind.HOLD:
            self.held[record.transaction_id] = (record.postings, record.sequence, record.expires_at)
            self._add(record.postings, pending=True, sign=1)
            if self.new_holds is not None:
                self.new_holds[record.transaction_id] = (
                    HoldRecord(
                        hold_id=record.transaction_id,
                        postings=record.postings,
                        expires_at=_utc(record.expires_at),
                        status=HoldStatus.PENDING,
                    ),
                    record.sequence,
                )
        elif kind in (Kind.POST, Kind.VOID, Kind.EXPIRE):
            hold = self._resolve(record)
            self._add(hold, pending=True, sign=-1)
            touched = hold
            if kind is Kind.POST:
                self._add(record.postings, pending=False, sign=1)
        else:
            if kind is Kind.REVERSAL:
                self.reversals.add((record.related_id, record.transaction_id))
                if self.new_reversals is not None and record.related_id is not None:
                    self.new_reversals[record.related_id] = (
                        record.transaction_id,
                        record.sequence,
                    )
            self._add(record.postings, pending=False, sign=1)
        sequence = record.sequence
        balances = self.balances
        if self.stated:
            for posting in touched:
                balances[posting.account_id][3] = sequence
            return
        digests = self.digests
        for posting in touched:
            row = balances[posting.account_id]
            row[3] = sequence
            digest = digests.get(posting.account_id)
            if digest is None:
                digest = digests[posting.account_id] = hashlib.blake2b(digest_size=16)
            digest.update(_pack((sequence, row[0], row[1], row[2])))

    def _resolve(self, record: Transaction) -> tuple[Posting, ...]:
        """The hold a post, void or expiry resolves; checks the record against it."""
        found = self.held.pop(record.related_id or "", None)
        if found is None:
            detail = f"resolves {record.related_id!r}, which is not a pending hold"
            raise _record_break(BreakKind.UNKNOWN_HOLD, record, detail)
        hold, sequence, expires_at = found
        problem = _resolution_problem(record, hold)
        if problem is not None:
            raise _record_break(BreakKind.RECORD_INVALID, record, problem, POSTINGS)
        status = {
            Kind.POST: HoldStatus.POSTED,
            Kind.VOID: HoldStatus.VOIDED,
            Kind.EXPIRE: HoldStatus.EXPIRED,
        }[record.kind]
        self.holds.add(_hold_row(record.related_id, sequence, status, expires_at, record))
        if self.new_holds is not None and record.related_id is not None:
            self.new_holds[record.related_id] = (
                HoldRecord(
                    hold_id=record.related_id,
                    postings=hold,
                    expires_at=_utc(expires_at),
                    status=status,
                    resolved_by=record.transaction_id,
                ),
                sequence,
            )
        return hold

    def _add(self, postings: tuple[Posting, ...], *, pending: bool, sign: int) -> None:
        balances = self.balances
        for posting in postings:
            row = balances.get(posting.account_id)
            if row is None:
                row = balances[posting.account_id] = [0, 0, 0, 0]
            amount = posting.amount_minutes * sign
            if not pending:
                row[0] += amount if posting.side is _CREDIT else -amount
            elif posting.side is _DEBIT:
                row[1] += amount
            else:
                row[2] += amount

    # --- the head ------------------------------------------------------------

    def check_head(self) -> None:
        head = self.reader.head()
        sequence, hash_, recorded_at = head.sequence, head.hash, head.recorded_at
        if (
            type(sequence) is not int
            or type(hash_) is not str
            or not (recorded_at is None or _is_time(recorded_at))
        ):
            detail = (
                f"head ({sequence!r}, {hash_!r}, {recorded_at!r}) is not a sequence, hash, time"
            )
            raise _Found(_break(BreakKind.ROW_INVALID, detail, self.last_sequence, BOOKS))
        if (sequence, hash_, recorded_at) != (
            self.last_sequence,
            self.previous_hash,
            self.last_recorded_at,
        ):
            detail = (
                f"head is #{sequence} {hash_[:12]} at {recorded_at}; the journal ends at"
                f" #{self.last_sequence} {self.previous_hash[:12]} at {self.last_recorded_at}"
            )
            raise _Found(_break(BreakKind.HEAD_MISMATCH, detail, sequence, BOOKS))

    # --- accounts and their statements --------------------------------------------

    def check_accounts(self) -> None:
        totals = [0, 0, 0]
        for page in _paged(self._accounts, None, _account_id_of):
            for account in page:
                self.check_account(account)
                for index, value in enumerate(_triple(account)):
                    totals[index] += value
                self.accounts_checked += 1
        if self.balances:
            account_id = min(self.balances)
            raise _Found(
                _break(
                    BreakKind.UNKNOWN_ACCOUNT,
                    "the journal posts to an account the book does not have",
                    self.balances[account_id][3],
                    ACCOUNTS,
                    account_id=account_id,
                )
            )
        if totals[0] != 0 or totals[1] != totals[2]:
            detail = (
                f"posted minutes sum to {totals[0]}; pending debits {totals[1]}"
                f" against pending credits {totals[2]}"
            )
            raise _Found(
                _break(BreakKind.CONSERVATION_BROKEN, detail, self.last_sequence, ACCOUNTS)
            )

    def _accounts(self, after: str | None, limit: int) -> Sequence[Account]:
        return self.reader.accounts(after=after, limit=limit)

    def check_account(self, account: Account) -> None:
        problem = _account_shape(account, self.book_id)
        account_id = account.account_id if type(account.account_id) is str else None
        if problem is not None:
            raise _Found(
                _break(
                    BreakKind.ROW_INVALID,
                    problem,
                    self.last_sequence,
                    ACCOUNTS,
                    account_id=account_id,
                )
            )
        assert account_id is not None
        expected = self.balances.pop(account_id, [0, 0, 0, 0])
        sequence = expected[3] or self.last_sequence
        cached = _triple(account)
        if cached != expected[:3]:
            detail = (
                f"cached (posted, debits pending, credits pending) {cached};"
                f" the journal gives {expected[:3]}"
            )
            raise _Found(
                _break(
                    BreakKind.BALANCE_MISMATCH, detail, sequence, ACCOUNTS, account_id=account_id
                )
            )
        problem = _bounds_problem(account)
        if problem is not None:
            raise _Found(
                _break(BreakKind.BOUNDS_BROKEN, problem, sequence, ACCOUNTS, account_id=account_id)
            )
        if self.stated:
            return  # every entry was checked with its record
        expected_digest = self.digests.pop(account_id, hashlib.blake2b(digest_size=16))
        stored_digest = hashlib.blake2b(digest_size=16)
        before = self.base.get(account_id, (0, 0, 0, 0))
        for row in _stored_rows(
            self.reader, account_id, self.last_sequence, self.start, list(before[:3])
        ):
            stored_digest.update(_pack(row))
        if stored_digest.digest() != expected_digest.digest():
            raise _Found(_first_entry_break(self, account_id))

    # --- holds, reversal links and outcomes -----------------------------------------

    def check_holds(self) -> None:
        for hold_id, (_postings, sequence, expires_at) in self.held.items():
            self.holds.add(_hold_row(hold_id, sequence, HoldStatus.PENDING, expires_at, None))
        stored = _Tally()
        for page in _paged(self._holds, None, _hold_id_of):
            for hold in page:
                problem = _hold_shape(hold)
                if problem is not None:
                    sequence = hold.sequence if type(hold.sequence) is int else self.last_sequence
                    raise _Found(
                        _break(BreakKind.ROW_INVALID, problem, sequence, HOLDS, _key(hold.hold_id))
                    )
                stored.add(_stored_hold_row(hold))
        if not stored.same(self.holds):
            raise _Found(_first_hold_break(self))

    def _holds(self, after: str | None, limit: int) -> Sequence[StoredHold]:
        return self.reader.holds(after=after, limit=limit)

    def check_reversals(self) -> None:
        stored = _Tally()
        for page in _paged(self._reversals, None, _original_id_of):
            for link in page:
                if type(link.original_id) is not str or type(link.reversal_id) is not str:
                    detail = f"link {link.original_id!r} -> {link.reversal_id!r} is not two ids"
                    raise _Found(
                        _break(BreakKind.ROW_INVALID, detail, self.last_sequence, REVERSALS)
                    )
                stored.add((link.original_id, link.reversal_id))
        if not stored.same(self.reversals):
            raise _Found(_first_reversal_break(self))

    def _reversals(self, after: str | None, limit: int) -> Sequence[StoredReversal]:
        return self.reader.reversals(after=after, limit=limit)

    def check_outcomes(self) -> None:
        committed = 0
        for page in _paged(self._outcomes, None, _outcome_id_of):
            for outcome in page:
                problem = _refusal_problem(outcome)
                if problem is not None:
                    raise _Found(
                        _break(
                            BreakKind.OUTCOME_MISMATCH,
                            problem,
                            self.last_sequence,
                            REQUESTS,
                            _key(outcome.transaction_id),
                        )
                    )
                if outcome.sequence is not None:
                    committed += 1
        if committed != self.committed:
            raise _Found(_first_outcome_break(self))

    def _outcomes(self, after: str | None, limit: int) -> Sequence[StoredOutcome]:
        return self.reader.outcomes(after=after, limit=limit)

    # --- from a checkpoint: the rows later records made or changed ----------------

    def check_new_holds(self) -> None:
        """Each hold a later record made or resolved is stored as the journal leaves it."""
        assert self.new_holds is not None
        candidates: list[tuple[int, str, str]] = []
        for hold_id, (want, sequence) in self.new_holds.items():
            have = self.reader.hold(hold_id)
            if have is None:
                candidates.append((sequence, hold_id, "missing; the journal made it"))
                continue
            problem = _hold_record_shape(have)
            if problem is not None:
                raise _Found(_break(BreakKind.ROW_INVALID, problem, sequence, HOLDS, hold_id))
            if replace(have, expires_at=_utc(have.expires_at)) != want:
                detail = (
                    f"stored as {have.status.value} by {have.resolved_by!r}; the journal gives"
                    f" {want.status.value} by {want.resolved_by!r}"
                )
                candidates.append((sequence, hold_id, detail))
        if candidates:
            raise _Found(_earliest(candidates, BreakKind.HOLD_MISMATCH, HOLDS, self.last_sequence))

    def check_new_reversals(self) -> None:
        """Each reversal after the checkpoint is linked from the transaction it reverses."""
        assert self.new_reversals is not None
        candidates: list[tuple[int, str, str]] = []
        for original_id, (reversal_id, sequence) in self.new_reversals.items():
            linked = self.reader.reversal_of(original_id)
            if linked != reversal_id:
                detail = f"links {original_id!r} to {linked!r}, not {reversal_id!r}"
                candidates.append((sequence, original_id, detail))
        if candidates:
            raise _Found(
                _earliest(candidates, BreakKind.REVERSAL_MISMATCH, REVERSALS, self.last_sequence)
            )


# --- reading page by page ----------------------------------------------------------


class _StatedPage(list[Transaction]):
    """A page of the journal, with the balances its postings' statement entries state."""

    def __init__(
        self, records: Sequence[Transaction], stated: Sequence[tuple[int, int, int]]
    ) -> None:
        super().__init__(records)
        self.stated = stated


def _paged(
    read: Callable[[K, int], Sequence[R]],
    after: K,
    key: Callable[[R], K],
    size: int = _PAGE,
) -> Iterator[Sequence[R]]:
    """Every page of a listing. Once a page holds a row the store cannot read, the rest
    is read one row at a time, so that every row before that one is checked first.

    The caller checks each page before asking for the next; ``key`` reads the last row's
    key only then, so it never meets a value of the wrong type.
    """
    limit = size
    while True:
        try:
            page = read(after, limit)
        except StoredRowInvalid:
            if limit == 1:
                raise
            limit = 1
            continue
        if not page:
            return
        yield page
        after = key(page[-1])


def _sequence_of(record: Transaction) -> int:
    return record.sequence


def _account_id_of(account: Account) -> str | None:
    return account.account_id


def _hold_id_of(hold: StoredHold) -> str | None:
    return hold.hold_id


def _original_id_of(link: StoredReversal) -> str | None:
    return link.original_id


def _outcome_id_of(outcome: StoredOutcome) -> str | None:
    return outcome.transaction_id


def _stored_rows(
    reader: LedgerReader,
    account_id: str,
    position: int,
    start: int = 0,
    running: list[int] | None = None,
) -> Iterator[_Row]:
    """The account's statement entries after ``start`` as rows, checking each entry's shape
    and arithmetic (from ``running``, its balances at ``start``)."""
    if running is None:
        running = [0, 0, 0]

    def read(after: int | None, limit: int) -> Sequence[Entry]:
        return reader.entries(account_id, after=after, limit=limit)

    try:
        for page in _paged(read, start or None, _entry_sequence_of):
            for entry in page:
                problem = _entry_shape(entry)
                sequence = entry.sequence if type(entry.sequence) is int else position
                if problem is not None:
                    raise _Found(
                        _break(
                            BreakKind.ROW_INVALID,
                            problem,
                            sequence,
                            POSTINGS,
                            account_id=account_id,
                        )
                    )
                running[0] += entry.posted_delta_minutes
                running[1] += entry.debits_pending_delta_minutes
                running[2] += entry.credits_pending_delta_minutes
                stated = [
                    entry.posted_minutes,
                    entry.debits_pending_minutes,
                    entry.credits_pending_minutes,
                ]
                if stated != running:
                    raise _Found(
                        VerifyBreak(
                            kind=BreakKind.ENTRY_MISMATCH,
                            detail=f"entry states {stated}; its deltas sum to {running}",
                            sequence=entry.sequence,
                            transaction_id=entry.transaction_id,
                            account_id=account_id,
                            table=POSTINGS,
                        )
                    )
                yield (entry.sequence, *stated)  # type: ignore[misc]
    except StoredRowInvalid as invalid:
        raise _Found(replace(_unreadable(invalid, position), account_id=account_id)) from None


def _entry_sequence_of(entry: Entry) -> int | None:
    return entry.sequence


def _rewalk(verifier: _Verifier) -> Iterator[Transaction]:
    """The journal again, for naming a break: every record was checked on the first walk."""
    for page in _paged(verifier._journal, verifier.start, _sequence_of):
        yield from page


def _first_entry_break(walked: _Verifier, account_id: str) -> VerifyBreak:
    """Walk the journal again for one account and name its first wrong entry."""
    reader = walked.reader
    verifier = _Verifier(walked.book_id, reader)
    verifier.stated = False
    if walked.since is not None:
        verifier.seed(walked.since)
    before = verifier.base.get(account_id, (0, 0, 0, 0))

    def rows() -> Iterator[_Row]:
        for record in _rewalk(verifier):
            verifier._fold(record)
            row = verifier.balances.get(account_id)
            if row is not None and row[3] == record.sequence:
                yield (record.sequence, row[0], row[1], row[2])

    stored = _stored_rows(reader, account_id, 0, verifier.start, list(before[:3]))
    want_rows = rows()
    while True:
        want, have = next(want_rows, None), next(stored, None)
        if want != have:
            sequence = (want or have or (None,))[0]
            return VerifyBreak(
                kind=BreakKind.ENTRY_MISMATCH,
                detail=f"statement entry {have} where the journal gives {want}"
                " (sequence, posted, debits pending, credits pending)",
                sequence=sequence,
                account_id=account_id,
                table=POSTINGS,
            )
        if want is None:
            return VerifyBreak(
                kind=BreakKind.ENTRY_MISMATCH,
                detail="the statement's digest differs from the journal's",
                sequence=verifier.last_sequence,
                account_id=account_id,
                table=POSTINGS,
            )


def _first_hold_break(verifier: _Verifier) -> VerifyBreak:
    """Name the first wrong, missing or extra hold (by sequence), holding every hold once."""
    fresh = _Verifier(verifier.book_id, verifier.reader)
    expected: dict[str, tuple[object, ...]] = {}
    for record in _rewalk(fresh):
        if record.kind is Kind.HOLD:
            expected[record.transaction_id] = _hold_row(
                record.transaction_id, record.sequence, HoldStatus.PENDING, record.expires_at, None
            )
        elif record.kind in (Kind.POST, Kind.VOID, Kind.EXPIRE):
            held = expected.get(record.related_id or "")
            if held is not None:
                status = {
                    Kind.POST: HoldStatus.POSTED,
                    Kind.VOID: HoldStatus.VOIDED,
                    Kind.EXPIRE: HoldStatus.EXPIRED,
                }[record.kind]
                expected[record.related_id or ""] = (
                    held[0],
                    held[1],
                    status.value,
                    held[3],
                    record.transaction_id,
                )
    candidates: list[tuple[int, str, str]] = []
    for page in _paged(verifier._holds, None, _hold_id_of):
        for hold in page:
            row = _stored_hold_row(hold)
            want = expected.pop(hold.hold_id, None)
            if want is None:
                candidates.append((hold.sequence, hold.hold_id, "a hold the journal never made"))
            elif want != row:
                detail = f"stored as {row[1:]}; the journal gives {want[1:]}"
                candidates.append((hold.sequence, hold.hold_id, detail))
    for hold_id, want in expected.items():
        sequence = want[1]
        assert type(sequence) is int
        candidates.append((sequence, hold_id, f"missing; the journal gives {want[1:]}"))
    return _earliest(candidates, BreakKind.HOLD_MISMATCH, HOLDS, verifier.last_sequence)


def _first_reversal_break(verifier: _Verifier) -> VerifyBreak:
    """Name the first wrong, missing or extra reversal link, holding every link once."""
    expected: dict[str, tuple[str, int]] = {}
    for record in _rewalk(_Verifier(verifier.book_id, verifier.reader)):
        if record.kind is Kind.REVERSAL and record.related_id is not None:
            expected[record.related_id] = (record.transaction_id, record.sequence)
    candidates: list[tuple[int, str, str]] = []
    for page in _paged(verifier._reversals, None, _original_id_of):
        for link in page:
            want = expected.pop(link.original_id, None)
            if want is None:
                detail = f"links {link.original_id!r} to {link.reversal_id!r}; no such reversal"
                candidates.append((verifier.last_sequence, link.original_id, detail))
            elif want[0] != link.reversal_id:
                detail = f"links {link.original_id!r} to {link.reversal_id!r}, not {want[0]!r}"
                candidates.append((want[1], link.original_id, detail))
    for original_id, (reversal_id, sequence) in expected.items():
        detail = f"no link from {original_id!r} to its reversal {reversal_id!r}"
        candidates.append((sequence, original_id, detail))
    return _earliest(candidates, BreakKind.REVERSAL_MISMATCH, REVERSALS, verifier.last_sequence)


def _first_outcome_break(verifier: _Verifier) -> VerifyBreak:
    """Name a committed outcome that no record has (every record's own was checked)."""
    expected: dict[str, int] = {}
    for record in _rewalk(_Verifier(verifier.book_id, verifier.reader)):
        expected[record.transaction_id] = record.sequence
    candidates: list[tuple[int, str, str]] = []
    for page in _paged(verifier._outcomes, None, _outcome_id_of):
        for outcome in page:
            sequence = outcome.sequence
            if sequence is not None and expected.get(outcome.transaction_id) != sequence:
                detail = f"committed as #{sequence}, which is another id's record"
                candidates.append((sequence, outcome.transaction_id, detail))
    return _earliest(candidates, BreakKind.OUTCOME_MISMATCH, REQUESTS, verifier.last_sequence)


def _key(value: object) -> str | None:
    return value if type(value) is str else None


def _earliest(
    candidates: list[tuple[int, str, str]], kind: BreakKind, table: str, position: int
) -> VerifyBreak:
    if not candidates:
        return _break(kind, "the stored rows' digest differs from the journal's", position, table)
    sequence, key, detail = min(candidates, key=lambda found: (found[0], found[1]))
    return _break(kind, detail, sequence, table, key)


# --- the checks ---------------------------------------------------------------------


def _record_shape(record: Transaction) -> tuple[str, str] | None:
    """(table, what is wrong) if a record holds a value of the wrong type."""
    if _well_formed(record):
        return None
    return _shape_problem(record)


def _well_formed(record: Transaction) -> bool:
    """The checks of ``_shape_problem`` as one expression, for the records that pass them."""
    related_id, metadata = record.related_id, record.metadata
    recorded_at, effective_at, expires_at = (
        record.recorded_at,
        record.effective_at,
        record.expires_at,
    )
    if not (
        type(record.book_id) is str
        and type(record.transaction_id) is str
        and type(record.code) is str
        and (related_id is None or type(related_id) is str)
        and type(record.previous_hash) is str
        and type(record.hash) is str
        and type(record.sequence) is int
        and type(record.kind) is Kind
        and type(metadata) is dict
        and type(recorded_at) is datetime
        and recorded_at.utcoffset() is not None
        and (effective_at is None or _is_time(effective_at))
        and (expires_at is None or _is_time(expires_at))
        and type(record.postings) is tuple
    ):
        return False
    for key, value in metadata.items():
        if type(key) is not str or type(value) is not str:
            return False
    for posting in record.postings:
        if not (
            type(posting) is Posting
            and type(posting.account_id) is str
            and type(posting.side) is Side
            and type(posting.amount_minutes) is int
        ):
            return False
    return True


def _shape_problem(record: Transaction) -> tuple[str, str] | None:
    for name, value, nullable in (
        ("book_id", record.book_id, False),
        ("transaction_id", record.transaction_id, False),
        ("code", record.code, False),
        ("related_id", record.related_id, True),
        ("previous_hash", record.previous_hash, False),
        ("hash", record.hash, False),
    ):
        if not (type(value) is str or (nullable and value is None)):
            return TRANSACTIONS, f"{name} is {value!r:.60}, not text"
    if type(record.sequence) is not int:
        return TRANSACTIONS, f"sequence is {record.sequence!r:.60}, not an integer"
    if not isinstance(record.kind, Kind):
        return TRANSACTIONS, f"kind is {record.kind!r:.60}, not a kind of record"
    if not _is_metadata(record.metadata):
        return TRANSACTIONS, f"metadata is {record.metadata!r:.60}, not text by text"
    for name, moment, nullable in (
        ("recorded_at", record.recorded_at, False),
        ("effective_at", record.effective_at, True),
        ("expires_at", record.expires_at, True),
    ):
        if not (_is_time(moment) or (nullable and moment is None)):
            return TRANSACTIONS, f"{name} is {moment!r:.60}, not an aware time"
    if type(record.postings) is not tuple:
        return POSTINGS, f"postings are {record.postings!r:.60}, not a tuple"
    for posting in record.postings:
        if not _is_posting(posting):
            return POSTINGS, f"posting {posting!r:.80} is not an account, side and minutes"
    return None


def _record_rules(record: Transaction, previous: datetime | None) -> tuple[str, str] | None:
    """(table, which rule) if an authentic-looking record breaks one of the ledger's rules."""
    kind = record.kind
    recorded_at = record.recorded_at
    if previous is not None and recorded_at <= previous:
        return TRANSACTIONS, f"recorded at {recorded_at}, not after the record before ({previous})"
    if (record.related_id is None) != (kind in (Kind.TRANSFER, Kind.HOLD)):
        return TRANSACTIONS, f"a {kind} record with related_id {record.related_id!r}"
    if record.expires_at is not None and (
        kind is not Kind.HOLD or record.expires_at <= recorded_at
    ):
        return TRANSACTIONS, f"a {kind} record expiring at {record.expires_at}"
    effective_at = record.effective_at
    if effective_at is not None and (kind is not Kind.TRANSFER or effective_at > recorded_at):
        return TRANSACTIONS, f"a {kind} record effective at {effective_at}"
    postings = record.postings
    if len(postings) < POSTINGS_PER_TRANSACTION_MIN:
        return POSTINGS, f"{len(postings)} postings"
    if len({posting.account_id for posting in postings}) != len(postings):
        return POSTINGS, "an account appears twice"
    balance = 0
    for posting in postings:
        if not 0 < posting.amount_minutes <= AMOUNT_MINUTES_MAX:
            return POSTINGS, f"{posting.amount_minutes} minutes for {posting.account_id!r}"
        balance += posting.amount_minutes if posting.side is Side.DEBIT else -posting.amount_minutes
    if balance != 0:
        return POSTINGS, f"debits exceed credits by {balance} minutes"
    return None


def _resolution_problem(record: Transaction, hold: tuple[Posting, ...]) -> str | None:
    """What is wrong with a post, void or expiry given the postings of its hold."""
    postings = record.postings
    if record.kind is not Kind.POST:
        return None if postings == hold else f"a {record.kind} whose postings are not its hold's"
    if len(postings) != len(hold):
        return f"a post of {len(postings)} postings from a hold of {len(hold)}"
    for posted, held in zip(postings, hold, strict=True):
        if (posted.account_id, posted.side) != (held.account_id, held.side):
            return f"posts {posted.account_id!r} where the hold has {held.account_id!r}"
        if posted.amount_minutes > held.amount_minutes:
            return f"posts {posted.amount_minutes} of {held.amount_minutes} held minutes"
    return None


_REQUEST_OF_KIND: dict[Kind, type[Any]] = {
    Kind.TRANSFER: Transfer,
    Kind.HOLD: Hold,
    Kind.POST: PostHold,
    Kind.VOID: VoidHold,
    Kind.REVERSAL: Reverse,
}


def _outcome_problem(
    record: Transaction, outcome: StoredOutcome | None, hold: tuple[Posting, ...] | None
) -> str | None:
    """What is wrong with the outcome remembered for a record's transaction id."""
    if outcome is None:
        return "no outcome is remembered for its transaction id"
    if outcome.sequence != record.sequence or type(outcome.sequence) is not int:
        return f"its transaction id is remembered as {outcome.sequence!r}"
    if outcome.error is not None:
        return "its transaction id is remembered with an error"
    request = outcome.request
    if record.kind is Kind.EXPIRE:
        return None if request is None else "an expiry has no request, but one is remembered"
    expected = _REQUEST_OF_KIND[record.kind]
    if request is None or type(request) is not expected:
        return f"the request remembered is {type(request).__name__}, for a {record.kind}"
    if (request.transaction_id, request.code, request.metadata) != (
        record.transaction_id,
        record.code,
        record.metadata,
    ):
        return "the request remembered has another transaction id, code or metadata"
    if not _request_made(request, record, hold):
        return "the request remembered would not make this record"
    return None


def _request_made(request: Any, record: Transaction, hold: tuple[Posting, ...] | None) -> bool:
    """Whether ``request`` (of the record's kind) gives the record's own fields."""
    if type(request) is Transfer:
        return _same_postings(request.postings, record.postings) and _same_time(
            request.effective_at, record.effective_at
        )
    if type(request) is Hold:
        return _same_postings(request.postings, record.postings) and _same_time(
            request.expires_at, record.expires_at
        )
    if type(request) is PostHold:
        if request.hold_id != record.related_id:
            return False
        return hold is None or _posted(request, hold) == record.postings
    if type(request) is VoidHold:
        return bool(request.hold_id == record.related_id)
    return bool(request.reverses_id == record.related_id)


def _posted(request: PostHold, hold: tuple[Posting, ...]) -> tuple[Posting, ...] | None:
    """What a post request moves out of its hold, in the hold's order (None: nothing valid)."""
    amount, given = request.amount_minutes, request.postings
    if amount is not None and given is None:
        return tuple(replace(posting, amount_minutes=amount) for posting in hold)
    if given is None:
        return hold
    if amount is not None or not isinstance(given, tuple | list):
        return None
    by_account = {p.account_id: p for p in given if _is_posting(p)}
    posted = tuple(by_account.get(held.account_id) for held in hold)
    if len(by_account) != len(given) or len(given) != len(hold) or None in posted:
        return None
    return posted  # type: ignore[return-value]


def _same_postings(given: object, recorded: tuple[Posting, ...]) -> bool:
    return isinstance(given, tuple | list) and tuple(given) == recorded


def _same_time(given: object, recorded: datetime | None) -> bool:
    if given is None or recorded is None:
        return given is recorded
    return _is_time(given) and given == recorded


def _refusal_problem(outcome: StoredOutcome) -> str | None:
    """What is wrong with a remembered outcome on its own (a refusal is checked only so)."""
    transaction_id = outcome.transaction_id
    if type(transaction_id) is not str:
        return f"transaction id {transaction_id!r:.60} is not text"
    sequence = outcome.sequence
    if sequence is not None:
        return None if type(sequence) is int else f"sequence {sequence!r:.60} is not an integer"
    request, error = outcome.request, outcome.error
    if request is None or type(request) not in _REQUEST_OF_KIND.values():
        return "a refusal without its request"
    if request.transaction_id != transaction_id:
        return (
            f"a refusal kept under {transaction_id!r} of a request for {request.transaction_id!r}"
        )
    if type(error) is not dict or type(error.get("code")) is not str:
        return f"a refusal whose error {error!r:.60} has no code"
    return None


def _account_shape(account: Account, book_id: str) -> str | None:
    if type(account.account_id) is not str or account.book_id != book_id:
        return f"account {account.account_id!r:.60} of book {account.book_id!r:.60}"
    for name in (
        "posted_minutes",
        "debits_pending_minutes",
        "credits_pending_minutes",
        "balance_minutes_min",
        "balance_minutes_max",
    ):
        value = getattr(account, name)
        if type(value) is not int and not (value is None and name.startswith("balance")):
            return f"{name} is {value!r:.60}, not an integer"
    if not _is_metadata(account.metadata):
        return f"metadata is {account.metadata!r:.60}, not text by text"
    if not _is_time(account.opened_at):
        return f"opened_at is {account.opened_at!r:.60}, not an aware time"
    if account.closed_at is not None and not _is_time(account.closed_at):
        return f"closed_at is {account.closed_at!r:.60}, not an aware time"
    return None


def _bounds_problem(account: Account) -> str | None:
    minimum, maximum = account.balance_minutes_min, account.balance_minutes_max
    if account.debits_pending_minutes < 0 or account.credits_pending_minutes < 0:
        return "pending minutes below zero"
    if minimum is not None and (minimum > 0 or account.available_minutes < minimum):
        return f"minimum {minimum} with {account.available_minutes} minutes available"
    projected = account.posted_minutes + account.credits_pending_minutes
    if maximum is not None and (maximum < 0 or projected > maximum):
        return f"maximum {maximum} with {projected} minutes projected"
    return None


def _entry_shape(entry: Entry) -> str | None:
    if type(entry.transaction_id) is not str:
        return f"the entry's transaction id is {entry.transaction_id!r:.60}, not text"
    for name in (
        "sequence",
        "posted_delta_minutes",
        "debits_pending_delta_minutes",
        "credits_pending_delta_minutes",
        "posted_minutes",
        "debits_pending_minutes",
        "credits_pending_minutes",
    ):
        value = getattr(entry, name)
        if type(value) is not int:
            return f"the entry's {name} is {value!r:.60}, not an integer"
    return None


def _hold_record_shape(hold: HoldRecord) -> str | None:
    if not isinstance(hold.status, HoldStatus):
        return f"status {hold.status!r:.60} is not a hold status"
    if not (hold.expires_at is None or _is_time(hold.expires_at)):
        return f"expires_at {hold.expires_at!r:.60} is not an aware time"
    if not (hold.resolved_by is None or type(hold.resolved_by) is str):
        return f"resolved_by {hold.resolved_by!r:.60} is not an id"
    if type(hold.postings) is not tuple or not all(_is_posting(p) for p in hold.postings):
        return f"postings {hold.postings!r:.60} are not postings"
    return None


def _hold_shape(hold: StoredHold) -> str | None:
    if type(hold.hold_id) is not str or type(hold.sequence) is not int:
        return f"hold {hold.hold_id!r:.60} of sequence {hold.sequence!r:.60}"
    if not isinstance(hold.status, HoldStatus):
        return f"status {hold.status!r:.60} is not a hold status"
    if not (hold.expires_at is None or _is_time(hold.expires_at)):
        return f"expires_at {hold.expires_at!r:.60} is not an aware time"
    if not (hold.resolved_by is None or type(hold.resolved_by) is str):
        return f"resolved_by {hold.resolved_by!r:.60} is not an id"
    return None


def _hold_row(
    hold_id: object,
    sequence: int,
    status: HoldStatus,
    expires_at: datetime | None,
    resolver: Transaction | None,
) -> tuple[object, ...]:
    resolved_by = None if resolver is None else resolver.transaction_id
    return (hold_id, sequence, status.value, _utc(expires_at), resolved_by)


def _stored_hold_row(hold: StoredHold) -> tuple[object, ...]:
    return (hold.hold_id, hold.sequence, hold.status.value, _utc(hold.expires_at), hold.resolved_by)


def _is_time(value: object) -> bool:
    return type(value) is datetime and value.utcoffset() is not None


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


def _is_metadata(value: object) -> bool:
    return type(value) is dict and all(type(k) is str and type(v) is str for k, v in value.items())


def _is_posting(value: object) -> bool:
    return (
        type(value) is Posting
        and type(value.account_id) is str
        and isinstance(value.side, Side)
        and type(value.amount_minutes) is int
    )


def _hash_of(record: Transaction) -> str | None:
    try:
        return transaction_hash(record)
    except (UnicodeEncodeError, msgspec.EncodeError):
        return None  # text no encoding can carry: it cannot be what was hashed


def _pack(row: tuple[int, int, int, int]) -> bytes:
    try:
        return _ROW.pack(*row)
    except struct.error:
        # Sums past 64 bits only come from tampered amounts; both digests pack them alike.
        return repr(row).encode()


def _triple(account: Account) -> list[int]:
    return [account.posted_minutes, account.debits_pending_minutes, account.credits_pending_minutes]


# --- breaks ---------------------------------------------------------------------------


def _break(
    kind: BreakKind,
    detail: str,
    sequence: int,
    table: str,
    key: str | None = None,
    *,
    account_id: str | None = None,
) -> VerifyBreak:
    return VerifyBreak(
        kind=kind,
        detail=detail if key is None else f"{key!r}: {detail}",
        sequence=sequence,
        account_id=account_id,
        table=table,
    )


def _record_break(
    kind: BreakKind,
    record: Transaction,
    detail: str,
    table: str = TRANSACTIONS,
    sequence: int | None = None,
) -> _Found:
    if sequence is None:
        sequence = record.sequence
    transaction_id = record.transaction_id
    return _Found(
        VerifyBreak(
            kind=kind,
            detail=detail,
            sequence=sequence,
            transaction_id=transaction_id if type(transaction_id) is str else None,
            table=table,
        )
    )


def _unreadable(invalid: StoredRowInvalid, position: int) -> VerifyBreak:
    """The break for a row the store could not read: its table, and its key where it has one."""
    table = str(invalid.table)
    key = _key(invalid.key)
    return VerifyBreak(
        kind=BreakKind.ROW_INVALID,
        detail=str(invalid.detail),
        sequence=invalid.sequence if type(invalid.sequence) is int else position,
        transaction_id=key if table in (TRANSACTIONS, REQUESTS) else None,
        account_id=key if table == ACCOUNTS else None,
        table=table,
    )
