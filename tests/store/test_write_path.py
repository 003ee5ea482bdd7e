"""The write path's driver-level statements: batched lookups, statement counts, round trips."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Connection, event

from timebank.ledger import Ledger, ManualClock, Transfer, credit, debit
from timebank.ledger.errors import AmountNotInteger, BookNotFound
from timebank.ledger.model import Posting, Side
from timebank.store import SqlStore


@contextmanager
def counted(store: SqlStore) -> Iterator[list[str]]:
    """Every statement the store sends, SQLAlchemy's and the driver-level ones alike."""
    seen: list[str] = []

    def hook(connection: Connection, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.split()[0].upper())

    event.listen(store.engine, "before_cursor_execute", hook)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", hook)


def test_find_many_matches_find_for_every_kind_of_outcome(
    store: SqlStore, clock: ManualClock
) -> None:
    """Committed, refused and unknown ids: one batched lookup gives what find gives one by one."""
    book = Ledger(store, clock=clock).create_book("b")
    book.open_account("pool", balance_minutes_min=None)
    book.open_account("ana")
    book.transfer("t-1", [debit("pool", 5), credit("ana", 5)], metadata={"why": "visit"})
    odd = Transfer(
        transaction_id="t-2",
        postings=(
            Posting(account_id="pool", side=Side.DEBIT, amount_minutes=1.5),  # type: ignore[arg-type]
            Posting(account_id="ana", side=Side.CREDIT, amount_minutes=1.5),  # type: ignore[arg-type]
        ),
    )
    assert isinstance(book.submit_many([odd])[0], AmountNotInteger)
    ids = ["t-1", "t-2", "never", "t-1"]
    with store.read("b") as reader:
        many = reader.find_many(ids)
        one = {i: reader.find(i) for i in ids}
    assert set(many) == {"t-1", "t-2"}
    assert many == {i: found for i, found in one.items() if found is not None}

    def inside(unit: Any) -> dict[str, Any]:
        return dict(unit.find_many(ids))

    assert store.transact("b", inside) == many


def test_a_transfer_is_one_lookup_one_lock_and_five_writes(
    store: SqlStore, clock: ManualClock
) -> None:
    """Head, idempotency probe, account rows, then one statement per table written."""
    book = Ledger(store, clock=clock).create_book("b")
    book.open_account("pool", balance_minutes_min=None)
    book.open_account("ana")
    with counted(store) as seen:
        book.transfer("t-1", [debit("pool", 5), credit("ana", 5)])
    writes = [s for s in seen if s in ("INSERT", "UPDATE")]
    reads = [s for s in seen if s == "SELECT"]
    assert len(reads) == 3
    assert len(writes) == 5


def test_a_batch_looks_its_ids_up_at_once(store: SqlStore, clock: ManualClock) -> None:
    """submit_many of 200 new transfers: a constant number of statements, not one per request."""
    book = Ledger(store, clock=clock).create_book("b")
    book.open_account("pool", balance_minutes_min=None)
    book.open_account("ana")
    batch = [
        Transfer(transaction_id=f"t-{n}", postings=(debit("pool", 1), credit("ana", 1)))
        for n in range(200)
    ]
    with counted(store) as seen:
        outcomes = book.submit_many(batch)
    assert [o.sequence for o in outcomes] == list(range(1, 201))  # type: ignore[union-attr]
    assert len(seen) <= 10
    with counted(store) as seen:
        again = book.submit_many(batch)
    assert again == outcomes
    assert len(seen) <= 10
    assert book.verify().ok


def test_a_bulk_unit_plans_its_checks_for_the_rows_it_writes(
    store: SqlStore, clock: ManualClock
) -> None:
    """On PostgreSQL a unit that writes many journal rows asks for plans made per row for the
    rest of its transaction (the foreign-key and balance checks), once; a single write and
    SQLite never do."""
    book = Ledger(store, clock=clock).create_book("b")
    book.open_account("pool", balance_minutes_min=None)
    book.open_account("ana")
    with counted(store) as single:
        book.transfer("t-0", [debit("pool", 1), credit("ana", 1)])
    batch = [
        Transfer(transaction_id=f"t-{n}", postings=(debit("pool", 1), credit("ana", 1)))
        for n in range(1, 101)
    ]
    with counted(store) as bulk:
        book.submit_many(batch)
    assert "SET" not in single
    expected = 1 if store.engine.dialect.name == "postgresql" else 0
    assert bulk.count("SET") == expected
    assert book.balance("ana").posted_minutes == 101
    assert book.verify().ok


def test_a_unit_of_an_unknown_book_is_refused_even_if_it_reads_nothing(store: SqlStore) -> None:
    with pytest.raises(BookNotFound):
        store.transact("nobody", lambda unit: None)


def test_a_failed_unit_leaves_no_transaction_open(store: SqlStore, clock: ManualClock) -> None:
    """A unit that read through the driver, then failed in a SQLAlchemy statement, rolls back
    the one database transaction both were in and hands its connection back idle."""
    book = Ledger(store, clock=clock).create_book("b")
    book.open_account("pool", balance_minutes_min=None)

    class Boom(Exception):
        pass

    def hook(connection: Connection, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("INSERT INTO accounts"):
            raise Boom

    event.listen(store.engine, "before_cursor_execute", hook)
    try:
        with pytest.raises(Boom):
            book.open_account("ana")
    finally:
        event.remove(store.engine, "before_cursor_execute", hook)
    with store.engine.connect() as connection:
        raw: Any = connection.connection.driver_connection
        if store.engine.dialect.name == "sqlite":
            assert not raw.in_transaction
        else:
            assert raw.info.transaction_status == 0  # IDLE
    assert book.accounts() == [book.account("pool")]
    book.open_account("ana")
    book.transfer("t-1", [debit("pool", 5), credit("ana", 5)])
    assert book.balance("ana").posted_minutes == 5
    assert book.verify().ok
