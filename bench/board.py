"""The volunteer board (好人榜) over a book's credits, against reading the same records raw.

Run: .venv/bin/python bench/board.py [--credits N] [--runs 3]. It registers 500
volunteers in a SQLite book and writes N posted service credits (default
100,000; half of them made by service orders, half paper records) spread over
a year, beside the ledger through the facade's records; then times, median of
the runs, ``book.reports.volunteer_board`` for one month, and as the same-run
baseline the least such a report could cost: reading every credit record's
body of the book with one raw ``SELECT`` (no decoding). The board counts every
credit a volunteer earned in the month (orders, paper records, events, wishes),
so it reads the book's credits; this shows how that grows with the book.

Target: under 5 s (the reports' target) at 1,000,000 credits.
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
from datetime import UTC, date, datetime, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from timebank.bank import SYSTEM, TimeBank
from timebank.bank.commands import RegisterMember
from timebank.community import Credit, CreditStatus, Provenance, Role, Vetting
from timebank.ledger import ManualClock

VOLUNTEERS = 500
BATCH = 5_000
YEAR = datetime(2025, 12, 31, 16, 0, tzinfo=UTC)  # 2026-01-01 00:00 in Beijing


def seed(bank: TimeBank, credits: int) -> None:
    book = bank.create_book("board", "nanjing")
    volunteers = [f"v{n}" for n in range(VOLUNTEERS)]
    for volunteer in volunteers:
        book.members.register(
            RegisterMember(
                member_id=volunteer,
                name=f"志愿者{volunteer}",
                birth_date=date(1960, 1, 1),
                community="ninghai",
                roles={Role.VOLUNTEER},
                vetting=Vetting.STREET,
            ),
            actor=SYSTEM,
        )
    chosen = random.Random(14)
    for first in range(0, credits, BATCH):
        batch = []
        for n in range(first, min(credits, first + BATCH)):
            served = YEAR + timedelta(minutes=chosen.randrange(365 * 24 * 60))
            volunteer = chosen.choice(volunteers)
            batch.append(
                Credit(
                    credit_id=f"order-o{n}" if n % 2 else f"paper-{n}",
                    provider_id=volunteer,
                    recipient_id=None,
                    payer_account="issuance",
                    category="meals",
                    raw_minutes=60,
                    credited_minutes=60,
                    provenance=Provenance.PAPER_RECORD,
                    policy_version=1,
                    served_at=served,
                    place="",
                    status=CreditStatus.POSTED,
                    transaction_id=f"t{n}",
                    recorded_at=served,
                    actor=SYSTEM,
                    provider_minutes=60,
                    provider_account=f"m.{volunteer}.own",
                )
            )
        book.run(SYSTEM, lambda ctx, batch=batch: [ctx.records.put_credit(c) for c in batch])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--credits", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    path = os.path.join(tempfile.mkdtemp(), "board.db")
    clock = ManualClock(datetime(2026, 12, 31, tzinfo=UTC))
    with TimeBank.open(path, clock=clock) as bank:
        started = time.perf_counter()
        seed(bank, args.credits)
        print(f"seeded {args.credits:,} credits in {time.perf_counter() - started:.1f} s")
        book = bank.book("board")
        board_times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            board = book.reports.volunteer_board("2026-06", limit=100)
            board_times.append(time.perf_counter() - started)
    raw_times = []
    with sqlite3.connect(path) as connection:
        for _ in range(args.runs):
            started = time.perf_counter()
            rows = connection.execute(
                "SELECT body FROM records WHERE book_id = 'board' AND kind = 'credit'"
            ).fetchall()
            raw_times.append(time.perf_counter() - started)
    board_s, raw_s = statistics.median(board_times), statistics.median(raw_times)
    print(f"volunteer_board, one month:        {board_s:6.2f} s ({len(board)} places)")
    print(f"raw SELECT of the {len(rows):,} credit bodies: {raw_s:6.2f} s")
    print(f"ratio board / raw read: {board_s / raw_s:.1f}x; target < 5 s: "
          f"{'met' if board_s < 5 else 'missed'}")  # fmt: skip


if __name__ == "__main__":
    main()
