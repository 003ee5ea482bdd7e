"""Process entry points for the multi-process SQLite tests (importable under ``spawn``)."""

from __future__ import annotations

from multiprocessing.synchronize import Barrier, Event
from typing import Any

from tests.store.workload import BOOK_ID, random_transfers, run_transfers
from timebank.ledger import Ledger, SystemClock, Transfer, credit, debit
from timebank.store import open_store


def transfer_worker(
    url: str, worker: int, count: int, seed: int, barrier: Barrier, results: Any
) -> None:
    """Run ``count`` random hot-account transfers, starting with the other workers."""
    with open_store(url, migrate=False) as store:
        book = Ledger(store, clock=SystemClock()).book(BOOK_ID)
        transfers = random_transfers(worker, count, seed)
        barrier.wait(timeout=60)
        results.put((worker, *run_transfers(book, transfers), store.retries))


def duplicate_worker(url: str, worker: int, barrier: Barrier, results: Any) -> None:
    """Submit the one shared transaction id at the same moment as the other workers."""
    with open_store(url, migrate=False) as store:
        book = Ledger(store, clock=SystemClock()).book(BOOK_ID)
        request = Transfer(
            transaction_id="the-one", postings=(debit("pool", 42), credit("hot-0", 42))
        )
        barrier.wait(timeout=60)
        try:
            results.put((worker, book.submit(request), None))
        except Exception as error:
            results.put((worker, None, f"{type(error).__name__}: {error}"))


def bulk_import_worker(url: str, batch: int, batches: int, started: Event) -> None:
    """Import batches of transfers, one unit each, until killed; signals after three."""
    with open_store(url, migrate=False) as store:
        book = Ledger(store, clock=SystemClock()).book(BOOK_ID)
        for number in range(batches):
            book.submit_many(
                Transfer(
                    transaction_id=f"import-{number}-{index}",
                    postings=(debit("pool", 1), credit(f"hot-{index % 10}", 1)),
                )
                for index in range(batch)
            )
            if number == 2:
                started.set()
