"""verify() notices rows changed behind the ledger's back, and names what broke.

The tests edit the database directly, as an intruder with the database
password would; on PostgreSQL they first disable the append-only triggers,
which only a table owner or superuser can do. The table of cases at the end
writes values a reader cannot take (text for minutes, times and JSON that do
not parse, bytes that are not UTF-8, NULLs, numbers past 64 bits), removes and
swaps rows of every ledger table, and expects each to be named, never raised.
``tests/store/test_tamper_fuzz.py`` does the same at random.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import Connection

from timebank.cli import main
from timebank.ledger import (
    Book,
    BreakKind,
    InsufficientMinutes,
    Ledger,
    ManualClock,
    credit,
    debit,
)
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


# --- values no reader can take, and rows of every table -------------------------------------


def _busy_book(store: SqlStore) -> Book:
    """Records 1-8: t1, h1 (posted by p1), h2 (voided by v2), t2, r2 (reverses t2), h3 pending;
    and a refusal."""
    book = Ledger(store, clock=ManualClock(START, tick=timedelta(seconds=1))).create_book("centre")
    book.open_account("pool", balance_minutes_min=None)
    book.open_account("ana")
    book.open_account("bo")
    book.transfer("t1", [debit("pool", 50), credit("ana", 50)])
    book.hold("h1", [debit("ana", 20), credit("bo", 20)], expires_at=START + timedelta(days=7))
    book.post_hold("p1", "h1", amount_minutes=15)
    book.hold("h2", [debit("ana", 5), credit("bo", 5)])
    book.void_hold("v2", "h2")
    book.transfer("t2", [debit("pool", 5), credit("bo", 5)])
    book.reverse("r2", "t2")
    book.hold("h3", [debit("pool", 7), credit("ana", 7)])
    with pytest.raises(InsufficientMinutes):
        book.transfer("refused", [debit("ana", 999), credit("bo", 999)])
    assert book.verify().ok
    return book


def _attack(store: SqlStore, statements: tuple[str, ...]) -> None:
    """Run ``statements`` as someone who owns the database: no triggers, foreign keys or CHECKs.

    On PostgreSQL, a statement starting with ``ALTER`` changes the test's own schema.
    """
    if store.engine.dialect.name == "postgresql":
        with store.engine.begin() as connection:
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
            for statement in statements:
                connection.exec_driver_sql(statement)
        return
    path = store.engine.url.database
    assert path is not None
    attacker = sqlite3.connect(path, isolation_level=None)
    try:
        attacker.execute("PRAGMA foreign_keys = OFF")
        attacker.execute("PRAGMA ignore_check_constraints = ON")
        attacker.execute("BEGIN")
        for (name,) in attacker.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
            attacker.execute(f"DROP TRIGGER {name}")
        for statement in statements:
            attacker.execute(statement)
        attacker.execute("COMMIT")
    finally:
        attacker.close()


@dataclass(frozen=True)
class Case:
    statements: tuple[str, ...]
    found: tuple[BreakKind, str, int]
    """The first break: its kind, table and sequence."""
    postgres: tuple[str, ...] | None = None
    """Other statements for PostgreSQL, whose column types refuse some of the values."""
    postgres_found: tuple[BreakKind, str, int] | None = None


_WRONG = BreakKind.ROW_INVALID
CASES = {
    "text_for_a_time": Case(
        ("UPDATE transactions SET recorded_at = 'yesterday-ish' WHERE sequence = 2",),
        (_WRONG, "transactions", 2),
        postgres=("UPDATE transactions SET recorded_at = 'infinity' WHERE sequence = 2",),
    ),
    "malformed_json": Case(
        ("""UPDATE transactions SET metadata = '{"a":' WHERE sequence = 2""",),
        (_WRONG, "transactions", 2),
        postgres=("""UPDATE transactions SET metadata = '[1, 2]' WHERE sequence = 2""",),
    ),
    "json_of_another_shape": Case(
        ("""UPDATE accounts SET metadata = '{"a": 1}' WHERE id = 'bo'""",),
        (_WRONG, "accounts", 8),
    ),
    "unknown_side": Case(
        (
            "ALTER TABLE postings DROP CONSTRAINT ck_postings_side_known",
            "UPDATE postings SET side = 'sideways' WHERE sequence = 3 AND posting_index = 0",
        ),
        (_WRONG, "postings", 3),
    ),
    "text_for_minutes": Case(
        ("UPDATE postings SET posted_minutes = 'many' WHERE sequence = 3",),
        (_WRONG, "postings", 3),
        postgres=(
            "ALTER TABLE postings ALTER COLUMN posted_minutes TYPE text",
            "UPDATE postings SET posted_minutes = 'many' WHERE sequence = 3",
        ),
        # Retyped, every row holds text: the first statement entry is the first break.
        postgres_found=(_WRONG, "postings", 1),
    ),
    "a_number_past_64_bits": Case(
        ("UPDATE accounts SET posted_minutes = 1e30 WHERE id = 'bo'",),
        (_WRONG, "accounts", 8),
        postgres=("UPDATE accounts SET posted_minutes = 9223372036854775807 WHERE id = 'bo'",),
        postgres_found=(BreakKind.BALANCE_MISMATCH, "accounts", 7),  # bo's last entry
    ),
    "a_truncated_hash": Case(
        ("UPDATE transactions SET hash = substr(hash, 1, 10) WHERE sequence = 4",),
        (BreakKind.HASH_MISMATCH, "transactions", 4),
    ),
    "bytes_that_are_not_utf8": Case(
        ("UPDATE transactions SET code = CAST(X'C328FF' AS TEXT) WHERE sequence = 4",),
        (_WRONG, "transactions", 4),
        postgres=("UPDATE transactions SET code = E'\\x01' WHERE sequence = 4",),
        postgres_found=(BreakKind.HASH_MISMATCH, "transactions", 4),
    ),
    "null_where_a_value_belongs": Case(
        ("UPDATE transactions SET related_id = NULL WHERE sequence = 3",),
        (BreakKind.HASH_MISMATCH, "transactions", 3),
        postgres=(
            "ALTER TABLE transactions ALTER COLUMN hash DROP NOT NULL",
            "UPDATE transactions SET hash = NULL WHERE sequence = 3",
        ),
        postgres_found=(_WRONG, "transactions", 3),
    ),
    "a_record_deleted_without_its_postings": Case(
        ("DELETE FROM requests WHERE sequence = 5", "DELETE FROM transactions WHERE sequence = 5"),
        (_WRONG, "transactions", 5),
    ),
    "two_records_swapped": Case(
        (
            "UPDATE transactions SET sequence = 1000 WHERE sequence = 6",
            "UPDATE transactions SET sequence = 6 WHERE sequence = 7",
            "UPDATE transactions SET sequence = 7 WHERE sequence = 1000",
        ),
        (BreakKind.CHAIN_BROKEN, "transactions", 6),
    ),
    "a_posting_past_the_head": Case(
        (
            "INSERT INTO postings SELECT book_id, 99, posting_index, account_id, side,"
            " amount_minutes, posted_minutes, debits_pending_minutes, credits_pending_minutes"
            " FROM postings WHERE sequence = 1",
        ),
        (_WRONG, "transactions", 99),
    ),
    "a_resolved_hold_made_pending": Case(
        ("UPDATE holds SET status = 'pending', resolved_by = NULL WHERE hold_id = 'h1'",),
        (BreakKind.HOLD_MISMATCH, "holds", 2),
    ),
    "a_hold_copied_under_another_id": Case(
        (
            "INSERT INTO holds SELECT book_id, 'h9', sequence, status, expires_at, resolved_by"
            " FROM holds WHERE hold_id = 'h3'",
        ),
        (BreakKind.HOLD_MISMATCH, "holds", 8),
    ),
    "a_reversal_link_deleted": Case(
        ("DELETE FROM reversals",),
        (BreakKind.REVERSAL_MISMATCH, "reversals", 7),
    ),
    "an_outcome_pointed_at_another_record": Case(
        ("UPDATE requests SET sequence = 1 WHERE transaction_id = 't2'",),
        (BreakKind.OUTCOME_MISMATCH, "requests", 6),
    ),
    "a_refusal_that_is_no_request": Case(
        ("UPDATE requests SET request = '{' WHERE transaction_id = 'refused'",),
        (_WRONG, "requests", 8),
    ),
    "a_head_time_that_is_no_time": Case(
        ("UPDATE books SET head_recorded_at = 'later'",),
        (_WRONG, "books", 8),
        postgres=("UPDATE books SET head_recorded_at = '1999-01-01'",),
        postgres_found=(BreakKind.HEAD_MISMATCH, "books", 8),
    ),
    "a_bound_the_balance_breaks": Case(
        (
            "ALTER TABLE accounts DROP CONSTRAINT ck_accounts_minimum_holds",
            "ALTER TABLE accounts DROP CONSTRAINT ck_accounts_minimum_not_positive",
            "UPDATE accounts SET balance_minutes_min = 0 WHERE id = 'pool'",
        ),
        (BreakKind.BOUNDS_BROKEN, "accounts", 8),
    ),
    "the_book_row_deleted": Case(("DELETE FROM books",), (_WRONG, "books", 8)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_kind_of_tampering_is_named_never_raised(store: SqlStore, name: str) -> None:
    """Each tampering is the first break, by kind, table and sequence; verify does not raise."""
    case = CASES[name]
    _busy_book(store)
    postgres = store.engine.dialect.name == "postgresql"
    statements = case.statements
    if postgres:
        statements = case.postgres or statements
    elif statements[0].startswith("ALTER"):
        statements = tuple(s for s in statements if not s.startswith("ALTER"))
    _attack(store, statements)
    found = (postgres and case.postgres_found) or case.found
    report = Book(store, ManualClock(START), "centre").verify()
    assert report.first_break is not None
    assert (report.first_break.kind, report.first_break.table, report.first_break.sequence) == (
        found
    ), report.first_break


def test_the_command_reports_a_book_whose_row_was_removed(store: SqlStore) -> None:
    """timebank verify still finds a book whose row in books is gone, and names the break."""
    _busy_book(store)
    _attack(store, ("DELETE FROM books",))
    url = store.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(main, ["--lang", "en", "verify", "--database", url])
    assert result.exit_code == 1, result.output
    assert "centre: BROKEN row_invalid at sequence 8, table books:" in result.output


def test_the_command_names_the_sequence_and_table_of_an_unreadable_row(store: SqlStore) -> None:
    """A value no reader can take is a BROKEN line with its sequence and table, not a traceback."""
    _busy_book(store)
    _attack(
        store,
        ("DELETE FROM requests WHERE sequence = 5", "DELETE FROM transactions WHERE sequence = 5"),
    )
    url = store.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(main, ["--lang", "en", "verify", "--database", url])
    assert result.exit_code == 1, result.output
    assert "centre: BROKEN row_invalid at sequence 5, table transactions:" in result.output
