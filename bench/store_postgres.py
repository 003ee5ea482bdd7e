"""PostgreSQL write throughput with 8 concurrent writers, and with all of them on one account.

Run: TIMEBANK_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \
     .venv/bin/python bench/store_postgres.py
Works in a throwaway schema that it drops afterwards. Prints medians of three
runs of the store and of a plain psycopg baseline doing the same statements.

The hash chain serialises writers per book, so 8 writers scale across books
(one per writer, as tenants would), while 8 writers on one book and one hot
account measure the serialised path; "anomalies" counts retried deadlocks and
serialization failures plus any error other than a ledger rule.
Targets: >= 2,000/s for 8 writers; >= 300/s on one hot account, zero anomalies.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import psycopg
from store_common import RUNS, fake_hash, median_rate, new_book, report, timed

from timebank.ledger import Book, LedgerError, credit, debit
from timebank.store import SqlStore, open_store

WRITERS = 8
PER_WRITER = 250
URL = os.environ.get("TIMEBANK_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _schema_url(schema: str) -> str:
    return f"{URL}{'&' if '?' in URL else '?'}options=-csearch_path%3D{schema}"


def _in_schema(action: Callable[[str], tuple[int, float]]) -> tuple[int, float]:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(URL, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        return action(_schema_url(schema))
    finally:
        with psycopg.connect(URL, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def _together(job: Callable[[int], None]) -> float:
    barrier = threading.Barrier(WRITERS + 1)

    def run(index: int) -> None:
        barrier.wait()
        job(index)

    with ThreadPoolExecutor(WRITERS) as pool:
        futures = [pool.submit(run, index) for index in range(WRITERS)]
        return timed(lambda: (barrier.wait(), [f.result() for f in futures]))


anomalies: list[str] = []


def _transfer_loop(book: Book, writer: int, hot: bool) -> None:
    for number in range(PER_WRITER):
        member = "member-0" if hot else f"member-{number % 2}"
        try:
            book.transfer(f"w{writer}-{number}", [debit("pool", 1), credit(member, 1)])
        except LedgerError as error:
            anomalies.append(f"ledger: {error}")
        except Exception as error:
            anomalies.append(f"{type(error).__name__}: {error}")


def store_books(run: int) -> tuple[int, float]:
    def action(url: str) -> tuple[int, float]:
        with open_store(url, pool_size=WRITERS) as store:
            books = [new_book(store, f"book-{writer}") for writer in range(WRITERS)]
            seconds = _together(lambda i: _transfer_loop(books[i], i, hot=False))
            _count_retries(store)
        return WRITERS * PER_WRITER, seconds

    return _in_schema(action)


def store_hot(run: int) -> tuple[int, float]:
    def action(url: str) -> tuple[int, float]:
        with open_store(url, pool_size=WRITERS) as store:
            book = new_book(store, "hot")
            seconds = _together(lambda i: _transfer_loop(book, i, hot=True))
            _count_retries(store)
            assert book.statements.verify().ok
        return WRITERS * PER_WRITER, seconds

    return _in_schema(action)


def _count_retries(store: SqlStore) -> None:
    for cause, count in store.retries.items():
        anomalies.extend([f"retried: {cause}"] * count)


def raw_books(run: int) -> tuple[int, float]:
    """The same statements per transfer through plain psycopg, one book per writer."""

    def action(url: str) -> tuple[int, float]:
        open_store(url).close()
        with psycopg.connect(url, autocommit=True) as setup:
            for writer in range(WRITERS):
                book = f"book-{writer}"
                setup.execute("INSERT INTO books VALUES (%s, 0, %s, NULL)", (book, fake_hash(0)))
                for account in ("pool", "member-0", "member-1"):
                    setup.execute(
                        "INSERT INTO accounts VALUES (%s, %s, NULL, NULL, '{}', now(), NULL,"
                        " 0, 0, 0)",
                        (book, account),
                    )

        def job(writer: int) -> None:
            with psycopg.connect(url) as connection:
                for number in range(PER_WRITER):
                    _raw_transfer(connection, f"book-{writer}", number)
                    connection.commit()

        return WRITERS * PER_WRITER, _together(job)

    return _in_schema(action)


def _raw_transfer(connection: psycopg.Connection[tuple[object, ...]], book: str, n: int) -> None:
    member = f"member-{n % 2}"
    sequence = n + 1
    execute = connection.execute
    execute("SELECT head_sequence FROM books WHERE id = %s FOR UPDATE", (book,)).fetchone()
    execute(
        "SELECT sequence FROM requests WHERE book_id = %s AND transaction_id = %s", (book, f"t{n}")
    ).fetchone()
    execute(
        "SELECT id FROM accounts WHERE book_id = %s AND id IN (%s, %s) ORDER BY id FOR UPDATE",
        (book, "pool", member),
    ).fetchall()
    execute(
        "INSERT INTO transactions VALUES (%s, %s, %s, 'transfer', '', '{}', now(), NULL, NULL,"
        " NULL, %s, %s)",
        (book, sequence, f"t{n}", fake_hash(n), fake_hash(sequence)),
    )
    cursor = connection.cursor()
    cursor.executemany(
        "INSERT INTO postings VALUES (%s, %s, %s, %s, %s, 1, %s, 0, 0)",
        [(book, sequence, 0, "pool", "debit", -sequence), (book, sequence, 1, member, "credit", 1)],
    )
    cursor.executemany(
        "UPDATE accounts SET posted_minutes = posted_minutes + %s WHERE book_id = %s AND id = %s",
        [(-1, book, "pool"), (1, book, member)],
    )
    execute("INSERT INTO requests VALUES (%s, %s, '{}', %s, NULL)", (book, f"t{n}", sequence))
    execute(
        "UPDATE books SET head_sequence = %s, head_hash = %s, head_recorded_at = now()"
        " WHERE id = %s",
        (sequence, fake_hash(sequence), book),
    )


def main() -> None:
    books = median_rate(RUNS, store_books)
    books_raw = median_rate(RUNS, raw_books)
    hot = median_rate(RUNS, store_hot)
    ledger_refusals = sum(a.startswith("ledger") for a in anomalies)
    report(
        f"PostgreSQL, {WRITERS} writer threads x {PER_WRITER} transfers (median of {RUNS} runs)",
        [
            ("store: 8 writers, one book each", books, "transfers/s (target 2,000)"),
            ("raw psycopg: 8 writers, one book each", books_raw, "transfers/s"),
            ("ratio store/raw (%)", 100 * books / books_raw, "%"),
            ("store: 8 writers, one book, one hot account", hot, "transfers/s (target 300)"),
            ("anomalies (retries + unexpected errors)", len(anomalies) - ledger_refusals, ""),
            ("ledger refusals (none expected: the pool is unbounded)", ledger_refusals, ""),
        ],
    )


if __name__ == "__main__":
    main()
