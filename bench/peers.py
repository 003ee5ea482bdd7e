"""Workload W through timebank and through its peers, in the same run.

Run: .venv/bin/python bench/peers.py [--online N] [--bulk N] [--facade N] [--runs 3]
     [--seed S] [--only side,side] [--postgres URL]
Needs the ``bench`` extra (``pip install -e '.[bench]'``: django-hordak and psycopg) and, for
the PostgreSQL sides, a server (``--postgres``, default ``$TIMEBANK_BENCH_POSTGRES_URL`` or
postgresql://postgres@127.0.0.1:5432/test). Every PostgreSQL side works in a throwaway schema
(hordak in a throwaway database) and every SQLite side in a temporary file; all are dropped.

Workload W: 1,000 accounts; transfers of 1 to 240 whole minutes between two distinct accounts
drawn by ``random.Random(seed)``; ``online`` transfers each committed alone, then ``bulk``
transfers in commits of 10,000 (the most one ``Book.submit_many`` commits; every side's bulk
commits the same number, so commit counts are equal); then every balance is read and compared
with a replay of the transfers in Python. A single wrong balance stops the script with exit 1.
Accounts may go negative on every side, so no transfer is refused.

Sides (one function each; ``--only`` picks some):

- ``timebank-ledger-pg``: ``Book.transfer`` per commit, ``Book.submit_many`` for bulk, on
  ``SqlStore`` over PostgreSQL (the hash chain, idempotency and bounds checks included);
- ``timebank-facade-pg``: ``book.credits.record(CreditService(...))`` per commit on the
  ``timeoverflow`` preset (members pay each other; its credit line widened so none is refused):
  ``--facade`` credits, online only, balances checked per member against the replay;
- ``hordak-pg``: django-hordak on the same server: ``Account.transfer_to`` per commit (its own
  ``atomic()``), bulk as ``Transaction`` and two ``Leg`` rows created inside one ``atomic()``
  per 10,000 (hordak's documented manual form; no savepoint per transfer); balances from
  ``Account.objects.with_balances()``. Amounts are ``Money`` (Decimal, 2 places) of whole EUR;
- ``psycopg-raw``: a minimal ledger of our own (accounts with a balance, transactions, two entry
  rows per transfer, balance updates) through psycopg 3; bulk with ``executemany`` and one
  balance update per account touched per commit;
- ``timebank-ledger-sqlite``: as the first, on a SQLite file (WAL, synchronous=NORMAL);
- ``sqlite-raw``: the minimal ledger through the stdlib ``sqlite3`` on a file in WAL mode with
  synchronous=NORMAL.

Prints transfers/s (median of ``--runs`` runs, the sides interleaved within each run), the
client CPU per transfer (``time.process_time``: this process only, so on PostgreSQL the rest of
the wall time is the server and the round trips), and the ratios with their targets:
timebank-ledger-pg / hordak-pg >= 2x, timebank-facade-pg / hordak-pg >= 1.5x,
timebank-ledger-sqlite / sqlite-raw >= 0.5x.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import msgspec
import psycopg
from psycopg.conninfo import conninfo_to_dict
from store_common import START

from timebank.bank import SYSTEM, BankBook, TimeBank
from timebank.bank.commands import CreditService, RegisterMember
from timebank.community import Provenance, Role, Vetting
from timebank.community.presets import preset
from timebank.ledger import (
    Book,
    Ledger,
    LedgerError,
    ManualClock,
    Transfer,
    credit,
    debit,
)
from timebank.ledger.limits import BATCH_REQUESTS_MAX, PAGE_SIZE_MAX
from timebank.store import SqlStore, open_store

ACCOUNTS = 1_000
MINUTES_MAX = 240
BATCH = BATCH_REQUESTS_MAX
"""Transfers per bulk commit on every side: the most one ``submit_many`` call commits."""
CURRENCY = "EUR"
URL = os.environ.get("TIMEBANK_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
FACADE_RULES = msgspec.structs.replace(preset("timeoverflow"), credit_limit_minutes=10**9)
"""Members pay each other (mutual credit); a credit line no credit of W can exhaust."""

Move = tuple[int, int, int]
"""One transfer: the paying account's index, the receiving account's index, minutes."""


# --- the workload and its replay -------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    online: list[Move]
    bulk: list[Move]
    facade: list[Move]


def make_workload(seed: int, online: int, bulk: int, facade: int) -> Workload:
    rng = random.Random(seed)

    def moves(count: int) -> list[Move]:
        drawn = []
        for _ in range(count):
            payer = rng.randrange(ACCOUNTS)
            payee = rng.randrange(ACCOUNTS - 1)
            payee += payee >= payer  # any account but the payer
            drawn.append((payer, payee, rng.randint(1, MINUTES_MAX)))
        return drawn

    return Workload(online=moves(online), bulk=moves(bulk), facade=moves(facade))


def replay(*batches: Sequence[Move]) -> list[int]:
    balances = [0] * ACCOUNTS
    for moves in batches:
        for payer, payee, minutes in moves:
            balances[payer] -= minutes
            balances[payee] += minutes
    return balances


def check_balances(side: str, got: Sequence[int], expected: Sequence[int]) -> None:
    """Stop the script (exit 1) if any balance read back differs from the replay."""
    if len(got) != len(expected):
        raise SystemExit(f"FAIL {side}: read {len(got)} balances, expected {len(expected)}")
    wrong = [(i, g, e) for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e]
    if wrong:
        shown = ", ".join(f"account {i}: {g} (replay {e})" for i, g, e in wrong[:5])
        raise SystemExit(
            f"FAIL {side}: {len(wrong)} of {len(expected)} balances differ from the replay: {shown}"
        )


def in_order(found: dict[str, int], ids: Sequence[str]) -> list[int]:
    missing = [account for account in ids if account not in found]
    if missing or len(found) != len(ids):
        raise SystemExit(f"FAIL: {len(missing)} accounts missing, {len(found)} read: {missing[:5]}")
    return [found[account] for account in ids]


# --- timing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    transfers: int
    seconds: float
    cpu_seconds: float

    @property
    def rate(self) -> float:
        return self.transfers / self.seconds

    @property
    def cpu_us(self) -> float:
        return 1e6 * self.cpu_seconds / self.transfers

    @property
    def wall_us(self) -> float:
        return 1e6 * self.seconds / self.transfers


def measure(transfers: int, action: Callable[[], Any]) -> Timing:
    cpu = time.process_time()
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    return Timing(transfers, seconds, time.process_time() - cpu)


@dataclass
class Outcome:
    """One run of one side: a timing per mode, and how long reading every balance took."""

    modes: dict[str, Timing] = field(default_factory=dict)
    read_seconds: float = 0.0


def read_timed(outcome: Outcome, read: Callable[[], list[int]]) -> list[int]:
    started = time.perf_counter()
    balances = read()
    outcome.read_seconds = time.perf_counter() - started
    return balances


# --- PostgreSQL scratch space ----------------------------------------------------------------


def _with_search_path(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


@contextmanager
def scratch_schema(url: str) -> Iterator[str]:
    """A URL whose connections work in a new schema, dropped afterwards."""
    schema = f"peers_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield _with_search_path(url, schema)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


# --- timebank: the ledger (PostgreSQL and SQLite) --------------------------------------------


def ledger_ids() -> list[str]:
    return [f"acct-{number:04d}" for number in range(ACCOUNTS)]


def timebank_ledger(store: SqlStore, work: Workload, side: str) -> Outcome:
    book = Ledger(store, clock=ManualClock(START, tick=timedelta(microseconds=1))).create_book(
        "peers"
    )
    ids = ledger_ids()
    store.transact(
        book.book_id,
        lambda unit: [book.open_account_in(unit, a, balance_minutes_min=None) for a in ids],
    )

    def online() -> None:
        for number, (payer, payee, minutes) in enumerate(work.online):
            book.transfer(f"o{number}", [debit(ids[payer], minutes), credit(ids[payee], minutes)])

    def bulk() -> None:
        for start in range(0, len(work.bulk), BATCH):
            outcomes = book.submit_many(
                Transfer(
                    transaction_id=f"b{number}",
                    postings=(debit(ids[payer], minutes), credit(ids[payee], minutes)),
                )
                for number, (payer, payee, minutes) in enumerate(
                    work.bulk[start : start + BATCH], start
                )
            )
            refused = [o for o in outcomes if isinstance(o, LedgerError)]
            if refused:
                raise SystemExit(f"FAIL {side}: {len(refused)} refused, first: {refused[0]}")

    outcome = Outcome()
    outcome.modes["online"] = measure(len(work.online), online)
    outcome.modes["bulk"] = measure(len(work.bulk), bulk)
    got = read_timed(outcome, lambda: in_order(ledger_balances(book), ids))
    check_balances(side, got, replay(work.online, work.bulk))
    return outcome


def ledger_balances(book: Book) -> dict[str, int]:
    found: dict[str, int] = {}
    after = None
    while True:
        page = book.accounts(after=after, limit=PAGE_SIZE_MAX)
        found.update((account.account_id, account.posted_minutes) for account in page)
        if len(page) < PAGE_SIZE_MAX:
            return found
        after = page[-1].account_id


def timebank_ledger_pg(work: Workload, args: argparse.Namespace) -> Outcome:
    with scratch_schema(args.postgres) as url, open_store(url) as store:
        return timebank_ledger(store, work, "timebank-ledger-pg")


def timebank_ledger_sqlite(work: Workload, args: argparse.Namespace) -> Outcome:
    # open_store's SQLite default: WAL, synchronous=NORMAL.
    with (
        tempfile.TemporaryDirectory() as directory,
        open_store(os.path.join(directory, "ledger.db")) as store,
    ):
        return timebank_ledger(store, work, "timebank-ledger-sqlite")


# --- timebank: the facade (PostgreSQL) -------------------------------------------------------


def facade_members() -> list[str]:
    return [f"m{number:04d}" for number in range(ACCOUNTS)]


def facade_book(bank: TimeBank, book_id: str, members: Sequence[str]) -> BankBook:
    """A book on ``FACADE_RULES`` with ``members`` registered, each a volunteer and recipient."""
    book = bank.create_book(book_id, FACADE_RULES)
    book.atomic(
        lambda: [
            book.members.register(
                RegisterMember(
                    member_id=member,
                    name=f"Member {member}",
                    birth_date=date(1960, 1, 1),
                    community="gulou",
                    roles={Role.VOLUNTEER, Role.RECIPIENT},
                    vetting=Vetting.STREET,
                ),
                actor=SYSTEM,
            )
            for member in members
        ]
    )
    return book


def facade_credit(book: BankBook, members: Sequence[str], move: Move) -> None:
    """One move of W as a credit: the paying account's member received the service."""
    payer, payee, minutes = move
    book.credits.record(
        CreditService(
            provider_id=members[payee],
            recipient_id=members[payer],  # the recipient pays the provider
            category="companionship",
            raw_minutes=minutes,
            served_at=START - timedelta(hours=1),
            provenance=Provenance.ORGANISATION_CONFIRMATION,
        ),
        actor=SYSTEM,
    )


