"""SQLite write throughput: one transfer per commit, and 1,000 per commit via submit_many.

Run: .venv/bin/python bench/store_sqlite.py. Prints the median of three runs
for the store and for a raw stdlib ``sqlite3`` baseline doing the same reads
and writes on the same schema (WAL, synchronous=NORMAL, BEGIN IMMEDIATE).
Targets: >= 5,000/s one per commit; >= 30,000/s with 1,000 per commit.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from datetime import timedelta

from store_common import (
    RUNS,
    START,
    fake_hash,
    median_rate,
    new_book,
    report,
    timed,
)

from timebank.ledger import Transfer, credit, debit
from timebank.store import open_store

SINGLE = 2_000
BATCHED = 20_000
BATCH = 1_000


def store_single(run: int) -> tuple[int, float]:
    with tempfile.TemporaryDirectory() as directory, open_store(f"{directory}/s.db") as store:
        book = new_book(store, "b")

        def work() -> None:
            for number in range(SINGLE):
                book.transfer(f"t{number}", [debit("pool", 1), credit(f"member-{number % 2}", 1)])

        return SINGLE, timed(work)


def store_batched(run: int) -> tuple[int, float]:
    with tempfile.TemporaryDirectory() as directory, open_store(f"{directory}/s.db") as store:
        book = new_book(store, "b")

        def work() -> None:
            for start in range(0, BATCHED, BATCH):
                book.submit_many(
                    Transfer(
                        transaction_id=f"t{number}",
                        postings=(debit("pool", 1), credit(f"member-{number % 2}", 1)),
                    )
                    for number in range(start, start + BATCH)
                )

        return BATCHED, timed(work)


def _raw_connection(path: str) -> sqlite3.Connection:
    open_store(path).close()  # the same schema, constraints and triggers as the store
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("INSERT INTO books VALUES ('b', 0, ?, NULL)", (fake_hash(0),))
    for account in ("pool", "member-0", "member-1"):
        connection.execute(
            "INSERT INTO accounts VALUES ('b', ?, NULL, NULL, '{}', ?, NULL, 0, 0, 0)",
            (account, str(START)),
        )
    return connection


def _raw_transfer(cursor: sqlite3.Cursor, number: int) -> None:
    member = f"member-{number % 2}"
    sequence = number + 1
    when = str(START + timedelta(microseconds=number))
    cursor.execute("SELECT head_sequence, head_hash FROM books WHERE id = 'b'").fetchone()
    cursor.execute(
        "SELECT sequence FROM requests WHERE book_id = 'b' AND transaction_id = ?", (f"t{number}",)
    ).fetchone()
    balances = cursor.execute(
        "SELECT id, posted_minutes FROM accounts WHERE book_id = 'b' AND id IN (?, ?)",
        ("pool", member),
    ).fetchall()
    assert len(balances) == 2
    cursor.execute(
        "INSERT INTO transactions VALUES ('b', ?, ?, 'transfer', '', '{}', ?, NULL, NULL, NULL,"
        " ?, ?)",
        (sequence, f"t{number}", when, fake_hash(number), fake_hash(sequence)),
    )
    cursor.executemany(
        "INSERT INTO postings VALUES ('b', ?, ?, ?, ?, 1, ?, 0, 0)",
        [(sequence, 0, "pool", "debit", -sequence), (sequence, 1, member, "credit", sequence)],
    )
    cursor.executemany(
        "UPDATE accounts SET posted_minutes = posted_minutes + ? WHERE book_id = 'b' AND id = ?",
        [(-1, "pool"), (1, member)],
    )
    cursor.execute("INSERT INTO requests VALUES ('b', ?, '{}', ?, NULL)", (f"t{number}", sequence))
    cursor.execute(
        "UPDATE books SET head_sequence = ?, head_hash = ?, head_recorded_at = ? WHERE id = 'b'",
        (sequence, fake_hash(sequence), when),
    )


def raw_single(run: int) -> tuple[int, float]:
    with tempfile.TemporaryDirectory() as directory:
        connection = _raw_connection(os.path.join(directory, "r.db"))
        cursor = connection.cursor()

        def work() -> None:
            for number in range(SINGLE):
                cursor.execute("BEGIN IMMEDIATE")
                _raw_transfer(cursor, number)
                cursor.execute("COMMIT")

        seconds = timed(work)
        connection.close()
        return SINGLE, seconds


def raw_batched(run: int) -> tuple[int, float]:
    with tempfile.TemporaryDirectory() as directory:
        connection = _raw_connection(os.path.join(directory, "r.db"))
        cursor = connection.cursor()

        def work() -> None:
            for start in range(0, BATCHED, BATCH):
                cursor.execute("BEGIN IMMEDIATE")
                for number in range(start, start + BATCH):
                    _raw_transfer(cursor, number)
                cursor.execute("COMMIT")

        seconds = timed(work)
        connection.close()
        return BATCHED, seconds


def main() -> None:
    single = median_rate(RUNS, store_single)
    single_raw = median_rate(RUNS, raw_single)
    batched = median_rate(RUNS, store_batched)
    batched_raw = median_rate(RUNS, raw_batched)
    report(
        f"SQLite, WAL, synchronous=NORMAL (median of {RUNS} runs)",
        [
            ("store: one transfer per commit", single, "transfers/s (target 5,000)"),
            ("raw sqlite3: one per commit", single_raw, "transfers/s"),
            ("ratio store/raw, one per commit (%)", 100 * single / single_raw, "%"),
            ("store: 1,000 per commit (submit_many)", batched, "transfers/s (target 30,000)"),
            ("raw sqlite3: 1,000 per commit", batched_raw, "transfers/s"),
            ("ratio store/raw, 1,000 per commit (%)", 100 * batched / batched_raw, "%"),
        ],
    )


if __name__ == "__main__":
    main()
