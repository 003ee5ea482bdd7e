"""Recompute a book from its journal and report the first thing that does not match.

``verify_book`` walks the journal in sequence order, checks that each record's
``previous_hash`` is the hash before it and that its own hash is what its
canonical encoding gives, and folds every record into balances. It then checks
every account's cached balances against that fold, every statement entry
against the journal, and that posted and pending minutes each sum to zero
across the book.

Statement entries are checked without holding them all in memory: the walk
keeps, per account, a running digest of the (sequence, balances after) rows
the journal implies; the account pass digests the stored entries the same way.
Only when the digests differ is the journal walked again for that one account,
to name the first entry that is wrong.
"""

from __future__ import annotations

import enum
import hashlib
import struct
from collections.abc import Iterator

from msgspec import Struct

from timebank.ledger.hashing import GENESIS_HASH, transaction_hash
from timebank.ledger.model import Account, Kind, Posting, Side, Transaction
from timebank.ledger.port import LedgerReader

__all__ = ["BreakKind", "VerifyBreak", "VerifyReport", "verify_book"]

_PAGE = 1_000
_ROW = struct.Struct("<qqqq")
_Row = tuple[int, int, int, int]
"""(sequence, posted, debits pending, credits pending) after one entry."""


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


class VerifyBreak(Struct, frozen=True, kw_only=True):
    """The first place where the stored book differs from its recomputation."""

    kind: BreakKind
    detail: str
    sequence: int | None = None
    transaction_id: str | None = None
    account_id: str | None = None


class VerifyReport(Struct, frozen=True, kw_only=True):
    book_id: str
    ok: bool
    transactions_checked: int
    accounts_checked: int
    first_break: VerifyBreak | None = None


class _Found(Exception):
    def __init__(self, found: VerifyBreak) -> None:
        self.found = found


def verify_book(book_id: str, reader: LedgerReader) -> VerifyReport:
    """Recompute ``book_id`` through ``reader``; stop at the first break."""
    verifier = _Verifier(book_id, reader)
    try:
        verifier.walk_journal()
        verifier.check_accounts()
    except _Found as stop:
        first_break: VerifyBreak | None = stop.found
    else:
        first_break = None
    return VerifyReport(
        book_id=book_id,
        ok=first_break is None,
        transactions_checked=verifier.transactions_checked,
        accounts_checked=verifier.accounts_checked,
        first_break=first_break,
    )


class _Verifier:
    def __init__(self, book_id: str, reader: LedgerReader) -> None:
        self.book_id = book_id
        self.reader = reader
        self.balances: dict[str, list[int]] = {}
        self.digests: dict[str, hashlib.blake2b] = {}
        self.transactions_checked = 0
        self.accounts_checked = 0

    # --- the journal ---------------------------------------------------------

    def walk_journal(self) -> None:
        previous = GENESIS_HASH
        sequence = 0
        for record, rows in _folded(self.book_id, self.reader, self.balances):
            for account_id, row in rows:
                digest = self.digests.get(account_id)
                if digest is None:
                    digest = self.digests[account_id] = hashlib.blake2b(digest_size=16)
                digest.update(_ROW.pack(*row))
            previous = record.hash
            sequence = record.sequence
            self.transactions_checked += 1
        head = self.reader.head()
        if head.sequence != sequence or head.hash != previous:
            raise _Found(
                VerifyBreak(
                    kind=BreakKind.HEAD_MISMATCH,
                    detail=f"head is #{head.sequence} {head.hash[:12]}; the journal ends at"
                    f" #{sequence} {previous[:12]}",
                    sequence=head.sequence,
                )
            )

    # --- accounts and their statements --------------------------------------------

    def check_accounts(self) -> None:
        totals = [0, 0, 0]
        after: str | None = None
        while page := self.reader.accounts(after=after, limit=_PAGE):
            for account in page:
                self.check_account(account)
                for index, value in enumerate(_triple(account)):
                    totals[index] += value
                self.accounts_checked += 1
                after = account.account_id
        if self.balances:
            raise _Found(
                VerifyBreak(
                    kind=BreakKind.UNKNOWN_ACCOUNT,
                    detail="the journal posts to an account the book does not have",
                    account_id=min(self.balances),
                )
            )
        if totals[0] != 0 or totals[1] != totals[2]:
            raise _Found(
                VerifyBreak(
                    kind=BreakKind.CONSERVATION_BROKEN,
                    detail=f"posted minutes sum to {totals[0]}; pending debits {totals[1]}"
                    f" against pending credits {totals[2]}",
                )
            )

    def check_account(self, account: Account) -> None:
        account_id = account.account_id
        expected = self.balances.pop(account_id, [0, 0, 0])
        cached = _triple(account)
        if cached != expected:
            raise _Found(
                VerifyBreak(
                    kind=BreakKind.BALANCE_MISMATCH,
                    detail=f"cached (posted, debits pending, credits pending) {cached};"
                    f" the journal gives {expected}",
                    account_id=account_id,
                )
            )
        expected_digest = self.digests.pop(account_id, hashlib.blake2b(digest_size=16))
        stored_digest = hashlib.blake2b(digest_size=16)
        for row in _stored_rows(self.reader, account_id):
            stored_digest.update(_ROW.pack(*row))
        if stored_digest.digest() != expected_digest.digest():
            raise _Found(_first_entry_break(self.book_id, self.reader, account_id))


