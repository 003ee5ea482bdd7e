"""Recompute a book from its journal and report the first thing that does not match.

``verify_book`` walks the journal in sequence order, checks that each record's
``previous_hash`` is the hash before it and that its own hash is what its
canonical encoding gives, folds every record into balances, and then checks
every account's cached balances and every statement entry against that fold,
and that posted and pending minutes each sum to zero across the book.
"""

from __future__ import annotations

import enum

from msgspec import Struct

from timebank.ledger.hashing import GENESIS_HASH, transaction_hash
from timebank.ledger.model import Account, Kind, Posting, Side, Transaction
from timebank.ledger.port import LedgerReader

__all__ = ["BreakKind", "VerifyBreak", "VerifyReport", "verify_book"]

_PAGE = 1_000


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
    balances: dict[str, list[int]] = {}
    counts = [0, 0]
    try:
        _walk_journal(book_id, reader, balances, counts)
        _check_accounts(reader, balances, counts)
    except _Found as stop:
        return VerifyReport(
            book_id=book_id,
            ok=False,
            transactions_checked=counts[0],
            accounts_checked=counts[1],
            first_break=stop.found,
        )
    return VerifyReport(
        book_id=book_id, ok=True, transactions_checked=counts[0], accounts_checked=counts[1]
    )


def _walk_journal(
    book_id: str, reader: LedgerReader, balances: dict[str, list[int]], counts: list[int]
) -> None:
    held: dict[str, tuple[Posting, ...]] = {}
    previous = GENESIS_HASH
    sequence = 0
    while page := reader.journal(after=sequence, limit=_PAGE):
        for record in page:
            _check_record(book_id, record, sequence + 1, previous)
            _fold(record, balances, held)
            previous = record.hash
            sequence = record.sequence
            counts[0] += 1
    head = reader.head()
    if head.sequence != sequence or head.hash != previous:
        raise _Found(
            VerifyBreak(
                kind=BreakKind.HEAD_MISMATCH,
                detail=f"head is #{head.sequence} {head.hash[:12]}; journal ends #{sequence}"
                f" {previous[:12]}",
                sequence=head.sequence,
            )
        )


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
) -> None:
    kind = record.kind
    if kind is Kind.HOLD:
        held[record.transaction_id] = record.postings
        _add(balances, record.postings, pending=True, sign=1)
        return
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
            return
    _add(balances, record.postings, pending=False, sign=1)


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


def _check_accounts(
    reader: LedgerReader, balances: dict[str, list[int]], counts: list[int]
) -> None:
    totals = [0, 0, 0]
    after: str | None = None
    while page := reader.accounts(after=after, limit=_PAGE):
        for account in page:
            expected = balances.pop(account.account_id, [0, 0, 0])
            cached = _triple(account)
            if cached != expected:
                raise _Found(
                    VerifyBreak(
                        kind=BreakKind.BALANCE_MISMATCH,
                        detail=f"cached (posted, debits pending, credits pending) {cached};"
                        f" the journal gives {expected}",
                        account_id=account.account_id,
                    )
                )
            _check_entries(reader, account)
            for index in range(3):
                totals[index] += cached[index]
            counts[1] += 1
            after = account.account_id
    if balances:
        account_id = min(balances)
        raise _Found(
            VerifyBreak(
                kind=BreakKind.UNKNOWN_ACCOUNT,
                detail="the journal posts to an account the book does not have",
                account_id=account_id,
            )
        )
    if totals[0] != 0 or totals[1] != totals[2]:
        raise _Found(
            VerifyBreak(
                kind=BreakKind.CONSERVATION_BROKEN,
                detail=f"posted minutes sum to {totals[0]}; pending debits {totals[1]}"
                f" vs pending credits {totals[2]}",
            )
        )


def _check_entries(reader: LedgerReader, account: Account) -> None:
    running = [0, 0, 0]
    after: int | None = None
    while page := reader.entries(account.account_id, after=after, limit=_PAGE):
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
                        account_id=account.account_id,
                    )
                )
            after = entry.sequence
    if running != _triple(account):
        raise _Found(
            VerifyBreak(
                kind=BreakKind.ENTRY_MISMATCH,
                detail=f"entries sum to {running}; the account caches {_triple(account)}",
                account_id=account.account_id,
            )
        )


def _triple(account: Account) -> list[int]:
    return [account.posted_minutes, account.debits_pending_minutes, account.credits_pending_minutes]
