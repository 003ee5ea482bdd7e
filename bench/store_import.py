"""Import 1,000,000 transactions into SQLite, streaming, and report the peak memory.

Run: .venv/bin/python bench/store_import.py [transactions]. Requests are
generated lazily and submitted 1,000 per unit with ``Book.submit_many``; the
store never holds more than one batch. Prints the rate and the process's peak
resident memory (target < 300 MB).
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from itertools import islice

from store_common import new_book

from timebank.ledger import Transfer, credit, debit
from timebank.store import open_store

BATCH = 1_000


def requests(count: int) -> Iterator[Transfer]:
    for number in range(count):
        amount = 1 + number % 60
        yield Transfer(
            transaction_id=f"paper-{number}",
            postings=(debit("pool", amount), credit(f"member-{number % 50}", amount)),
            code="import",
        )


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as directory, open_store(f"{directory}/i.db") as store:
        book = new_book(store, "b", accounts=50)
        stream = requests(count)
        started = time.perf_counter()
        imported = 0
        while batch := list(islice(stream, BATCH)):
            outcomes = book.submit_many(batch)
            imported += len(outcomes)
        seconds = time.perf_counter() - started
        verify_started = time.perf_counter()
        report = book.statements.verify()
        verify_seconds = time.perf_counter() - verify_started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nStreaming import into SQLite, {BATCH:,} per unit")
    print(f"  imported          {imported:>12,} transactions in {seconds:.1f} s")
    print(f"  rate              {imported / seconds:>12,.0f} transactions/s")
    print(f"  peak memory       {peak_mb:>12,.0f} MB (target 300)")
    verdict = "ok" if report.ok else report.first_break
    print(f"  verify            {verdict} in {verify_seconds:.1f} s")


if __name__ == "__main__":
    main()