def timebank_facade_pg(work: Workload, args: argparse.Namespace) -> Outcome:
    members = facade_members()
    with scratch_schema(args.postgres) as url:
        bank = TimeBank.open(url, clock=ManualClock(START, tick=timedelta(microseconds=10)))
        try:
            book = facade_book(bank, "peers", members)

            def online() -> None:
                for move in work.facade:
                    facade_credit(book, members, move)

            outcome = Outcome()
            outcome.modes["online"] = measure(len(work.facade), online)
            got = read_timed(
                outcome, lambda: [book.statements.balance(m).own_minutes for m in members]
            )
            check_balances("timebank-facade-pg", got, replay(work.facade))
            return outcome
        finally:
            bank.close()


# --- django-hordak (PostgreSQL) --------------------------------------------------------------


class HordakDatabase:
    """A throwaway database with hordak migrated and 1,000 asset accounts, made once per process
    (Django is configured once); each run starts from empty transaction and leg tables."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.name = f"peers_hordak_{uuid.uuid4().hex[:12]}"
        self.accounts: list[Any] = []
        self.created = False

    def ready(self) -> list[Any]:
        if not self.created:
            self._create()
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE hordak_leg, hordak_transaction RESTART IDENTITY CASCADE")
        return self.accounts

    def _create(self) -> None:
        import django
        from django.conf import settings
        from django.core.management import call_command

        with psycopg.connect(self.url, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {self.name}")
        self.created = True
        info = conninfo_to_dict(self.url)
        settings.configure(
            DEBUG=False,  # no per-query log in memory
            USE_TZ=True,
            DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
            INSTALLED_APPS=[
                "django.contrib.contenttypes",
                "django.contrib.auth",
                "mptt",
                "djmoney",
                "hordak",
            ],
            DATABASES={
                "default": {
                    "ENGINE": "django.db.backends.postgresql",
                    "NAME": self.name,
                    "USER": info.get("user", ""),
                    "PASSWORD": info.get("password", ""),
                    "HOST": info.get("host", ""),
                    "PORT": info.get("port", ""),
                }
            },
            DEFAULT_CURRENCY=CURRENCY,
            HORDAK_INTERNAL_CURRENCY=CURRENCY,
        )
        django.setup()
        call_command("migrate", verbosity=0)
        from hordak.models import Account, AccountType

        self.accounts = [
            Account.objects.create(
                name=f"acct-{number:04d}", type=AccountType.asset, currencies=[CURRENCY]
            )
            for number in range(ACCOUNTS)
        ]

    def drop(self) -> None:
        if not self.created:
            return
        from django.db import connections

        connections.close_all()
        with psycopg.connect(self.url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


def hordak_pg(work: Workload, args: argparse.Namespace) -> Outcome:
    accounts = args.hordak.ready()
    from django.db import transaction as db
    from hordak.models import Account, Leg, Transaction
    from moneyed import Money

    def online() -> None:
        for payer, payee, minutes in work.online:
            # Credits the payer's asset account (it decreases), debits the payee's: one atomic().
            accounts[payer].transfer_to(accounts[payee], Money(minutes, CURRENCY))

    def bulk() -> None:
        for start in range(0, len(work.bulk), BATCH):
            with db.atomic():
                for payer, payee, minutes in work.bulk[start : start + BATCH]:
                    amount = Money(minutes, CURRENCY)
                    made = Transaction.objects.create()
                    Leg.objects.create(transaction=made, account=accounts[payer], credit=amount)
                    Leg.objects.create(transaction=made, account=accounts[payee], debit=amount)

    def read() -> list[int]:
        by_id = {a.id: a.balance for a in Account.objects.with_balances()}
        balances = []
        for account in accounts:
            (money,) = by_id[account.id].monies()
            if money.amount != int(money.amount) or money.currency.code != CURRENCY:
                raise SystemExit(f"FAIL hordak-pg: balance {money} is not whole {CURRENCY}")
            balances.append(int(money.amount))
        return balances

    outcome = Outcome()
    outcome.modes["online"] = measure(len(work.online), online)
    outcome.modes["bulk"] = measure(len(work.bulk), bulk)
    check_balances("hordak-pg", read_timed(outcome, read), replay(work.online, work.bulk))
    return outcome


# --- raw drivers: a minimal ledger of our own ------------------------------------------------

RAW_TABLES_PG = """
CREATE TABLE accounts (id integer PRIMARY KEY, balance_minutes bigint NOT NULL DEFAULT 0);
CREATE TABLE transactions (
    id bigint PRIMARY KEY,
    reference text NOT NULL UNIQUE,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE entries (
    transaction_id bigint NOT NULL REFERENCES transactions (id),
    account_id integer NOT NULL REFERENCES accounts (id),
    amount_minutes bigint NOT NULL,
    PRIMARY KEY (transaction_id, account_id)
);
CREATE INDEX entries_by_account ON entries (account_id, transaction_id);
"""
RAW_TABLES_SQLITE = RAW_TABLES_PG.replace("bigint", "integer").replace(
    "timestamptz NOT NULL DEFAULT now()", "text NOT NULL DEFAULT CURRENT_TIMESTAMP"
)
INSERT_TRANSACTION = "INSERT INTO transactions (id, reference) VALUES ({0}, {0})"
INSERT_ENTRY = "INSERT INTO entries VALUES ({0}, {0}, {0})"
UPDATE_BALANCE = "UPDATE accounts SET balance_minutes = balance_minutes + {0} WHERE id = {0}"
READ_BALANCES = "SELECT id, balance_minutes FROM accounts ORDER BY id"


def raw_statements(mark: str) -> tuple[str, str, str]:
    """The three write statements with the driver's parameter mark."""
    return (
        INSERT_TRANSACTION.format(mark),
        INSERT_ENTRY.format(mark),
        UPDATE_BALANCE.format(mark),
    )


def entry_rows(number: int, move: Move) -> list[tuple[int, int, int]]:
    payer, payee, minutes = move
    return [(number, payer, -minutes), (number, payee, minutes)]


def bulk_batches(work: Workload) -> Iterator[tuple[list[Any], list[Any], list[Any]]]:
    """Per commit: transaction rows, entry rows, and one balance change per account touched."""
    first = len(work.online) + 1
    for start in range(0, len(work.bulk), BATCH):
        moves = work.bulk[start : start + BATCH]
        numbers = range(first + start, first + start + len(moves))
        transactions = [(number, f"b{number}") for number in numbers]
        entries = [
            row
            for number, move in zip(numbers, moves, strict=True)
            for row in entry_rows(number, move)
        ]
        change: dict[int, int] = defaultdict(int)
        for payer, payee, minutes in moves:
            change[payer] -= minutes
            change[payee] += minutes
        updates = [(minutes, account) for account, minutes in sorted(change.items())]
        yield transactions, entries, updates


def psycopg_raw(work: Workload, args: argparse.Namespace) -> Outcome:
    insert_transaction, insert_entry, update_balance = raw_statements("%s")
    with scratch_schema(args.postgres) as url, psycopg.connect(url) as connection:
        connection.execute(RAW_TABLES_PG)
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO accounts (id) VALUES (%s)", [(a,) for a in range(ACCOUNTS)]
            )
        connection.commit()
        cursor = connection.cursor()

        def online() -> None:
            for number, move in enumerate(work.online, 1):
                payer, payee, minutes = move
                cursor.execute(insert_transaction, (number, f"o{number}"))
                cursor.executemany(insert_entry, entry_rows(number, move))
                cursor.executemany(update_balance, [(-minutes, payer), (minutes, payee)])
                connection.commit()

        def bulk() -> None:
            for transactions, entries, updates in bulk_batches(work):
                cursor.executemany(insert_transaction, transactions)
                cursor.executemany(insert_entry, entries)
                cursor.executemany(update_balance, updates)
                connection.commit()

        def read() -> list[int]:
            rows = connection.execute(READ_BALANCES).fetchall()
            connection.commit()
            return [balance for _, balance in rows]

        outcome = Outcome()
        outcome.modes["online"] = measure(len(work.online), online)
        outcome.modes["bulk"] = measure(len(work.bulk), bulk)
        check_balances("psycopg-raw", read_timed(outcome, read), replay(work.online, work.bulk))
        return outcome


