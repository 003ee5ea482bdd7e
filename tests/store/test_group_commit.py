"""Group commit: units of one book queued behind a running one share one transaction, each in
its own savepoint; every caller still gets the outcome of its own work, and the chain is one."""

from __future__ import annotations

import itertools
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import ContextVar
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy import Connection

from tests.store.workload import BOOK_ID, HOT_ACCOUNTS, OPENING_MINUTES, check_book, set_up_book
from timebank.ledger import Book, InsufficientMinutes, Rejection, Transfer, credit, debit
from timebank.ledger.port import LedgerUnit
from timebank.store import SqlStore, StoreFailed, open_store
from timebank.store.unit import SqlUnit

QUEUED = 15


class Refusal(Exception):
    """Raised by a test's unit after it wrote, to be rolled back alone."""


def _move(number: int, amount: int = 3) -> Transfer:
    giver, taker = HOT_ACCOUNTS[number % 10], HOT_ACCOUNTS[(number + 1) % 10]
    return Transfer(
        transaction_id=f"g-{number}", postings=(debit(giver, amount), credit(taker, amount))
    )


def _submitting(book: Book, number: int) -> Callable[[], Any]:
    return lambda: book.submit(_move(number))


def _queued(store: SqlStore) -> int:
    group = store._groups.get(BOOK_ID)
    return 0 if group is None else len(group._queue)


def _behind_a_held_unit(store: SqlStore, jobs: list[Callable[[], Any]]) -> list[Future[Any]]:
    """Run ``jobs`` on threads while a first unit of the book holds its transaction open, so
    they all queue behind it; release it once every job waits. The jobs' futures, in order."""
    entered = threading.Event()
    gate = threading.Event()

    def held(unit: LedgerUnit) -> None:
        unit.head()
        entered.set()
        assert gate.wait(60)

    with ThreadPoolExecutor(max_workers=len(jobs) + 1) as pool:
        first = pool.submit(store.transact, BOOK_ID, held)
        assert entered.wait(60)  # the held unit leads; everything after it queues
        deadline = time.monotonic() + 60
        futures = []
        for job in jobs:
            before = _queued(store)
            futures.append(pool.submit(job))
            while _queued(store) == before and time.monotonic() < deadline:
                time.sleep(0.002)  # keep the arrival order the jobs' order
        gate.set()
        first.result(timeout=60)
        for future in futures:
            future.exception(timeout=120)
    return futures


def test_queued_units_share_one_transaction_and_keep_one_chain(store: SqlStore) -> None:
    book = set_up_book(store)
    head = book.journal(after=0, limit=500)[-1].sequence
    futures = _behind_a_held_unit(store, [_submitting(book, n) for n in range(QUEUED)])
    records = [future.result() for future in futures]
    assert store.grouped == {"groups": 1, "units": QUEUED}
    # In arrival order, one after another on the chain.
    assert [record.sequence for record in records] == list(range(head + 1, head + 1 + QUEUED))
    assert [record.transaction_id for record in records] == [f"g-{n}" for n in range(QUEUED)]
    for earlier, later in itertools.pairwise(records):
        assert later.previous_hash == earlier.hash
    assert book.verify().ok
    check_book(book)
    moved = dict.fromkeys(HOT_ACCOUNTS, OPENING_MINUTES)
    for number in range(QUEUED):
        moved[HOT_ACCOUNTS[number % 10]] -= 3
        moved[HOT_ACCOUNTS[(number + 1) % 10]] += 3
    assert {a: book.balance(a).posted_minutes for a in HOT_ACCOUNTS} == moved


def test_a_unit_that_raises_rolls_back_alone_and_a_refusal_is_its_own(store: SqlStore) -> None:
    """Of a group: a unit that wrote and then raised leaves no trace and its caller gets its
    exception; an overdraft is refused (and its rejection kept) for its caller only."""
    book = set_up_book(store)

    def wrote_then_raised(number: int) -> Callable[[], Any]:
        def work(unit: LedgerUnit) -> None:
            book.apply_in(unit, _move(number))
            raise Refusal(number)

        return lambda: store.transact(BOOK_ID, work)

    overdraft = Transfer(
        transaction_id="g-overdraft",
        postings=(debit("hot-3", OPENING_MINUTES * 5), credit("hot-4", OPENING_MINUTES * 5)),
    )
    jobs: list[Callable[[], Any]] = [_submitting(book, n) for n in range(QUEUED)]
    jobs[4] = wrote_then_raised(4)
    jobs[9] = lambda: book.submit(overdraft)
    jobs[12] = wrote_then_raised(12)
    futures = _behind_a_held_unit(store, jobs)

    assert store.grouped == {"groups": 1, "units": QUEUED}
    for number, future in enumerate(futures):
        error = future.exception()
        if number in (4, 12):
            assert isinstance(error, Refusal)
            assert error.args == (number,)
        elif number == 9:
            assert isinstance(error, InsufficientMinutes)
        else:
            assert error is None
            assert future.result().transaction_id == f"g-{number}"
    with store.read(BOOK_ID) as reader:
        assert reader.find("g-4") is None
        assert reader.find("g-12") is None
        assert isinstance(reader.find("g-overdraft"), Rejection)
        assert reader.find("g-13") is not None
    committed = [record.transaction_id for record in book.journal(after=0, limit=500)]
    assert [t for t in committed if t.startswith("g-")] == [
        f"g-{n}" for n in range(QUEUED) if n not in (4, 9, 12)
    ]
    assert book.verify().ok
    check_book(book)


