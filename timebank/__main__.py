"""The ``timebank`` command. For now it runs a small ledger demo that prints balances."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

from timebank.ledger import Ledger, ManualClock, credit, debit


def demo() -> None:
    """Credit two volunteers from a community pool, hold and post a redemption, and verify."""
    clock = ManualClock(datetime(2026, 11, 1, 9, 0, tzinfo=UTC), tick=timedelta(minutes=1))
    book = Ledger(clock=clock).create_book("sunflower-community")
    book.open_account("pool", balance_minutes_min=None)
    for member in ("wang-fang", "li-jun", "zhang-wei"):
        book.open_account(member)
    book.transfer(
        "event-2026-11-01",
        [debit("pool", 180), credit("wang-fang", 90), credit("li-jun", 90)],
        code="group-event",
    )
    book.hold("order-17", [debit("wang-fang", 60), credit("zhang-wei", 60)])
    book.post_hold("order-17-done", "order-17", amount_minutes=45)
    print(f"{'account':<14}{'posted':>8}{'pending':>9}")
    for account in book.accounts():
        balance = account.balance()
        print(f"{account.account_id:<14}{balance.posted_minutes:>8}{balance.pending_minutes:>9}")
    report = book.verify()
    print(
        f"verify: {'ok' if report.ok else report.first_break}, "
        f"{report.transactions_checked} transactions, {report.accounts_checked} accounts"
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args in ([], ["demo"]):
        demo()
        return 0
    print("usage: timebank [demo]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