def _folded(
    book_id: str, reader: LedgerReader, balances: dict[str, list[int]]
) -> Iterator[tuple[Transaction, list[tuple[str, _Row]]]]:
    """Each journal record, checked against the chain, with the rows it implies."""
    held: dict[str, tuple[Posting, ...]] = {}
    after = 0
    previous = GENESIS_HASH
    while page := reader.journal(after=after, limit=_PAGE):
        for record in page:
            _check_record(book_id, record, after + 1, previous)
            previous = record.hash
            touched = _fold(record, balances, held)
            rows = [(a, (record.sequence, *balances[a])) for a in touched]
            yield record, rows  # type: ignore[misc]
            after = record.sequence


def _stored_rows(reader: LedgerReader, account_id: str) -> Iterator[_Row]:
    """The account's statement entries as rows, checking each entry's own arithmetic."""
    running = [0, 0, 0]
    after: int | None = None
    while page := reader.entries(account_id, after=after, limit=_PAGE):
        for entry in page:
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
                    )
                )
            yield (entry.sequence, *stated)  # type: ignore[misc]
            after = entry.sequence


def _first_entry_break(book_id: str, reader: LedgerReader, account_id: str) -> VerifyBreak:
    """Walk the journal again for one account and name its first wrong entry."""
    expected = (
        row
        for _, rows in _folded(book_id, reader, {})
        for touched, row in rows
        if touched == account_id
    )
    stored = _stored_rows(reader, account_id)
    while True:
        want, have = next(expected, None), next(stored, None)
        if want != have:
            sequence = (want or have or (None,))[0]
            return VerifyBreak(
                kind=BreakKind.ENTRY_MISMATCH,
                detail=f"statement entry {have} where the journal gives {want}"
                " (sequence, posted, debits pending, credits pending)",
                sequence=sequence,
                account_id=account_id,
            )
        assert want is not None, "digests differed but every entry matched"


def _check_record(book_id: str, record: Transaction, sequence: int, previous: str) -> None:
    def found(kind: BreakKind, detail: str) -> _Found:
        return _Found(
            VerifyBreak(
                kind=kind,
                detail=detail,
                sequence=record.sequence,
                transaction_id=record.transaction_id,
            )
        )

    if record.sequence != sequence:
        raise found(BreakKind.SEQUENCE_GAP, f"expected #{sequence}, found #{record.sequence}")
    if record.book_id != book_id:
        raise found(BreakKind.FOREIGN_RECORD, f"record belongs to book {record.book_id!r}")
    if record.previous_hash != previous:
        raise found(BreakKind.CHAIN_BROKEN, "previous_hash is not the hash of the record before")
    if transaction_hash(record) != record.hash:
        raise found(BreakKind.HASH_MISMATCH, "the record's content does not give its hash")


def _fold(
    record: Transaction, balances: dict[str, list[int]], held: dict[str, tuple[Posting, ...]]
) -> list[str]:
    """Apply one record to ``balances``; return the accounts it touched, in posting order."""
    kind = record.kind
    if kind is Kind.HOLD:
        held[record.transaction_id] = record.postings
        _add(balances, record.postings, pending=True, sign=1)
        return [p.account_id for p in record.postings]
    if kind in (Kind.POST, Kind.VOID, Kind.EXPIRE):
        hold = held.pop(record.related_id or "", None)
        if hold is None:
            raise _Found(
                VerifyBreak(
                    kind=BreakKind.UNKNOWN_HOLD,
                    detail=f"resolves {record.related_id!r}, which is not a pending hold",
                    sequence=record.sequence,
                    transaction_id=record.transaction_id,
                )
            )
        _add(balances, hold, pending=True, sign=-1)
        if kind is not Kind.POST:
            return [p.account_id for p in hold]
    _add(balances, record.postings, pending=False, sign=1)
    return [p.account_id for p in record.postings]


def _add(
    balances: dict[str, list[int]], postings: tuple[Posting, ...], *, pending: bool, sign: int
) -> None:
    for posting in postings:
        row = balances.setdefault(posting.account_id, [0, 0, 0])
        amount = posting.amount_minutes * sign
        if not pending:
            row[0] += amount if posting.side is Side.CREDIT else -amount
        elif posting.side is Side.DEBIT:
            row[1] += amount
        else:
            row[2] += amount


def _triple(account: Account) -> list[int]:
    return [account.posted_minutes, account.debits_pending_minutes, account.credits_pending_minutes]