def test_a_database_error_in_a_group_runs_each_unit_alone(store: SqlStore) -> None:
    """A statement the database refuses fails its own caller (StoreFailed) and nobody else:
    the group is undone and each of its units runs again in a transaction of its own."""
    book = set_up_book(store)
    runs: list[int] = []

    def bad_statement(connection: Connection, unit: SqlUnit) -> None:
        runs.append(1)
        unit.head()
        connection.execute(sa.text("SELECT * FROM no_such_table"))

    jobs: list[Callable[[], Any]] = [_submitting(book, n) for n in range(QUEUED)]
    jobs[6] = lambda: store.run_unit(BOOK_ID, bad_statement)
    futures = _behind_a_held_unit(store, jobs)

    assert store.grouped == {}, "the group was not committed"
    assert len(runs) == 2, "once in the group, once alone"
    for number, future in enumerate(futures):
        if number == 6:
            assert isinstance(future.exception(), StoreFailed)
        else:
            assert future.result().transaction_id == f"g-{number}"
    assert book.verify().ok
    check_book(book)


def _busy(store: SqlStore) -> sa.exc.OperationalError:
    """The error a busy database gives (worth another attempt), as the driver would raise it."""
    cause: Exception
    if store.engine.dialect.name == "sqlite":
        cause = sqlite3.OperationalError("database is locked")
        cause.sqlite_errorcode = 5
    else:
        cause = psycopg.errors.SerializationFailure("could not serialize access")
    return sa.exc.OperationalError("SELECT 1", (), cause)


def test_a_transient_failure_runs_the_whole_group_again_once(store: SqlStore) -> None:
    book = set_up_book(store)
    runs: list[int] = []

    def busy_once(unit: LedgerUnit) -> str:
        runs.append(1)
        book.apply_in(unit, _move(100))
        if len(runs) == 1:
            raise _busy(store)
        return "done"

    jobs: list[Callable[[], Any]] = [_submitting(book, n) for n in range(QUEUED)]
    jobs[7] = lambda: store.transact(BOOK_ID, busy_once)
    futures = _behind_a_held_unit(store, jobs)

    assert len(runs) == 2
    assert store.retries == {"contention": 1}
    assert store.grouped == {"groups": 1, "units": QUEUED}
    assert futures[7].result() == "done"
    ids = [record.transaction_id for record in book.journal(after=0, limit=500)]
    assert ids.count("g-100") == 1
    for number in range(QUEUED):
        if number != 7:
            assert ids.count(f"g-{number}") == 1
    assert book.verify().ok
    check_book(book)


def test_each_unit_sees_its_callers_context(store: SqlStore) -> None:
    set_up_book(store)
    caller: ContextVar[int | None] = ContextVar("caller", default=None)

    def job(number: int) -> Callable[[], Any]:
        def call() -> Any:
            caller.set(number)
            return store.transact(BOOK_ID, lambda unit: caller.get())

        return call

    futures = _behind_a_held_unit(store, [job(n) for n in range(QUEUED)])
    assert [future.result() for future in futures] == list(range(QUEUED))
    assert store.grouped == {"groups": 1, "units": QUEUED}


def test_without_group_commit_each_unit_has_its_own_transaction(store_url: str) -> None:
    with open_store(store_url, group_commit=False) as store:
        book: Book = set_up_book(store)

        def job(number: int) -> Any:
            return book.submit(_move(number))

        with ThreadPoolExecutor(max_workers=8) as pool:
            records = list(pool.map(job, range(40)))
        assert store.grouped == {}
        assert len({record.sequence for record in records}) == 40
        assert book.verify().ok
        check_book(book)
