"""verify() notices rows changed behind the ledger's back, and names what broke.

The tests edit the database directly, as an intruder with the database
password would; on PostgreSQL they first disable the append-only triggers,
which only a table owner or superuser can do.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection

from timebank.ledger import Book, BreakKind, Ledger, ManualClock, credit, debit
from timebank.store import SqlStore

START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

APPEND_ONLY = ("transactions", "postings")


def _book(store: SqlStore) -> Book:
    book = Ledger(store, clock=ManualClock(START)).create_book("centre")
    book.open_account("pool", balance_minutes_min=None)
    book.open_account("ana")
    book.open_account("bo")
    book.transfer("t1", [debit("pool", 50), credit("ana", 50)])
    book.transfer("t2", [debit("ana", 20), credit("bo", 20)])
    book.transfer("t3", [debit("pool", 5), credit("bo", 5)])
    assert book.verify().ok
    return book


def _tamper(store: SqlStore, *statements: str) -> None:
    """Run ``statements`` with the append-only triggers out of the way."""
    postgres = store.engine.dialect.name == "postgresql"
    with store.engine.begin() as connection:
        _triggers(connection, postgres, enable=False)
        for statement in statements:
            connection.exec_driver_sql(statement)
        _triggers(connection, postgres, enable=True)


def _triggers(connection: Connection, postgres: bool, *, enable: bool) -> None:
    for table in APPEND_ONLY:
        if postgres:
            action = "ENABLE" if enable else "DISABLE"
            connection.exec_driver_sql(f"ALTER TABLE {table} {action} TRIGGER {table}_append_only")
            continue
        for operation in ("UPDATE", "DELETE"):
            name = f"{table}_no_{operation.lower()}"
            if enable:
                connection.exec_driver_sql(
                    f"CREATE TRIGGER {name} BEFORE {operation} ON {table}"
                    " BEGIN SELECT RAISE(ABORT, 'append-only'); END"
                )
            else:
                connection.exec_driver_sql(f"DROP TRIGGER {name}")


def test_an_altered_posting_amount_breaks_the_hash(store: SqlStore) -> None:
    """Changing one posting's amount makes that record's content disagree with its hash."""
    book = _book(store)
    _tamper(
        store,
        "UPDATE postings SET amount_minutes = 21 WHERE sequence = 2",
    )
    report = book.verify()
    assert not report.ok
    assert report.first_break is not None
    assert report.first_break.kind is BreakKind.HASH_MISMATCH
    assert report.first_break.transaction_id == "t2"
    assert report.first_break.sequence == 2


def test_a_deleted_posting_breaks_the_hash(store: SqlStore) -> None:
    """Deleting one leg of a transaction is caught at that transaction."""
    book = _book(store)
    _tamper(store, "DELETE FROM postings WHERE sequence = 3 AND posting_index = 1")
    report = book.verify()
    assert report.first_break is not None
    assert report.first_break.kind is BreakKind.HASH_MISMATCH
    assert report.first_break.transaction_id == "t3"


def test_a_deleted_transaction_leaves_a_sequence_gap(store: SqlStore) -> None:
    """Deleting a whole record (with everything that points at it) leaves a gap in the chain."""
    book = _book(store)
    _tamper(
        store,
        "DELETE FROM requests WHERE sequence = 2",
        "DELETE FROM postings WHERE sequence = 2",
        "DELETE FROM transactions WHERE sequence = 2",
    )
    report = book.verify()
    assert report.first_break is not None
    assert report.first_break.kind is BreakKind.SEQUENCE_GAP
    assert report.first_break.sequence == 3


def test_a_rewritten_hash_is_caught(store: SqlStore) -> None:
    """Rewriting a stored hash is caught at that record."""
    book = _book(store)
    _tamper(store, f"UPDATE transactions SET hash = '{'f' * 64}' WHERE sequence = 1")
    report = book.verify()
    assert report.first_break is not None
    assert report.first_break.kind is BreakKind.HASH_MISMATCH
    assert report.first_break.transaction_id == "t1"


def test_a_rewritten_link_breaks_the_chain(store: SqlStore) -> None:
    """A record whose previous_hash was rewritten no longer chains to the record before it."""
    book = _book(store)
    last = book.journal(after=2, limit=1)[0]
    _tamper(store, f"UPDATE transactions SET previous_hash = '{'0' * 64}' WHERE sequence = 3")
    report = book.verify()
    assert report.first_break is not None
    assert report.first_break.kind is BreakKind.CHAIN_BROKEN
    assert report.first_break.transaction_id == last.transaction_id


@pytest.mark.parametrize(
    ("column", "kind"),
    [("posted_minutes", BreakKind.BALANCE_MISMATCH)],
)
def test_an_edited_cached_balance_is_caught(store: SqlStore, column: str, kind: BreakKind) -> None:
    """A cached balance that no longer equals the fold of the journal is named by account."""
    book = _book(store)
    with store.engine.begin() as connection:
        connection.exec_driver_sql(f"UPDATE accounts SET {column} = {column} + 1 WHERE id = 'bo'")
    report = book.verify()
    assert report.first_break is not None
    assert report.first_break.kind is kind
    assert report.first_break.account_id == "bo"
