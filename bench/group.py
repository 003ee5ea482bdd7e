"""Group commit: 16 concurrent writers on one book against one writer, in the same run.

Run: .venv/bin/python bench/group.py [--transfers N] [--credits N] [--writers 16] [--runs 3]
     [--only side,side] [--postgres URL]

Workload: workload W's transfers (``bench/peers.py``: 1,000 accounts, 1 to 240 minutes between
two distinct seeded-random accounts), each committed alone, on one book; afterwards every
balance is read and checked against a replay (exit 1 on any difference). Each side runs three
ways, each on a new database:

- ``1 writer``: one thread submits them all (group commit on; alone, a unit never groups);
- ``N writers, alone``: ``--writers`` threads share the moves (round robin), ``group_commit=False``
  (every unit its own transaction: the writers queue for the book's lock);
- ``N writers, grouped``: the same with group commit (the default).

Sides: ``ledger-sqlite`` and ``ledger-pg`` (``Book.transfer`` on ``SqlStore``), ``facade-sqlite``
and ``facade-pg`` (``book.credits.record(CreditService(...))`` on the ``timeoverflow`` preset,
as in ``bench/peers.py``). SQLite files are WAL with synchronous=NORMAL (the default).

Prints transfers/s (median of ``--runs``), the mean group size, and the ratios
``grouped / 1 writer`` (target: at least 3x with 16 writers) and ``grouped / alone``; then the
client CPU per write and the ceiling it sets: the writers are threads of one Python process,
which runs Python on one core at a time, so however the commits are shared, N writers cannot
run faster than 1 / (CPU per write). A single writer that already keeps the process busy most
of the time (SQLite) leaves little to gain.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from peers import (
    URL,
    Move,
    check_balances,
    facade_book,
    facade_credit,
    facade_members,
    in_order,
    ledger_balances,
    ledger_ids,
    make_workload,
    measure,
    replay,
    scratch_schema,
)
from store_common import START

from timebank.bank import TimeBank
from timebank.ledger import Ledger, ManualClock, credit, debit
from timebank.store import SqlStore, open_store

WAYS = ("1 writer", "alone", "grouped")


@dataclass(frozen=True)
class Run:
    rate: float
    cpu_us: float
    group_size: float


def _split(moves: Sequence[Move], writers: int) -> list[list[tuple[int, Move]]]:
    shares: list[list[tuple[int, Move]]] = [[] for _ in range(writers)]
    for number, move in enumerate(moves):
        shares[number % writers].append((number, move))
    return shares


def _drive(moves: Sequence[Move], writers: int, one: Callable[[int, Move], None]) -> float:
    """Run ``one`` for every move on ``writers`` threads released together; the wall seconds."""
    shares = _split(moves, writers)
    barrier = threading.Barrier(writers + 1)

    def job(share: list[tuple[int, Move]]) -> None:
        barrier.wait()
        for number, move in share:
            one(number, move)

    with ThreadPoolExecutor(max_workers=writers) as pool:
        futures = [pool.submit(job, share) for share in shares]
        timing = measure(len(moves), lambda: (barrier.wait(), [f.result() for f in futures]))
    return timing.seconds


def _group_size(store: SqlStore, units: int) -> float:
    grouped = store.grouped
    alone = units - grouped.get("units", 0)
    transactions = alone + grouped.get("groups", 0)
    return units / transactions if transactions else 0.0


@contextmanager
def _target(database: str, postgres: str) -> Iterator[str]:
    if database == "pg":
        with scratch_schema(postgres) as url:
            yield url
    else:
        with tempfile.TemporaryDirectory() as directory:
            yield os.path.join(directory, "group.db")


def ledger_side(
    database: str, moves: Sequence[Move], writers: int, group: bool, postgres: str
) -> Run:
    ids = ledger_ids()
    with (
        _target(database, postgres) as target,
        open_store(target, group_commit=group, pool_size=max(writers, 5)) as store,
    ):
        clock = ManualClock(START, tick=timedelta(microseconds=1))
        book = Ledger(store, clock=clock).create_book("group")
        store.transact(
            book.book_id,
            lambda unit: [book.open_account_in(unit, a, balance_minutes_min=None) for a in ids],
        )

        def one(number: int, move: Move) -> None:
            payer, payee, minutes = move
            book.transfer(f"t{number}", [debit(ids[payer], minutes), credit(ids[payee], minutes)])

        cpu_before = _cpu()
        seconds = _drive(moves, writers, one)
        cpu = _cpu() - cpu_before
        size = _group_size(store, len(moves))
        got = in_order(ledger_balances(book), ids)
        check_balances(f"ledger-{database}", got, replay(moves))
        return Run(len(moves) / seconds, 1e6 * cpu / len(moves), size)


def facade_side(
    database: str, moves: Sequence[Move], writers: int, group: bool, postgres: str
) -> Run:
    members = facade_members()
    with _target(database, postgres) as target:
        bank = TimeBank.open(
            target,
            clock=ManualClock(START, tick=timedelta(microseconds=10)),
            group_commit=group,
            pool_size=max(writers, 5),
        )
        try:
            book = facade_book(bank, "group", members)
            store: SqlStore = bank.store.ledger_store  # type: ignore[attr-defined]

            def one(number: int, move: Move) -> None:
                facade_credit(book, members, move)

            cpu_before = _cpu()
            seconds = _drive(moves, writers, one)
            cpu = _cpu() - cpu_before
            size = _group_size(store, len(moves))
            got = [book.statements.balance(m).own_minutes for m in members]
            check_balances(f"facade-{database}", got, replay(moves))
            return Run(len(moves) / seconds, 1e6 * cpu / len(moves), size)
        finally:
            bank.close()


def _cpu() -> float:
    return os.times().user + os.times().system


SIDES: dict[str, tuple[Callable[..., Run], str]] = {
    "ledger-sqlite": (ledger_side, "sqlite"),
    "ledger-pg": (ledger_side, "pg"),
    "facade-sqlite": (facade_side, "sqlite"),
    "facade-pg": (facade_side, "pg"),
}


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--transfers", type=int, default=3_000, help="ledger transfers per way")
    parser.add_argument("--credits", type=int, default=1_500, help="facade credits per way")
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--only", default=",".join(SIDES), help="comma-separated sides")
    parser.add_argument("--postgres", default=URL)
    args = parser.parse_args(argv)
    unknown = set(args.only.split(",")) - set(SIDES)
    if unknown:
        parser.error(f"unknown sides: {', '.join(sorted(unknown))}")
    if min(args.transfers, args.credits, args.writers, args.runs) < 1:
        parser.error("--transfers, --credits, --writers and --runs must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse(argv)
    sides = args.only.split(",")
    results: dict[tuple[str, str], list[Run]] = {}
    for run in range(args.runs):
        for side in sides:
            function, database = SIDES[side]
            count = args.transfers if side.startswith("ledger") else args.credits
            moves = make_workload(args.seed + run, count, 1, 1).online
            for way in WAYS:
                writers = 1 if way == "1 writer" else args.writers
                group = way != "alone"
                outcome = function(database, moves, writers, group, args.postgres)
                results.setdefault((side, way), []).append(outcome)
                print(
                    f"  run {run + 1} {side:14} {way:9} {outcome.rate:8,.0f}/s"
                    f"  group {outcome.group_size:5.1f}",
                    file=sys.stderr,
                    flush=True,
                )
    report(args, sides, results)


def report(
    args: argparse.Namespace, sides: list[str], results: dict[tuple[str, str], list[Run]]
) -> None:
    print(
        f"Group commit: one book, each transfer or credit committed alone, 1 writer against"
        f" {args.writers} threads; ledger {args.transfers:,} transfers, facade"
        f" {args.credits:,} credits per way; medians of {args.runs} runs."
    )
    print()
    header = f"| side | 1 writer | {args.writers} alone | {args.writers} grouped | mean group |"
    print(header + " grouped / 1 | grouped / alone |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")

    def median(side: str, way: str, metric: Callable[[Run], float]) -> float:
        return statistics.median(metric(run) for run in results[(side, way)])

    for side in sides:
        rate = {way: median(side, way, lambda run: run.rate) for way in WAYS}
        size = median(side, "grouped", lambda run: run.group_size)
        print(
            f"| {side} | {rate['1 writer']:,.0f}/s | {rate['alone']:,.0f}/s"
            f" | {rate['grouped']:,.0f}/s | {size:.1f} |"
            f" {rate['grouped'] / rate['1 writer']:.2f}x (target >= 3x) |"
            f" {rate['grouped'] / rate['alone']:.2f}x |"
        )
    print()
    cpu = {side: median(side, "grouped", lambda run: run.cpu_us) for side in sides}
    one = {side: median(side, "1 writer", lambda run: run.cpu_us) for side in sides}
    rate_one = {side: median(side, "1 writer", lambda run: run.rate) for side in sides}
    for side in sides:
        busy = rate_one[side] * one[side] / 1e6
        print(
            f"{side}: client CPU per write {one[side]:,.0f} µs alone,"
            f" {cpu[side]:,.0f} µs grouped ({args.writers} writers); one writer keeps this"
            f" process busy {busy:.0%} of the time, so threads of one process (one GIL) can add"
            f" at most {1 / busy if busy else float('inf'):.2f}x"
        )


if __name__ == "__main__":
    main()
