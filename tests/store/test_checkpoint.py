"""Incremental verify on the SQL stores: the checkpoint row, and what is tampered after it.

Each test records a checkpoint with a clean verify, appends more records, tampers with the
database as its owner would (no triggers, foreign keys or CHECKs), and expects the break.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.store.conftest import START
from tests.store.test_tampering import _attack
from timebank.ledger import Book, BreakKind, Ledger, ManualClock, credit, debit
from timebank.store import SqlStore


def _book(store: SqlStore) -> Book:
    """Records 1-4 before the checkpoint (t1, h1, t2, h2), 5-8 after it (p1, v2, r2, t3)."""
    book = Ledger(store, clock=ManualClock(START, tick=timedelta(seconds=1))).create_book("c")
    book.open_account("pool", balance_minutes_min=None)
    book.open_account("ana")
    book.open_account("bo")
    book.transfer("t1", [debit("pool", 50), credit("ana", 50)])
    book.hold("h1", [debit("ana", 20), credit("bo", 20)])
    book.transfer("t2", [debit("pool", 5), credit("bo", 5)])
    book.hold("h2", [debit("ana", 5), credit("bo", 5)])
    assert book.verify(record_checkpoint=True).ok
    book.post_hold("p1", "h1", amount_minutes=15)
    book.void_hold("v2", "h2")
    book.reverse("r2", "t2")
    book.transfer("t3", [debit("pool", 7), credit("ana", 7)])
    return book


def test_an_incremental_verify_walks_only_the_later_records(store: SqlStore) -> None:
    book = _book(store)
    incremental = book.verify(since_checkpoint=True)
    assert incremental.ok, incremental.first_break
    assert incremental.transactions_checked == 4
    assert incremental.accounts_checked == 3
    assert book.verify().ok
    # The checkpoint moved to the end: nothing is left to walk.
    assert book.verify(since_checkpoint=True).transactions_checked == 0


CASES = {
    "an_amount_after_the_checkpoint": (
        ("UPDATE postings SET amount_minutes = 16 WHERE sequence = 5 AND posting_index = 0",),
        (BreakKind.HASH_MISMATCH, "transactions", 5),
    ),
    "a_statement_entry_after_the_checkpoint": (
        ("UPDATE postings SET posted_minutes = posted_minutes + 1 WHERE sequence = 8",),
        (BreakKind.ENTRY_MISMATCH, "postings", 8),
    ),
    "a_cached_balance": (
        ("UPDATE accounts SET posted_minutes = posted_minutes + 1 WHERE id = 'ana'",),
        (BreakKind.BALANCE_MISMATCH, "accounts", 8),
    ),
    "a_hold_resolved_after_the_checkpoint": (
        ("UPDATE holds SET status = 'pending', resolved_by = NULL WHERE hold_id = 'h2'",),
        (BreakKind.HOLD_MISMATCH, "holds", 4),
    ),
    "a_reversal_link": (
        ("DELETE FROM reversals",),
        (BreakKind.REVERSAL_MISMATCH, "reversals", 7),
    ),
    "an_outcome_after_the_checkpoint": (
        ("UPDATE requests SET sequence = 1 WHERE transaction_id = 't3'",),
        (BreakKind.OUTCOME_MISMATCH, "requests", 8),
    ),
    "the_head": (
        ("UPDATE books SET head_sequence = 7",),
        (BreakKind.HEAD_MISMATCH, "books", 7),
    ),
    "the_checkpoint_state": (
        ("UPDATE checkpoints SET state = replace(state, '\"ana\":[50', '\"ana\":[51')",),
        (BreakKind.CHECKPOINT_INVALID, "checkpoints", 4),
    ),
    "the_checkpoint_sequence": (
        ("UPDATE checkpoints SET sequence = 3",),
        (BreakKind.CHECKPOINT_INVALID, "checkpoints", 4),
    ),
    "the_record_the_checkpoint_is_bound_to": (
        ("UPDATE transactions SET code = 'rewritten' WHERE sequence = 4",),
        (BreakKind.CHECKPOINT_INVALID, "checkpoints", 4),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_incremental_verify_names_what_was_tampered(store: SqlStore, name: str) -> None:
    statements, found = CASES[name]
    _book(store)
    _attack(store, statements)
    book = Book(store, ManualClock(START), "c")
    report = book.verify(since_checkpoint=True)
    assert report.first_break is not None
    first = report.first_break
    assert (first.kind, first.table, first.sequence) == found, first
    # A full verify finds the same tampering (the checkpoint is not its concern).
    if first.kind is not BreakKind.CHECKPOINT_INVALID:
        full = book.verify().first_break
        assert full is not None
        assert (full.kind, full.table) == (first.kind, first.table), full