def sqlite_raw(work: Workload, args: argparse.Namespace) -> Outcome:
    insert_transaction, insert_entry, update_balance = raw_statements("?")
    with tempfile.TemporaryDirectory() as directory:
        connection = sqlite3.connect(os.path.join(directory, "raw.db"), isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute("PRAGMA foreign_keys = ON")
            connection.executescript(RAW_TABLES_SQLITE)
            connection.executemany(
                "INSERT INTO accounts (id) VALUES (?)", [(a,) for a in range(ACCOUNTS)]
            )
            cursor = connection.cursor()

            def online() -> None:
                for number, move in enumerate(work.online, 1):
                    payer, payee, minutes = move
                    cursor.execute("BEGIN IMMEDIATE")
                    cursor.execute(insert_transaction, (number, f"o{number}"))
                    cursor.executemany(insert_entry, entry_rows(number, move))
                    cursor.executemany(update_balance, [(-minutes, payer), (minutes, payee)])
                    cursor.execute("COMMIT")

            def bulk() -> None:
                for transactions, entries, updates in bulk_batches(work):
                    cursor.execute("BEGIN IMMEDIATE")
                    cursor.executemany(insert_transaction, transactions)
                    cursor.executemany(insert_entry, entries)
                    cursor.executemany(update_balance, updates)
                    cursor.execute("COMMIT")

            def read() -> list[int]:
                return [balance for _, balance in connection.execute(READ_BALANCES)]

            outcome = Outcome()
            outcome.modes["online"] = measure(len(work.online), online)
            outcome.modes["bulk"] = measure(len(work.bulk), bulk)
            check_balances("sqlite-raw", read_timed(outcome, read), replay(work.online, work.bulk))
            return outcome
        finally:
            connection.close()


# --- the run ---------------------------------------------------------------------------------

SIDES: dict[str, Callable[[Workload, argparse.Namespace], Outcome]] = {
    "timebank-ledger-pg": timebank_ledger_pg,
    "timebank-facade-pg": timebank_facade_pg,
    "hordak-pg": hordak_pg,
    "psycopg-raw": psycopg_raw,
    "timebank-ledger-sqlite": timebank_ledger_sqlite,
    "sqlite-raw": sqlite_raw,
}
RATIOS = [
    ("timebank-ledger-pg", "hordak-pg", "online", 2.0),
    ("timebank-ledger-pg", "hordak-pg", "bulk", 2.0),
    ("timebank-facade-pg", "hordak-pg", "online", 1.5),
    ("timebank-ledger-sqlite", "sqlite-raw", "online", 0.5),
    ("timebank-ledger-sqlite", "sqlite-raw", "bulk", 0.5),
    ("timebank-ledger-pg", "psycopg-raw", "online", None),
    ("timebank-ledger-pg", "psycopg-raw", "bulk", None),
]


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Workload W through timebank and its peers (see the module docstring)."
    )
    parser.add_argument("--online", type=int, default=10_000, help="transfers, one per commit")
    parser.add_argument("--bulk", type=int, default=100_000, help="transfers, 10,000 per commit")
    parser.add_argument("--facade", type=int, default=2_000, help="facade credits, one per commit")
    parser.add_argument("--runs", type=int, default=3, help="runs per side; medians are printed")
    parser.add_argument("--seed", type=int, default=1, help="seed of random.Random")
    parser.add_argument("--only", default=",".join(SIDES), help="comma-separated sides to run")
    parser.add_argument("--postgres", default=URL, help="PostgreSQL URL (a scratch database)")
    args = parser.parse_args(argv)
    args.sides = [side.strip() for side in args.only.split(",") if side.strip()]
    unknown = [side for side in args.sides if side not in SIDES]
    if unknown or not args.sides:
        parser.error(f"unknown sides {unknown}; choose from {', '.join(SIDES)}")
    if min(args.online, args.bulk, args.facade) < 1 or args.runs < 1:
        parser.error("--online, --bulk, --facade and --runs must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse(argv)
    work = make_workload(args.seed, args.online, args.bulk, args.facade)
    results: dict[str, list[Outcome]] = {side: [] for side in args.sides}
    with ExitStack() as cleanup:
        args.hordak = HordakDatabase(args.postgres)
        cleanup.callback(args.hordak.drop)
        for run in range(args.runs):
            for side in args.sides:  # interleaved, so that a noisy spell hits every side
                started = time.perf_counter()
                results[side].append(SIDES[side](work, args))
                print(
                    f"  run {run + 1}: {side} {time.perf_counter() - started:.1f} s",
                    file=sys.stderr,
                )
    report(args, results)


def median_of(outcomes: list[Outcome], mode: str, metric: Callable[[Timing], float]) -> float:
    return statistics.median(metric(outcome.modes[mode]) for outcome in outcomes)


def report(args: argparse.Namespace, results: dict[str, list[Outcome]]) -> None:
    print(
        f"\nWorkload W: {ACCOUNTS:,} accounts, 1-{MINUTES_MAX} minutes a transfer, seed"
        f" {args.seed}; online {args.online:,} transfers one per commit; bulk {args.bulk:,} in"
        f" commits of {BATCH:,}; facade {args.facade:,} credits one per commit."
        f"\nMedian of {args.runs} run{'s' * (args.runs > 1)}, the sides interleaved in each;"
        " every balance read back equals the replay."
    )
    print(
        f"\n  {'side':<24} {'mode':<7} {'transfers/s':>12} {'client CPU':>12} {'wall':>10}"
        f" {'CPU share':>10} {'read balances':>14}"
    )
    medians: dict[tuple[str, str], float] = {}
    for side, outcomes in results.items():
        read_ms = 1e3 * statistics.median(outcome.read_seconds for outcome in outcomes)
        for number, mode in enumerate(outcomes[0].modes):
            rate = median_of(outcomes, mode, lambda t: t.rate)
            cpu = median_of(outcomes, mode, lambda t: t.cpu_us)
            wall = median_of(outcomes, mode, lambda t: t.wall_us)
            medians[side, mode] = rate
            read = f"{read_ms:,.0f} ms" if number == 0 else ""
            print(
                f"  {side:<24} {mode:<7} {rate:>12,.0f} {cpu:>9,.0f} µs {wall:>7,.0f} µs"
                f" {100 * cpu / wall:>9.0f}% {read:>14}"
            )
    print("\n  client CPU and wall are per transfer; read balances: all 1,000 accounts once")
    print("\nRatios of medians (transfers/s)")
    for mine, peer, mode, target in RATIOS:
        if (mine, mode) not in medians or (peer, mode) not in medians:
            continue
        ratio = medians[mine, mode] / medians[peer, mode]
        verdict = (
            "(no target)"
            if target is None
            else f"(target >= {target:g}x: {'met' if ratio >= target else 'missed'})"
        )
        print(f"  {mine + ' / ' + peer + ', ' + mode:<52} {ratio:>6.2f}x {verdict}")


if __name__ == "__main__":
    main()
