"""Workloads shared by the concurrency tests: threads here, processes through ``workers``.

Ten hot accounts move minutes among themselves; half the moves go the
opposite way of the other half, so writers that locked in request order would
deadlock. Every outcome is either a committed transfer or a ledger rule
(``InsufficientMinutes``); anything else is a failure the tests report.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime

from timebank.ledger import (
    Book,
    InsufficientMinutes,
    Kind,
    Ledger,
    LedgerStore,
    SystemClock,
    Transfer,
    credit,
    debit,
)

BOOK_ID = "centre"
HOT_ACCOUNTS = tuple(f"hot-{number}" for number in range(10))
OPENING_MINUTES = 1_000
START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def set_up_book(store: LedgerStore) -> Book:
    """A book whose hot accounts each start with OPENING_MINUTES from an unbounded pool."""
    book = Ledger(store, clock=SystemClock()).create_book(BOOK_ID)
    book.open_account("pool", balance_minutes_min=None)
    for account_id in HOT_ACCOUNTS:
        book.open_account(account_id)
        book.transfer(
            f"open-{account_id}",
            [debit("pool", OPENING_MINUTES), credit(account_id, OPENING_MINUTES)],
        )
    return book


def random_transfers(worker: int, count: int, seed: int) -> list[Transfer]:
    """``count`` transfers between hot accounts; odd ones reverse the previous pair."""
    chooser = random.Random(seed * 1_000 + worker)
    result = []
    for number in range(count):
        if number % 2 and result:
            previous = result[-1].postings
            giver, taker = previous[1].account_id, previous[0].account_id
        else:
            giver, taker = chooser.sample(HOT_ACCOUNTS, 2)
        amount = chooser.choice((1, 7, 50, 300, OPENING_MINUTES))
        result.append(
            Transfer(
                transaction_id=f"w{worker}-{number}",
                postings=(debit(giver, amount), credit(taker, amount)),
            )
        )
    return result


def run_transfers(book: Book, transfers: Sequence[Transfer]) -> tuple[int, int, list[str]]:
    """Submit each transfer; returns (committed, refused on a rule, unexpected failures)."""
    committed = refused = 0
    failures: list[str] = []
    for transfer in transfers:
        try:
            book.submit(transfer)
        except InsufficientMinutes:
            refused += 1
        except Exception as error:
            failures.append(f"{transfer.transaction_id}: {type(error).__name__}: {error}")
        else:
            committed += 1
    return committed, refused, failures


def check_book(book: Book) -> None:
    """Conservation, bounds, and balances equal to a replay of the journal."""
    accounts = book.accounts(limit=500)
    assert sum(a.posted_minutes for a in accounts) == 0
    assert all(a.available_minutes >= 0 for a in accounts if a.account_id != "pool")
    replayed: dict[str, int] = {}
    after = 0
    while page := book.journal(after=after, limit=500):
        for record in page:
            if record.kind not in (Kind.TRANSFER, Kind.POST, Kind.REVERSAL):
                after = record.sequence
                continue  # holds, voids and expiries move pending minutes only
            for posting in record.postings:
                sign = 1 if posting.side == "credit" else -1
                replayed[posting.account_id] = (
                    replayed.get(posting.account_id, 0) + sign * posting.amount_minutes
                )
            after = record.sequence
    assert {a.account_id: a.posted_minutes for a in accounts} == replayed
    report = book.verify()
    assert report.ok, report.first_break
