"""Throughput and peak memory of the in-memory ledger core.

Pushes 100,000 two-posting transfers among 1,000 accounts through the public
API (hashing on, the system clock) in a fresh process per run, and prints the
median of several runs for:

- ``single``: one ``Book.transfer`` call per transaction;
- ``batch``: ``Book.submit_many`` with 1,000 requests per call;
- ``baseline``: the least any Python ledger could do for the same work, measured
  in the same run: update two balances in a dict, encode the same canonical
  JSON, SHA-256 chain it, and append the record to a list.

Targets on a 2-core machine: at least 100,000 transactions/s and under 150 MB
peak resident memory for the whole process.

    .venv/bin/python bench/ledger_core.py [--runs 5] [--transactions 100000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from timebank.ledger import Book

ACCOUNTS = 1_000


def pairs(count: int) -> list[tuple[int, int]]:
    """Deterministic (debit, credit) account indexes, never the same account twice."""
    result = []
    for n in range(count):
        x = (n * 7_919) % ACCOUNTS
        y = (x + 1 + (n * 31) % (ACCOUNTS - 1)) % ACCOUNTS
        result.append((x, y))
    return result


def new_book() -> tuple[Book, list[str]]:
    """A fresh in-memory book with ``ACCOUNTS`` unbounded accounts, and their ids."""
    from timebank.ledger import Ledger

    book = Ledger().create_book("bench")
    ids = [f"member-{i:04d}" for i in range(ACCOUNTS)]
    for account_id in ids:
        book.open_account(account_id, balance_minutes_min=None)
    return book, ids


def committed_all(book: Book, count: int) -> bool:
    """The journal holds exactly ``count`` records."""
    return [r.sequence for r in book.journal(after=count - 1, limit=2)] == [count]


def run_single(count: int) -> float:
    from timebank.ledger import credit, debit

    book, ids = new_book()
    work = pairs(count)
    started = time.perf_counter()
    for n, (x, y) in enumerate(work):
        book.transfer(f"t{n}", (debit(ids[x], 30), credit(ids[y], 30)))
    elapsed = time.perf_counter() - started
    assert committed_all(book, count)
    return elapsed


def run_batch(count: int) -> float:
    from timebank.ledger import Transaction, Transfer, credit, debit

    book, ids = new_book()
    work = pairs(count)
    started = time.perf_counter()
    for start in range(0, count, 1_000):
        outcomes = book.submit_many(
            Transfer(transaction_id=f"t{n}", postings=(debit(ids[x], 30), credit(ids[y], 30)))
            for n, (x, y) in enumerate(work[start : start + 1_000], start)
        )
        assert all(type(outcome) is Transaction for outcome in outcomes)
    elapsed = time.perf_counter() - started
    assert committed_all(book, count)
    return elapsed


def run_baseline(count: int) -> float:
    encode = msgspec.json.Encoder(order="sorted").encode
    balances = {f"member-{i:04d}": 0 for i in range(ACCOUNTS)}
    ids = list(balances)
    journal: list[tuple[str, str, str, int, str]] = []
    previous = "0" * 64
    work = pairs(count)
    started = time.perf_counter()
    for n, (x, y) in enumerate(work):
        debit_id, credit_id, transaction_id = ids[x], ids[y], f"t{n}"
        now = datetime.now(UTC)
        balances[debit_id] -= 30
        balances[credit_id] += 30
        payload = encode((n + 1, transaction_id, debit_id, credit_id, 30, now, previous))
        previous = hashlib.sha256(payload).hexdigest()
        journal.append((transaction_id, debit_id, credit_id, 30, previous))
    return time.perf_counter() - started


RUNNERS = {"single": run_single, "batch": run_batch, "baseline": run_baseline}


def child(mode: str, count: int) -> None:
    elapsed = RUNNERS[mode](count)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"per_second": count / elapsed, "peak_mb": peak_mb}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--child", choices=sorted(RUNNERS))
    args = parser.parse_args()
    if args.child:
        child(args.child, args.transactions)
        return
    results: dict[str, list[dict[str, float]]] = {mode: [] for mode in RUNNERS}
    for _ in range(args.runs):
        for mode in RUNNERS:
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    mode,
                    "--transactions",
                    str(args.transactions),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            results[mode].append(json.loads(out.stdout))
    baseline = statistics.median(r["per_second"] for r in results["baseline"])
    print(
        f"{args.transactions:,} two-posting transfers among {ACCOUNTS:,} accounts, "
        f"median of {args.runs} runs, one process per run"
    )
    print(f"{'mode':<10}{'tx/s':>12}{'vs baseline':>13}{'peak MB':>10}{'target':>22}")
    for mode, rows in results.items():
        rate = statistics.median(r["per_second"] for r in rows)
        peak = statistics.median(r["peak_mb"] for r in rows)
        target = "" if mode == "baseline" else ">= 100,000/s, < 150 MB"
        print(f"{mode:<10}{rate:>12,.0f}{rate / baseline:>12.2f}x{peak:>10.1f}{target:>22}")


if __name__ == "__main__":
    main()
