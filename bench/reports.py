"""The service-order reports over a year of orders, against a bare count of the same rows.

Run: .venv/bin/python bench/reports.py [--orders N] [--quick]. It loads N orders
(default 1,000,000: twelve months, 20 categories, 50 grids, a realistic mix
of statuses, ratings and durations) into one book on a SQLite file (Core
executemany) and, if ``TIMEBANK_TEST_POSTGRES_URL`` is set, into a PostgreSQL
database it creates and drops (COPY); runs ``ANALYZE`` (``VACUUM ANALYZE`` on
PostgreSQL); then times, median of five runs, through the store's ``SqlOrders``:

- ``tally`` of one month, and of the whole year (one row per month, category
  and grid);
- ``volunteer_tally`` of one month (every volunteer's orders are read: accepted
  and the last service count all of them);
- the baseline, in the same run: ``SELECT count(*) FROM orders WHERE
  book_id = :b``, the least any report over the book's rows could cost.

Target: each report under 5 s. ``--quick`` loads 50,000 orders.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from store_common import report, timed

from timebank.store import SqlBankStore, open_bank_store
from timebank.store.tables import orders

BOOK_ID = "bench"
RUNS = 5
CHUNK = 20_000
TARGET_SECONDS = 5.0
YEAR = 2026
CATEGORIES = [f"category-{number:02}" for number in range(20)]
CATEGORY_WEIGHTS = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(CATEGORIES))))
"""Cumulative (for ``random.choices``): a few categories dominate."""
GRIDS = [f"grid-{number:02}" for number in range(50)]
COMMUNITIES = [f"community-{number}" for number in range(8)]
VOLUNTEERS = [f"v{number:05}" for number in range(3_000)]
RECIPIENTS = [f"r{number:05}" for number in range(10_000)]
STATUSES = {
    "requested": 4,
    "published": 3,
    "accepted": 6,
    "in_progress": 2,
    "completed": 10,
    "confirmed": 62,
    "cancelled": 8,
    "expired": 5,
}
RATINGS = [1, 2, 3, 4, 5]
RATING_WEIGHTS = list(itertools.accumulate([2, 3, 10, 30, 55]))


def order_rows(count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """``count`` order rows spread over the twelve months of YEAR, deterministically."""
    rng = random.Random(seed)
    statuses, status_weights = list(STATUSES), list(itertools.accumulate(STATUSES.values()))
    year_start = datetime(YEAR, 1, 1, tzinfo=UTC)
    year_seconds = int((datetime(YEAR + 1, 1, 1, tzinfo=UTC) - year_start).total_seconds())
    for number in range(count):
        requested_at = year_start + timedelta(seconds=rng.randrange(year_seconds))
        status = rng.choices(statuses, cum_weights=status_weights)[0]
        grid = rng.randrange(len(GRIDS))
        row: dict[str, Any] = {
            "book_id": BOOK_ID,
            "order_id": f"o{number:08}",
            "status": status,
            "category": rng.choices(CATEGORIES, cum_weights=CATEGORY_WEIGHTS)[0],
            "community": COMMUNITIES[grid % len(COMMUNITIES)],
            "grid": GRIDS[grid],
            "recipient_id": rng.choice(RECIPIENTS),
            "volunteer_id": None,
            "month": requested_at.strftime("%Y-%m"),
            "requested_at": requested_at,
            "due_at": None,
            "cancelled": status == "cancelled",
            "processed": False,
            "on_time": False,
            "response_seconds": None,
            "completion_seconds": None,
            "rating": None,
            "credited_minutes": 0,
            "served_at": None,
            "body": b'{"order_id":"o%08d","status":"%s"}' % (number, status.encode()),
        }
        _progress(rng, row)
        yield row


def _progress(rng: random.Random, row: dict[str, Any]) -> None:
    """What happened to the order after it was requested, by its status."""
    status, requested_at = row["status"], row["requested_at"]
    if status in ("requested", "published"):
        row["due_at"] = requested_at + timedelta(hours=rng.choice([2, 24, 48]))
        return
    if status in ("expired",) or (status == "cancelled" and rng.random() < 0.7):
        return
    row["volunteer_id"] = rng.choice(VOLUNTEERS)
    response = int(rng.expovariate(1 / 1_800)) + 30
    row["response_seconds"] = response
    if status in ("accepted", "in_progress", "cancelled"):
        if status != "cancelled":
            row["due_at"] = requested_at + timedelta(days=rng.choice([1, 2, 3]))
        return
    completion = response + int(rng.gauss(7_200, 2_400)) % 14_400 + 600
    row["processed"] = True
    row["completion_seconds"] = completion
    row["on_time"] = rng.random() < 0.85
    row["served_at"] = requested_at + timedelta(seconds=completion)
    if status == "confirmed":
        row["credited_minutes"] = 30 * rng.randint(1, 8)
        if rng.random() < 0.7:
            row["rating"] = rng.choices(RATINGS, cum_weights=RATING_WEIGHTS)[0]


def _chunks(count: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in order_rows(count):
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def load_sqlite(bank: SqlBankStore, count: int) -> None:
    """Core executemany of the ``orders`` table, CHUNK rows per statement."""
    with bank.ledger_store.engine.begin() as connection:
        for chunk in _chunks(count):
            connection.execute(orders.insert(), chunk)
        connection.exec_driver_sql("ANALYZE")


def load_postgres(bank: SqlBankStore, count: int) -> None:
    """COPY into ``orders``; then VACUUM ANALYZE, as autovacuum would do before long."""
    columns = [column.name for column in orders.columns]
    with bank.ledger_store.engine.connect() as connection:
        raw: Any = connection.connection.driver_connection
        statement = f"COPY orders ({', '.join(columns)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for chunk in _chunks(count):
                for row in chunk:
                    copy.write_row([row[name] for name in columns])
        raw.commit()  # the COPY ran on the driver, outside SQLAlchemy's transaction
    with bank.ledger_store.engine.connect().execution_options(
        isolation_level="AUTOCOMMIT"
    ) as connection:
        connection.exec_driver_sql("VACUUM ANALYZE orders")


def median_seconds(action: Callable[[], Any]) -> float:
    action()  # warm the caches and the statement cache once
    return statistics.median(timed(action) for _ in range(RUNS))


def measure(kind: str, bank: SqlBankStore, count: int) -> None:
    bank.ledger_store.create_book(BOOK_ID)
    loader = load_sqlite if kind == "sqlite" else load_postgres
    load_seconds = timed(lambda: loader(bank, count))
    month_start = datetime(YEAR, 6, 1, tzinfo=UTC)
    month_end = datetime(YEAR, 7, 1, tzinfo=UTC)
    engine = bank.ledger_store.engine
    sizes: dict[str, int] = {}

    def report_of(name: str, read: Callable[[Any], Any]) -> Callable[[], None]:
        def run() -> None:
            with bank.read(BOOK_ID) as reader:
                sizes[name] = len(read(reader.orders))

        return run

    def count_rows() -> None:
        with engine.connect() as connection:
            statement = sa.text("SELECT count(*) FROM orders WHERE book_id = :b")
            sizes["count"] = connection.execute(statement, {"b": BOOK_ID}).scalar_one()

    baseline = median_seconds(count_rows)
    assert sizes["count"] == count
    timings = [
        ("tally, one month", report_of("month", lambda o: o.tally("2026-06", "2026-06"))),
        ("tally, the whole year", report_of("year", lambda o: o.tally("2026-01", "2026-12"))),
        (
            "volunteer_tally, one month",
            report_of("volunteers", lambda o: o.volunteer_tally(month_start, month_end)),
        ),
    ]
    rows: list[tuple[str, float, str]] = [
        ("load (bulk insert, analyze)", count / load_seconds, "orders/s"),
        ("baseline: SELECT count(*) of the book's orders", 1_000 * baseline, "ms"),
    ]
    for name, action in timings:
        seconds = median_seconds(action)
        verdict = "ok" if seconds < TARGET_SECONDS else "OVER TARGET"
        rows.append((name, 1_000 * seconds, f"ms (target 5,000) {verdict}"))
        rows.append(("  ratio to baseline (%)", 100 * seconds / baseline, "%"))
    report(f"{kind}: {count:,} orders in one book, median of {RUNS} runs", rows)
    print(
        f"  result rows: month {sizes['month']:,}, year {sizes['year']:,},"
        f" volunteers {sizes['volunteers']:,}"
    )


def run_sqlite(count: int) -> None:
    with (
        tempfile.TemporaryDirectory() as directory,
        open_bank_store(os.path.join(directory, "reports.db")) as bank,
    ):
        measure("sqlite", bank, count)


def run_postgres(url: str, count: int) -> None:
    import psycopg

    admin_url = make_url(url).set(drivername="postgresql")
    name = f"bench_reports_{uuid.uuid4().hex[:12]}"
    libpq = admin_url.render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with open_bank_store(make_url(url).set(database=name)) as bank:
            measure("postgres", bank, count)
    finally:
        with psycopg.connect(libpq, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders to load")
    parser.add_argument("--quick", action="store_true", help="load 50,000 orders")
    args = parser.parse_args()
    count = 50_000 if args.quick else args.orders
    run_sqlite(count)
    url = os.environ.get("TIMEBANK_TEST_POSTGRES_URL")
    if url:
        run_postgres(url, count)
    else:
        print("\npostgres: skipped (set TIMEBANK_TEST_POSTGRES_URL)")


if __name__ == "__main__":
    main()
