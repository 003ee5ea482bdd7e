"""Crediting a service through the facade, against a bare ledger transfer, in the same run.

Run: .venv/bin/python bench/bank_credit.py [--postgres URL]. For each store
(memory, a SQLite file, and PostgreSQL if a URL is given) it times, median of
three runs:

- ``credit_service``: one use case = one unit of work that loads the policy and
  the two members, checks eligibility, weights and rounds the minutes, builds
  the postings, decides the ledger transfer and writes the credit record;
- the baseline: ``Book.transfer`` of the same two postings on the same store,
  which is what the ledger alone costs per commit.

The ratio facade/baseline is what the time-bank rules and their records cost.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import date, timedelta
from typing import Any

from timebank.bank.commands import CreditService, RegisterMember

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from store_common import RUNS, START, median_rate, report, timed

from timebank.bank import SYSTEM, TimeBank
from timebank.community import PolicyRules, Provenance, Role, Vetting
from timebank.ledger import ManualClock, credit, debit

OPERATIONS = {"memory": 5_000, "sqlite": 1_500, "postgres": 800}
RULES = PolicyRules(
    name="bench",
    payer_default="issuance",
    weights_permille={"companionship": 1_200},
    rounding_step_minutes=30,
    stored_minutes_max=10**8,
)


def new_bank(kind: str, directory: str, url: str | None, run: int) -> TimeBank:
    clock = ManualClock(START, tick=timedelta(microseconds=10))
    if kind == "memory":
        return TimeBank(clock=clock)
    if kind == "sqlite":
        return TimeBank.open(f"{directory}/bench-{run}.db", clock=clock)
    assert url is not None
    return TimeBank.open(url, clock=clock)


def facade_run(kind: str, url: str | None) -> Any:
    def one(run: int) -> tuple[int, float]:
        with tempfile.TemporaryDirectory() as directory:
            bank = new_bank(kind, directory, url, run)
            book = bank.create_book(f"facade-{run}-{os.getpid()}", RULES)
            for member_id, born in (("li", date(1963, 5, 1)), ("zhang", date(1940, 3, 3))):
                book.members.register(
                    RegisterMember(
                        member_id=member_id,
                        name="李娜",
                        birth_date=born,
                        community="gulou",
                        roles={Role.VOLUNTEER},
                        vetting=Vetting.STREET,
                    ),
                    actor=SYSTEM,
                )
            operations = OPERATIONS[kind]
            served_at = START

            def work() -> None:
                for _ in range(operations):
                    book.credits.record(
                        CreditService(
                            provider_id="li",
                            recipient_id="zhang",
                            category="companionship",
                            raw_minutes=50,
                            served_at=served_at,
                            provenance=Provenance.ORGANISATION_CONFIRMATION,
                        ),
                        actor=SYSTEM,
                    )

            seconds = timed(work)
            assert book.statements.balance("li").own_minutes == 60 * operations
            bank.close()
            return operations, seconds

    return one


def baseline_run(kind: str, url: str | None) -> Any:
    def one(run: int) -> tuple[int, float]:
        with tempfile.TemporaryDirectory() as directory:
            bank = new_bank(kind, directory, url, run + 100)
            book = bank.ledger.create_book(f"ledger-{run}-{os.getpid()}")
            book.open_account("issuance", balance_minutes_min=None)
            book.open_account("m.li")
            operations = OPERATIONS[kind]

            def work() -> None:
                for number in range(operations):
                    book.transfer(f"t{number}", [debit("issuance", 60), credit("m.li", 60)])

            seconds = timed(work)
            assert book.statements.balance("m.li").posted_minutes == 60 * operations
            bank.close()
            return operations, seconds

    return one


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", help="a PostgreSQL URL (a scratch database)")
    args = parser.parse_args()
    kinds = ["memory", "sqlite"] + (["postgres"] if args.postgres else [])
    for kind in kinds:
        facade = median_rate(RUNS, facade_run(kind, args.postgres))
        baseline = median_rate(RUNS, baseline_run(kind, args.postgres))
        report(
            f"{kind}: credits per second, median of {RUNS} runs",
            [
                ("facade credit_service (rules + record + transfer)", facade, "/s"),
                ("baseline Book.transfer (ledger only)", baseline, "/s"),
                ("ratio facade / baseline (percent)", 100 * facade / baseline, "%"),
            ],
        )


if __name__ == "__main__":
    main()
