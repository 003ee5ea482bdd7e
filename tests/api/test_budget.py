"""What one HTTP request costs the database: one connection, and a bounded count of statements.

An HTTP write is one unit of work and an HTTP read one snapshot, each on one
connection (no probe of the book beside it). The statements each request runs on
SQLite (every statement the driver is given, ``BEGIN`` and ``COMMIT`` included) are
pinned here at what they are today: a change that makes a request run more fails,
and one that makes it run fewer lowers the figure below.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import event

from tests.api.conftest import SECRET
from tests.store.databases import postgres_base_url, postgres_schema, sqlite_path
from timebank.api import ApiSettings, create_app, issue_token
from timebank.bank import ISSUANCE, SYSTEM, BankBook, TimeBank
from timebank.bank.commands import CreditService, RegisterMember, UpdateMember
from timebank.community.model import Provenance, Role, Vetting
from timebank.community.policy import PolicyRules
from timebank.ledger import ManualClock

ORDER = {"recipient_id": "zhang", "category": "companionship", "estimated_minutes": 60}
STEPS: list[tuple[str, str, str, dict[str, Any] | None, int]] = [
    # label, method, path, body, SQLite statements at most
    ("request an order", "POST", "/orders", {**ORDER, "order_id": "o1"}, 12),
    # Dispatch reads the volunteer's offers (and, when they have some, their booked orders).
    ("dispatch it", "POST", "/orders/o1/dispatch", {"volunteer_id": "li"}, 11),
    ("accept it", "POST", "/orders/o1/accept", {"volunteer_id": "li"}, 22),
    ("start it", "POST", "/orders/o1/start", None, 9),
    ("complete it", "POST", "/orders/o1/complete", {"actual_minutes": 60}, 10),
    ("confirm it", "POST", "/orders/o1/confirm", None, 19),
    ("read the order", "GET", "/orders/o1", None, 5),
    ("list orders", "GET", "/orders?limit=10", None, 5),
    ("read a member", "GET", "/members/li", None, 5),
    ("read a balance", "GET", "/members/li/balance", None, 8),
    ("read a passbook", "GET", "/members/li/passbook", None, 13),
]


class Meter:
    def __init__(self) -> None:
        self.connections = 0
        self.statements = 0

    def reset(self) -> None:
        self.connections = self.statements = 0


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def metered(
    request: pytest.FixtureRequest, clock: ManualClock, tmp_path: Path
) -> Iterator[tuple[str, TimeBank, Meter]]:
    meter = Meter()
    if request.param == "sqlite":
        with TimeBank.open(sqlite_path(tmp_path), clock=clock) as bank:
            yield request.param, _metered(bank, meter), meter
    else:
        if postgres_base_url() is None:
            pytest.skip("set TIMEBANK_TEST_POSTGRES_URL to run the PostgreSQL tests")
        with postgres_schema() as (url, _), TimeBank.open(url, clock=clock) as bank:
            yield request.param, _metered(bank, meter), meter


def _metered(bank: TimeBank, meter: Meter) -> TimeBank:
    engine = bank.store.ledger_store.engine  # type: ignore[attr-defined]

    @event.listens_for(engine, "checkout")
    def checked_out(*_: object) -> None:
        meter.connections += 1

    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def traced(connection: Any, _: object) -> None:
            connection.set_trace_callback(
                lambda _: setattr(meter, "statements", meter.statements + 1)
            )

        engine.dispose()  # new connections, each traced
    return bank


def _people(book: BankBook, **roles: set[Role]) -> None:
    """Register each member with their roles in one community; ``li`` is vetted."""
    for member_id, member_roles in roles.items():
        book.members.register(
            RegisterMember(
                member_id=member_id,
                name=member_id,
                birth_date=date(1950, 1, 1),
                community="ninghai",
                roles=member_roles,
            ),
            actor=SYSTEM,
        )
    book.members.update(UpdateMember(member_id="li", vetting=Vetting.STREET), actor=SYSTEM)


def test_every_request_is_one_connection_and_its_statements_do_not_grow(
    metered: tuple[str, TimeBank, Meter],
) -> None:
    kind, bank, meter = metered
    book = bank.create_book("gulou", "nanjing")
    _people(book, wang={Role.COORDINATOR}, li={Role.VOLUNTEER}, zhang={Role.RECIPIENT})
    app = create_app(bank, ApiSettings(token_secret=SECRET, rate_limit_per_minute=0))
    token = issue_token(SECRET, subject="wang", role="member", book="gulou")
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as client:
        costs = []
        for label, method, path, body, budget in STEPS:
            meter.reset()
            response = client.request(method, "/books/gulou" + path, json=body, headers=headers)
            assert response.status_code < 300, (label, response.text)
            costs.append((label, meter.connections, meter.statements))
            assert meter.connections == 1, (label, meter.connections)
            if kind == "sqlite":
                assert meter.statements <= budget, (label, meter.statements, budget)
    # A request never costs nothing: the meter is counting.
    assert all(
        connections and (kind != "sqlite" or statements) for _, connections, statements in costs
    )


def test_a_passbook_page_costs_the_same_whatever_its_length(
    clock: ManualClock, tmp_path: Path
) -> None:
    """The page's transactions are read together, not one line at a time (SQLite counts)."""
    meter = Meter()
    bank = _metered(TimeBank.open(sqlite_path(tmp_path), clock=clock), meter)
    book = bank.create_book("gulou", PolicyRules(name="plain"))
    _people(book, li={Role.VOLUNTEER}, zhang={Role.RECIPIENT})

    def credit(count: int) -> None:
        for _ in range(count):
            book.credits.record(
                CreditService(
                    provider_id="li",
                    recipient_id="zhang",
                    category="companionship",
                    raw_minutes=30,
                    served_at=clock.now(),
                    provenance=Provenance.PAPER_RECORD,
                    payer=ISSUANCE,
                ),
                actor=SYSTEM,
            )

    def cost() -> tuple[int, int]:
        meter.reset()
        page = book.statements.passbook("li", limit=100, actor="li")
        return len(page.entries), meter.statements

    credit(1)
    lines, short = cost()
    assert lines == 1
    credit(49)
    lines, long = cost()
    assert lines == 50
    assert long == short
    bank.close()
