"""Printing a year's passbook of 100,000 lines, and a month's report, against 10,000 lines.

Run: .venv/bin/python bench/passbook.py [--lines N] [--small N]. It builds one
SQLite book through the facade (members, relatives, a sponsor, twenty events)
and gives one member, Wu, a year of passbook lines through the ledger's bulk
path (``Book.submit_many``, 2,000 requests per unit) with the metadata the
facade writes: services she gave (most served up to three days before they
were recorded, so the printed order differs from the ledger's), services
confirmed later (their service time is on a credit record, written beside
them), events, redemptions, gifts to and from relatives, donations and
grants. A second member gets ``--small`` lines (default 10,000) the same way.

Then, median of three runs each, through ``book.statements.printable`` and
``timebank.printing`` writing to a file on disk:

- the year's passbook as HTML, XLSX and CSV (read and rendered: the whole
  export, as ``timebank export passbook`` does it);
- the month's report (HTML and XLSX) of the busiest month;
- the peak memory the export allocated (``tracemalloc``), for the year and
  for the small passbook: flat memory means the year's peak is not ~10x the
  small one's.

Target: each export under 2 s.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from timebank import printing
from timebank.bank import ISSUANCE, POOL, SYSTEM, BankBook, TimeBank, member_account
from timebank.bank.commands import AddSponsor, CreateEvent, RegisterMember, Relate
from timebank.bank.records import Records
from timebank.community import Credit, CreditStatus, PolicyRules, Provenance, RelationKind, Role
from timebank.i18n import text
from timebank.ledger import ManualClock, Transfer, credit, debit

RUNS = 3
BATCH = 2_000
TARGET_SECONDS = 2.0
YEAR_START = datetime(2025, 12, 31, 16, 0, tzinfo=UTC)  # 2026-01-01 00:00 in Beijing
RULES = PolicyRules(
    name="Bench time bank",
    payer_default="issuance",
    stored_minutes_max=None,
    credit_limit_minutes=10**9,
)
CATEGORIES = ["meals", "cleaning", "repairs", "companionship", "health", "errands"]
NEIGHBOURS = [f"n{number:02}" for number in range(30)]
EVENTS = [f"event-{number:02}" for number in range(20)]


def seed_people(bank: TimeBank) -> BankBook:
    book = bank.create_book("bench", RULES)
    people = [("wu", "吴淑珍", {Role.VOLUNTEER}), ("li", "李娜", {Role.VOLUNTEER})]
    people += [(n, f"邻居{number}号", {Role.RECIPIENT}) for number, n in enumerate(NEIGHBOURS)]
    people += [("daughter", "王芳", {Role.VOLUNTEER}), ("son", "王军", {Role.VOLUNTEER})]
    for member_id, name, roles in people:
        book.members.register(
            RegisterMember(
                member_id=member_id,
                name=name,
                birth_date=date(1955, 5, 5),
                community="ninghai",
                roles=roles,
            ),
            actor=SYSTEM,
        )
    for member_id in ("wu", "li"):
        for other, kind in (("daughter", RelationKind.CHILD), ("son", RelationKind.CHILD)):
            book.members.relate(
                Relate(member_id=member_id, other_id=other, kind=kind), actor=SYSTEM
            )
    book.programme.add_sponsor(AddSponsor(sponsor_id="bank", name="金陵银行"), actor=SYSTEM)
    for number, event_id in enumerate(EVENTS):
        book.events.create(
            CreateEvent(
                event_id=event_id,
                title=f"社区活动 第{number + 1}期",
                category="community",
                held_at=YEAR_START - timedelta(days=1),
                place="活动中心",
            ),
            actor=SYSTEM,
        )
    return book


def requests_of(
    member_id: str, count: int, clock: ManualClock, rng: random.Random
) -> Iterator[tuple[Transfer, Credit | None]]:
    """``count`` passbook lines for the member, each a transfer (and maybe a credit record)."""
    own = member_account(member_id)
    for number in range(count):
        recorded = clock.now()
        roll = rng.random()
        category = rng.choice(CATEGORIES)
        neighbour = rng.choice(NEIGHBOURS)
        minutes = rng.choice((30, 45, 60, 90, 120))
        served = recorded - timedelta(minutes=rng.randrange(0, 3 * 24 * 60))
        tid = f"{member_id}-{number}"
        meta = {"policy_version": "1", "actor": SYSTEM}
        record: Credit | None = None
        if roll < 0.65:
            # A service: posted at once (its service time is the transfer's effective time),
            # or confirmed later (the service time is on the credit record, named in it).
            credit_id = f"c-{tid}"
            later = roll >= 0.55
            postings = (debit(ISSUANCE, minutes), credit(own, minutes))
            meta |= {"kind": "service", "category": category, "provider": member_id}
            meta |= {"recipient": neighbour, "provenance": "paper_record"}
            if later:
                meta["credit"] = credit_id
            record = Credit(
                credit_id=credit_id,
                provider_id=member_id,
                recipient_id=neighbour,
                payer_account=ISSUANCE,
                category=category,
                raw_minutes=minutes,
                credited_minutes=minutes,
                provenance=Provenance.PAPER_RECORD,
                policy_version=1,
                served_at=served,
                place="",
                status=CreditStatus.POSTED,
                transaction_id=tid,
                recorded_at=recorded,
                actor=SYSTEM,
                provider_minutes=minutes,
                provider_account=own,
            )
            yield (
                Transfer(
                    transaction_id=tid,
                    postings=postings,
                    code="service",
                    metadata=meta,
                    effective_at=None if later else served,
                ),
                record,
            )
            continue
        if roll < 0.75:
            postings = (debit(ISSUANCE, minutes), credit(own, minutes))
            meta |= {"kind": "event", "event": rng.choice(EVENTS), "category": "community"}
            yield Transfer(transaction_id=tid, postings=postings, code="event", metadata=meta), None
            continue
        if roll < 0.85:
            payee = member_account(rng.choice(("daughter", "son")))
            meta |= {"kind": "redemption", "category": category, "saver": member_id}
            postings = (debit(own, minutes), credit(payee, minutes))
            code = "redemption"
        elif roll < 0.92:
            relative = rng.choice(("daughter", "son"))
            meta |= {"kind": "gift", "giver": member_id, "receiver": relative}
            postings = (debit(own, minutes), credit(member_account(relative, "gifted"), minutes))
            code = "gift"
        elif roll < 0.97:
            meta |= {"kind": "donation", "donor": member_id}
            postings = (debit(own, minutes), credit(POOL, minutes))
            code = "donation"
        else:
            meta |= {"kind": "grant", "reason": "独居老人 企业资助", "source": "sponsor.bank"}
            postings = (
                debit("sponsor.bank", minutes),
                credit(member_account(member_id, "gifted"), minutes),
            )
            code = "grant"
        yield Transfer(transaction_id=tid, postings=postings, code=code, metadata=meta), record


def seed_lines(
    bank: TimeBank, book: BankBook, member_id: str, count: int, clock: ManualClock
) -> None:
    rng = random.Random(member_id)
    stream = requests_of(member_id, count, clock, rng)
    while True:
        batch = [item for _, item in zip(range(BATCH), stream, strict=False)]
        if not batch:
            return
        outcomes = book.ledger_book.submit_many([request for request, _ in batch])
        refused = [o for o in outcomes if isinstance(o, Exception)]
        assert not refused, refused[:3]
        records = [record for _, record in batch if record is not None]

        def write(unit: Any, records: list[Credit] = records) -> None:
            typed = Records(unit.records)
            for record in records:
                typed.put_credit(record)

        bank.store.transact(book.book_id, write)


def median_seconds(action: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def peak_bytes(action: Callable[[], object]) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    action()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def exporter(
    book: BankBook, member_id: str, write: Callable[..., None], path: str
) -> Callable[[], None]:
    t = text("zh")

    def run() -> None:
        passbook = book.statements.printable(member_id)
        with open(path, "wb") as out:
            write(passbook, t, out)

    return run


def month_exporter(book: BankBook, month: str, path: str) -> Callable[[], None]:
    t = text("zh")

    def run() -> None:
        report = printing.month_report(book, month)
        with open(path + ".html", "wb") as out:
            printing.write_month_html(report, t, out)
        with open(path + ".xlsx", "wb") as out:
            printing.write_month_xlsx(report, t, out)

    return run


WRITERS: dict[str, Callable[[Any, Any, IO[bytes]], None]] = {
    "html": printing.write_passbook_html,
    "xlsx": printing.write_passbook_xlsx,
    "csv": printing.write_passbook_csv,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        # The clock is read twice a line (for the service time, then by the ledger).
        tick = (timedelta(days=365) / (2 * (args.lines + args.small))).total_seconds()
        clock = ManualClock(YEAR_START + timedelta(days=3), tick=timedelta(seconds=tick))
        started = time.perf_counter()
        with TimeBank.open(f"{directory}/passbook.db", clock=clock) as bank:
            book = seed_people(bank)
            seed_lines(bank, book, "wu", args.lines, clock)
            seed_lines(bank, book, "li", args.small, clock)
            print(
                f"seeded {args.lines:,} + {args.small:,} lines"
                f" in {time.perf_counter() - started:.1f} s"
            )
            passbook = book.statements.printable("wu")
            print(
                f"Wu's passbook: {len(passbook):,} lines, closing balance"
                f" {passbook.closing_balance_minutes:,} min"
                f" (ledger {book.statements.balance('wu').total_minutes:,})"
            )
            rows = []
            for name, write in WRITERS.items():
                path = f"{directory}/wu.{name}"
                seconds = median_seconds(exporter(book, "wu", write, path))
                size = os.path.getsize(path)
                big = peak_bytes(exporter(book, "wu", write, path))
                small = peak_bytes(exporter(book, "li", write, f"{directory}/li.{name}"))
                rows.append((name, seconds, size, big, small))
            month = "2026-06"
            month_seconds = median_seconds(month_exporter(book, month, f"{directory}/month"))
        print(f"\nExports of a year's passbook ({args.lines:,} lines), median of {RUNS}, to disk")
        for name, seconds, size, big, small in rows:
            flag = "ok" if seconds < TARGET_SECONDS else "OVER TARGET"
            print(
                f"  {name:<5} {seconds:6.2f} s ({flag})  file {size / 1e6:6.1f} MB"
                f"  peak {big / 1e6:6.1f} MB  vs {args.small:,} lines {small / 1e6:6.1f} MB"
                f"  ({big / small:4.1f}x)"
            )
        flag = "ok" if month_seconds < TARGET_SECONDS else "OVER TARGET"
        print(f"  month report {month} (HTML and XLSX): {month_seconds:6.2f} s ({flag})")


if __name__ == "__main__":
    main()
