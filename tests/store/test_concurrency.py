"""Concurrent writers never lose an update, overdraw, double-spend, or leak a database error.

PostgreSQL runs threads in one process; SQLite runs processes, each with its
own store on one file. Every test starts its writers together with a barrier,
bounds its work by count, and waits with timeouts.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest

from tests.store import workers
from tests.store.workload import (
    BOOK_ID,
    HOT_ACCOUNTS,
    check_book,
    random_transfers,
    run_transfers,
    set_up_book,
)
from timebank.ledger import (
    Book,
    HoldNotPending,
    HoldStatus,
    Ledger,
    LedgerError,
    SystemClock,
    Transfer,
    credit,
    debit,
)
from timebank.store import open_store

T = TypeVar("T")
TIMEOUT_SECONDS = 120


def _together(count: int, job: Callable[[int, threading.Barrier], T]) -> list[T]:
    """Run ``job(index, barrier)`` on ``count`` threads released together; their results."""
    barrier = threading.Barrier(count, timeout=60)
    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(job, index, barrier) for index in range(count)]
        return [future.result(timeout=TIMEOUT_SECONDS) for future in futures]


# --- PostgreSQL: threads --------------------------------------------------------------


@pytest.mark.postgres
def test_eight_writers_on_ten_hot_accounts_keep_the_books(postgres_url: str) -> None:
    """8 threads x 500 random transfers, half of them in the opposite direction: no database
    error escapes, nothing is lost or overdrawn, and balances equal a replay of the journal."""
    with open_store(postgres_url, pool_size=8) as store:
        book = set_up_book(store)
        plans = [random_transfers(worker, 500, seed=1) for worker in range(8)]

        def job(index: int, barrier: threading.Barrier) -> tuple[int, int, list[str]]:
            barrier.wait()
            return run_transfers(book, plans[index])

        results = _together(8, job)
        assert [failure for _, _, failures in results for failure in failures] == []
        committed = sum(done for done, _, _ in results)
        assert committed + sum(refused for _, refused, _ in results) == 4_000
        assert committed > 1_000, "most transfers fit; a deadlock storm would refuse them"
        check_book(book)
        assert len(book.journal(after=0, limit=500)) == 500
        assert book.journal(after=0, limit=1)[0].sequence == 1
        head_records = 1 + len(HOT_ACCOUNTS)  # the opening transfers came first
        with store.read(BOOK_ID) as reader:
            assert reader.head().sequence == head_records - 1 + committed


@pytest.mark.postgres
def test_twenty_concurrent_copies_of_one_id_create_exactly_one(postgres_url: str) -> None:
    """20 simultaneous submissions of one new transaction id: one commit, 19 get it back."""
    with open_store(postgres_url, pool_size=20) as store:
        book = set_up_book(store)
        request = Transfer(
            transaction_id="the-one", postings=(debit("pool", 42), credit("hot-0", 42))
        )

        def job(index: int, barrier: threading.Barrier) -> object:
            barrier.wait()
            return book.submit(request)

        outcomes = _together(20, job)
        assert all(outcome == outcomes[0] for outcome in outcomes)
        assert [t.transaction_id for t in book.journal(limit=500)].count("the-one") == 1
        assert book.balance("hot-0").posted_minutes == 1_000 + 42
        check_book(book)


@pytest.mark.postgres
def test_post_and_void_race_has_exactly_one_winner(postgres_url: str) -> None:
    """Posting and voiding one hold at the same moment: exactly one succeeds, 20 times over."""
    with open_store(postgres_url, pool_size=4) as store:
        book = set_up_book(store)
        for round_number in range(20):
            hold_id = f"hold-{round_number}"
            book.hold(hold_id, [debit("hot-1", 10), credit("hot-2", 10)])

            def job(index: int, barrier: threading.Barrier, hold_id: str = hold_id) -> str:
                barrier.wait()
                try:
                    if index == 0:
                        book.post_hold(f"{hold_id}-post", hold_id)
                    else:
                        book.void_hold(f"{hold_id}-void", hold_id)
                except HoldNotPending:
                    return "lost"
                return "won"

            results = _together(2, job)
            assert sorted(results) == ["lost", "won"]
            status = book.hold_record(hold_id).status
            assert status is (HoldStatus.POSTED if results[0] == "won" else HoldStatus.VOIDED)
        check_book(book)
        assert book.balance("hot-1").debits_pending_minutes == 0


@pytest.mark.postgres
def test_every_snapshot_sums_to_zero_while_writers_run(postgres_url: str) -> None:
    """A reader taking snapshots during concurrent writes always sees a balanced book."""
    with open_store(postgres_url, pool_size=6) as store:
        book = set_up_book(store)
        done = threading.Event()
        plans = [random_transfers(worker, 150, seed=2) for worker in range(3)]

        def write(index: int) -> list[str]:
            failures: list[str] = []
            for number, transfer in enumerate(plans[index]):
                if number % 5 == 0:  # some holds too, so pending minutes move as well
                    _hold_and_release(book, f"{transfer.transaction_id}-h", number)
                failures += run_transfers(book, [transfer])[2]
            return failures

        def read() -> int:
            snapshots = 0
            while not done.is_set() or snapshots < 20:
                with store.read(BOOK_ID) as reader:
                    accounts = reader.accounts(after=None, limit=500)
                assert sum(a.posted_minutes for a in accounts) == 0
                debits = sum(a.debits_pending_minutes for a in accounts)
                assert debits == sum(a.credits_pending_minutes for a in accounts)
                snapshots += 1
                assert snapshots < 100_000
            return snapshots

        barrier = threading.Barrier(4, timeout=60)
        with ThreadPoolExecutor(max_workers=4) as pool:
            reader = pool.submit(lambda: (barrier.wait(), read())[1])
            writers = [pool.submit(lambda i=i: (barrier.wait(), write(i))[1]) for i in range(3)]
            try:
                failures = [f for w in writers for f in w.result(timeout=TIMEOUT_SECONDS)]
            finally:
                done.set()
            snapshots = reader.result(timeout=TIMEOUT_SECONDS)
        assert failures == []
        assert snapshots >= 20
        check_book(book)


def _hold_and_release(book: Book, hold_id: str, number: int) -> None:
    try:
        book.hold(hold_id, [debit("hot-3", 1), credit("hot-4", 1)])
        if number % 2:
            book.void_hold(f"{hold_id}-void", hold_id)
    except LedgerError:
        pass


# --- SQLite: processes ---------------------------------------------------------------


def _spawn(target: Callable[..., None], *args_per_process: tuple[object, ...]) -> None:
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=target, args=args) for args in args_per_process]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=TIMEOUT_SECONDS)
    for process in processes:
        if process.is_alive():
            process.kill()
    assert [process.exitcode for process in processes] == [0] * len(processes)


def test_sqlite_processes_keep_the_books(sqlite_url: str) -> None:
    """4 processes x 150 random transfers on one SQLite file: nothing lost, nothing overdrawn."""
    with open_store(sqlite_url) as store:
        set_up_book(store)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(4)
    results = context.Queue()
    _spawn(
        workers.transfer_worker,
        *[(sqlite_url, worker, 150, 3, barrier, results) for worker in range(4)],
    )
    outcomes = [results.get(timeout=10) for _ in range(4)]
    assert [failure for outcome in outcomes for failure in outcome[3]] == []
    committed = sum(outcome[1] for outcome in outcomes)
    assert committed + sum(outcome[2] for outcome in outcomes) == 600
    with open_store(sqlite_url, migrate=False) as store:
        book = Ledger(store, clock=SystemClock()).book(BOOK_ID)
        check_book(book)
        with store.read(BOOK_ID) as reader:
            assert reader.head().sequence == len(HOT_ACCOUNTS) + committed


def test_sqlite_processes_submitting_one_id_create_exactly_one(sqlite_url: str) -> None:
    """6 processes submitting one new transaction id together: one commit, the rest replay it."""
    with open_store(sqlite_url) as store:
        set_up_book(store)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(6)
    results = context.Queue()
    _spawn(
        workers.duplicate_worker, *[(sqlite_url, worker, barrier, results) for worker in range(6)]
    )
    outcomes = [results.get(timeout=10) for _ in range(6)]
    assert [error for _, _, error in outcomes if error is not None] == []
    transactions = [transaction for _, transaction, _ in outcomes]
    assert all(transaction == transactions[0] for transaction in transactions)
    with open_store(sqlite_url, migrate=False) as store:
        book = Ledger(store, clock=SystemClock()).book(BOOK_ID)
        assert [t.transaction_id for t in book.journal(limit=500)].count("the-one") == 1
        assert book.balance("hot-0").posted_minutes == 1_042
        check_book(book)
