"""A 50-entry statement page on an account with 1,000,000 postings (SQLite).

Run: .venv/bin/python bench/store_statement.py [postings]. The history is
written straight into the tables with one recursive INSERT ... SELECT (a read
benchmark needs the rows, not a million ledger decisions); pages are then read
through the ledger at random cursors. Prints p50 and p99 over 500 pages, and a
raw sqlite3 baseline running the same two indexed queries. Target: p99 < 20 ms.
"""

from __future__ import annotations

import random
import sqlite3
import statistics
import sys
import tempfile
import time

from store_common import START, fake_hash, new_book

from timebank.ledger import Ledger
from timebank.store import open_store

PAGES = 500


def build(path: str, postings: int) -> None:
    with open_store(path) as store:
        new_book(store, "b", accounts=1)
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("BEGIN")
    when = str(START.replace(tzinfo=None))
    connection.execute(
        "INSERT INTO transactions"
        " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
        " SELECT 'b', i, 't' || i, 'transfer', '', '{}', ?, NULL, NULL, NULL, ?, ? FROM n",
        (postings, when, fake_hash(0), fake_hash(1)),
    )
    for index, account, side, sign in ((0, "pool", "debit", -1), (1, "member-0", "credit", 1)):
        connection.execute(
            "INSERT INTO postings"
            " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
            " SELECT 'b', i, ?, ?, ?, 1, ? * i, 0, 0 FROM n",
            (postings, index, account, side, sign),
        )
    connection.execute(
        "UPDATE accounts SET posted_minutes = CASE id WHEN 'pool' THEN ? ELSE ? END",
        (-postings, postings),
    )
    connection.execute("UPDATE books SET head_sequence = ?", (postings,))
    connection.execute("COMMIT")
    connection.execute("ANALYZE")
    connection.close()


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.99 * (len(ordered) - 1))]


def main() -> None:
    postings = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    chooser = random.Random(7)
    cursors = [chooser.randrange(0, postings - 50) for _ in range(PAGES)]
    with tempfile.TemporaryDirectory() as directory:
        path = f"{directory}/statement.db"
        started = time.perf_counter()
        build(path, postings)
        print(f"built {postings:,} postings per account in {time.perf_counter() - started:.1f} s")
        with open_store(path, migrate=False) as store:
            book = Ledger(store).book("b")
            store_ms = []
            for after in cursors:
                began = time.perf_counter()
                page = book.statement("member-0", after=after, limit=50)
                store_ms.append(1000 * (time.perf_counter() - began))
                assert len(page.entries) == 50
                assert page.entries[0].posted_delta_minutes == 1
        raw_ms = []
        connection = sqlite3.connect(path)
        for after in cursors:
            began = time.perf_counter()
            connection.execute(
                "SELECT p.sequence, p.posted_minutes, t.transaction_id, t.recorded_at"
                " FROM postings p JOIN transactions t"
                " ON t.book_id = p.book_id AND t.sequence = p.sequence"
                " WHERE p.book_id = 'b' AND p.account_id = 'member-0' AND p.sequence > ?"
                " ORDER BY p.sequence LIMIT 51",
                (after,),
            ).fetchall()
            connection.execute(
                "SELECT posted_minutes FROM postings WHERE book_id = 'b'"
                " AND account_id = 'member-0' AND sequence <= ? ORDER BY sequence DESC LIMIT 1",
                (after,),
            ).fetchall()
            raw_ms.append(1000 * (time.perf_counter() - began))
        connection.close()
    store_p50, store_p99 = percentiles(store_ms)
    raw_p50, raw_p99 = percentiles(raw_ms)
    print(f"\nStatement page of 50 on an account with {postings:,} postings ({PAGES} pages)")
    print(f"  store (Book.statement)  p50 {store_p50:6.2f} ms  p99 {store_p99:6.2f} ms (target 20)")
    print(f"  raw sqlite3, same SQL   p50 {raw_p50:6.2f} ms  p99 {raw_p99:6.2f} ms")


if __name__ == "__main__":
    main()
