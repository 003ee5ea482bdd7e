"""Helpers shared by the store benchmarks: timing, medians, and raw-driver baselines.

The baselines do the same writes as the store, on the same schema (migrated
by the store itself), straight through the driver: per transfer, look up the
book head, the transaction id and the two accounts, insert the journal row,
two postings and the idempotency row, update two balances and the head. The
ratio store/baseline is what the store's layers (SQLAlchemy Core, the ledger
core's checks and hashing) cost on top of the driver.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from timebank.ledger import Book, Ledger, ManualClock, credit, debit
from timebank.store import SqlStore

START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
RUNS = 3


def median_rate(runs: int, one_run: Callable[[int], tuple[int, float]]) -> float:
    """Median operations per second over ``runs`` runs of ``one_run(run) -> (ops, seconds)``."""
    rates = []
    for run in range(runs):
        operations, seconds = one_run(run)
        rates.append(operations / seconds)
    return statistics.median(rates)


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def new_book(store: SqlStore, book_id: str, accounts: int = 2) -> Book:
    clock = ManualClock(START, tick=timedelta(microseconds=1))
    book = Ledger(store, clock=clock).create_book(book_id)
    book.open_account("pool", balance_minutes_min=None)
    for number in range(accounts):
        book.open_account(f"member-{number}")
    return book


def transfer_args(number: int, accounts: int = 2) -> tuple[str, list[Any]]:
    return f"t{number}", [debit("pool", 1), credit(f"member-{number % accounts}", 1)]


def fake_hash(number: int) -> str:
    return hashlib.sha256(str(number).encode()).hexdigest()


def report(title: str, rows: list[tuple[str, float, str]]) -> None:
    print(f"\n{title}")
    for name, value, unit in rows:
        print(f"  {name:<52} {value:>12,.0f} {unit}")
