"""verify() recomputes the chain and every balance, and names the first thing that broke.

These tests tamper with the in-memory store's private state, as an attacker with
access to the storage would, and check that verify() notices.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from msgspec.structs import replace

from timebank.ledger import BreakKind, Ledger, ManualClock, MemoryStore, credit, debit


@pytest.fixture
def ledger() -> tuple[Ledger, MemoryStore]:
    store = MemoryStore()
    ledger = Ledger(store, clock=ManualClock(datetime(2026, 11, 1, tzinfo=UTC), tick=timedelta(1)))
    book = ledger.create_book("b")
    book.open_account("pool", balance_minutes_min=None)
    for member in ("li-jun", "wang-fang"):
        book.open_account(member)
    book.transfer("t1", [debit("pool", 60), credit("li-jun", 60)])
    book.hold("h1", [debit("li-jun", 20), credit("wang-fang", 20)])
    book.post_hold("p1", "h1", amount_minutes=15)
    book.transfer("t2", [debit("pool", 30), credit("wang-fang", 30)])
    return ledger, store


def state(store: MemoryStore):  # type: ignore[no-untyped-def]
    return store._books["b"]


def test_a_healthy_book_verifies(ledger: tuple[Ledger, MemoryStore]) -> None:
    """Every record and every balance matches."""
    report = ledger[0].book("b").verify()
    assert report.ok
    assert report.first_break is None
    assert (report.transactions_checked, report.accounts_checked) == (4, 3)


def test_detects_an_altered_amount(ledger: tuple[Ledger, MemoryStore]) -> None:
    """Changing a posting without its hash breaks that record's hash."""
    journal = state(ledger[1])._journal
    tampered = (debit("pool", 600), credit("li-jun", 600))
    journal[0] = replace(journal[0], postings=tampered)
    found = ledger[0].book("b").verify().first_break
    assert found is not None
    assert (found.kind, found.sequence, found.transaction_id) == (BreakKind.HASH_MISMATCH, 1, "t1")


def test_detects_a_rewritten_hash(ledger: tuple[Ledger, MemoryStore]) -> None:
    """Rewriting a record and its own hash breaks the link from the next record."""
    from timebank.ledger import transaction_hash

    book_state = state(ledger[1])
    journal = book_state._journal
    altered = replace(journal[1], code="edited")
    journal[1] = replace(altered, hash=transaction_hash(altered))
    book_state._records["h1"] = journal[1]  # the remembered outcome is rewritten too
    found = ledger[0].book("b").verify().first_break
    assert found is not None
    assert (found.kind, found.sequence, found.table) == (BreakKind.CHAIN_BROKEN, 3, "transactions")


def test_a_rewritten_record_disagrees_with_its_remembered_request(
    ledger: tuple[Ledger, MemoryStore],
) -> None:
    """A record rewritten with a fresh hash no longer matches the request kept under its id."""
    from timebank.ledger import transaction_hash

    journal = state(ledger[1])._journal
    altered = replace(journal[1], code="edited")
    journal[1] = replace(altered, hash=transaction_hash(altered))
    found = ledger[0].book("b").verify().first_break
    assert found is not None
    assert (found.kind, found.sequence, found.transaction_id, found.table) == (
        BreakKind.OUTCOME_MISMATCH,
        2,
        "h1",
        "requests",
    )


def test_detects_a_deleted_record(ledger: tuple[Ledger, MemoryStore]) -> None:
    """Removing a record leaves a gap in the sequence."""
    del state(ledger[1])._journal[1]
    found = ledger[0].book("b").verify().first_break
    assert found is not None
    assert (found.kind, found.sequence) == (BreakKind.SEQUENCE_GAP, 3)


def test_detects_a_dropped_last_record(ledger: tuple[Ledger, MemoryStore]) -> None:
    """Removing the newest record no longer matches the book's head."""
    state(ledger[1])._journal.pop()
    found = ledger[0].book("b").verify().first_break
    assert found is not None
    assert found.kind is BreakKind.HEAD_MISMATCH


def test_detects_an_edited_cached_balance(ledger: tuple[Ledger, MemoryStore]) -> None:
    """A cached balance that is not the fold of the journal is reported with its account."""
    accounts = state(ledger[1])._accounts
    accounts["wang-fang"] = replace(accounts["wang-fang"], posted_minutes=1_000)
    found = ledger[0].book("b").verify().first_break
    assert found is not None
    assert (found.kind, found.account_id) == (BreakKind.BALANCE_MISMATCH, "wang-fang")


def test_detects_an_edited_statement_line(ledger: tuple[Ledger, MemoryStore]) -> None:
    """A statement entry whose balance disagrees with its account is reported."""
    lines = state(ledger[1])._lines["li-jun"]
    lines.states[0] = replace(lines.states[0], posted_minutes=lines.states[0].posted_minutes + 1)
    found = ledger[0].book("b").verify().first_break
    assert found is not None
    assert (found.kind, found.account_id) == (BreakKind.ENTRY_MISMATCH, "li-jun")
