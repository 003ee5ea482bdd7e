"""verify() of a large SQLite book, full and incremental, against the raw cost of reading it.

Run: .venv/bin/python bench/verify.py [--transactions 1000000] [--runs 3] [--db PATH].
Builds a book of N transactions (transfers among 1,000 accounts, one in ten a hold, most
holds posted, some voided, one in a hundred transfers reversed; 1,000 requests per commit
through ``Book.submit_many``), or reuses the file given with ``--db`` when it already holds
the book. Then prints the median of ``--runs`` full verifies, the peak memory one verify
allocated (``tracemalloc``) and the process's peak resident memory, and a baseline measured
in the same run: stdlib ``sqlite3`` reading every transaction and posting row and hashing
each record's canonical bytes (``msgspec`` and ``hashlib``), the floor verify cannot beat.
Last, it appends ``--append`` more transactions (10,000 by default) to a copy of the book
and times the incremental verify from the checkpoint the full verify recorded.
Target: a full verify of 1,000,000 transactions in under 10 s.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

import msgspec
from store_common import new_book

from timebank.ledger import (
    Book,
    Hold,
    Ledger,
    PostHold,
    Request,
    Reverse,
    SystemClock,
    Transfer,
    VoidHold,
    credit,
    debit,
)
from timebank.store import open_store

BOOK = "b"
ACCOUNTS = 1_000
BATCH = 1_000


def requests(start: int, count: int) -> Iterator[Request]:
    """Request ``start`` to ``start + count``: mostly transfers, holds with their posts and voids,
    and reversals; every id depends only on its number, so a book can be extended."""
    for number in range(start, start + count):
        member = f"member-{number % ACCOUNTS}"
        amount = 1 + number % 60
        step = number % 100
        if step == 10 or step == 60:
            yield Hold(
                transaction_id=f"h{number}",
                postings=(debit("pool", amount), credit(member, amount)),
            )
        elif step == 15:
            yield PostHold(transaction_id=f"p{number}", hold_id=f"h{number - 5}")
        elif step == 65:
            yield VoidHold(transaction_id=f"v{number}", hold_id=f"h{number - 5}")
        elif step == 30:
            yield Reverse(transaction_id=f"r{number}", reverses_id=f"t{number - 1}")
        else:
            yield Transfer(
                transaction_id=f"t{number}",
                postings=(debit("pool", amount), credit(member, amount)),
                code="service",
                metadata={"n": str(number)},
            )


def submit(book: Book, start: int, count: int) -> None:
    stream = requests(start, count)
    while batch := list(islice(stream, BATCH)):
        for outcome in book.submit_many(batch):
            assert not isinstance(outcome, Exception), outcome


def build(path: str, count: int) -> None:
    if os.path.exists(path):
        with sqlite3.connect(path) as connection:
            row = connection.execute("SELECT head_sequence FROM books WHERE id = ?", (BOOK,))
            found = row.fetchone()
        if found is not None and found[0] == count:
            print(f"reusing {path}: {count:,} transactions")
            return
        os.remove(path)
    started = time.perf_counter()
    with open_store(path) as store:
        book = new_book(store, BOOK, accounts=ACCOUNTS)
        submit(book, 0, count)
    print(f"built {path}: {count:,} transactions in {time.perf_counter() - started:.0f} s")


def raw_floor(path: str) -> int:
    """Read every record and posting with sqlite3, encode each record with its postings
    as canonical JSON and hash it: what any verify must at least do."""
    connection = sqlite3.connect(path)
    encode = msgspec.json.Encoder(order="sorted").encode
    sha256 = hashlib.sha256
    records = connection.execute(
        "SELECT sequence, transaction_id, kind, code, metadata, recorded_at, effective_at,"
        " expires_at, related_id, previous_hash, hash FROM transactions WHERE book_id = ?"
        " ORDER BY sequence",
        (BOOK,),
    )
    legs = connection.execute(
        "SELECT sequence, account_id, side, amount_minutes FROM postings WHERE book_id = ?"
        " ORDER BY sequence, posting_index",
        (BOOK,),
    )
    leg = legs.fetchone()
    hashed = 0
    for record in records:
        sequence = record[0]
        postings = []
        while leg is not None and leg[0] == sequence:
            postings.append({"account_id": leg[1], "amount_minutes": leg[3], "side": leg[2]})
            leg = legs.fetchone()
        sha256(encode((BOOK, *record[:4], postings, *record[4:]))).hexdigest()
        hashed += 1
    connection.close()
    return hashed


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def traced(action: Callable[[], Any]) -> tuple[float, Any]:
    """Peak bytes that ``action`` allocated, and its result (not timed: tracing is slow)."""
    tracemalloc.start()
    try:
        result = action()
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--append", type=int, default=10_000)
    parser.add_argument("--db", help="keep the book in this file and reuse it between runs")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc run")
    options = parser.parse_args()
    count = options.transactions
    with tempfile.TemporaryDirectory() as directory:
        path = options.db or os.path.join(directory, "verify.db")
        build(path, count)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        verify_times, floor_times = [], []
        with open_store(path) as store:
            book = Ledger(store, clock=SystemClock()).book(BOOK)
            for _run in range(options.runs):
                seconds, report = timed(book.verify)
                assert report.ok, report.first_break
                assert report.transactions_checked == count
                verify_times.append(seconds)
                seconds, hashed = timed(lambda: raw_floor(path))
                assert hashed == count
                floor_times.append(seconds)
            rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            traced_peak = None if options.no_memory else traced(book.verify)[0]
        copy = os.path.join(directory, "appended.db")
        shutil.copyfile(path, copy)
        with open_store(copy) as store:
            book = Ledger(store, clock=SystemClock()).book(BOOK)
            checkpointed = book.verify(record_checkpoint=True)
            assert checkpointed.ok, checkpointed.first_break
            submit(book, count, options.append)
            incremental_seconds, incremental = timed(lambda: book.verify(since_checkpoint=True))
            assert incremental.ok, incremental.first_break
            assert incremental.transactions_checked == options.append, incremental
        verify = statistics.median(verify_times)
        floor = statistics.median(floor_times)
    print(f"\nverify() of a SQLite book, median of {options.runs} runs")
    rows = [
        (f"full verify, {count:,} transactions", f"{verify:.2f} s", "target < 10 s"),
        ("baseline: sqlite3 read + canonical JSON + SHA-256", f"{floor:.2f} s", ""),
        ("verify / baseline", f"{verify / floor:.1f}x", ""),
        (f"incremental verify after {options.append:,} more", f"{incremental_seconds:.2f} s", ""),
        (
            "peak memory allocated by one verify",
            "-" if traced_peak is None else f"{traced_peak / 2**20:.1f} MB",
            "tracemalloc",
        ),
        (
            "peak resident memory growth",
            f"{(rss_peak - rss_before) / 1024:.1f} MB",
            "ru_maxrss delta",
        ),
    ]
    for name, value, note in rows:
        print(f"  {name:<52} {value:>10}  {note}")


if __name__ == "__main__":
    sys.exit(main())
