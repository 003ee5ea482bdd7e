"""The reports' aggregates are an optional capability: the bank's fallback gives the same figures.

A store may offer ``OrderAggregates`` on its order readers (the SQL store does,
in SQL); the bank's ``Orders`` otherwise computes the tallies from the orders'
rows (the memory store has none). For any orders, on SQLite and PostgreSQL,
the fallback over the same data gives exactly the store's aggregate, and so
does the memory store's reader.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from timebank.bank.records import Orders, order_row
from timebank.community.exchange import Order, OrderStatus
from timebank.community.memory import MemoryBankStore
from timebank.community.port import (
    BankStore,
    BankUnit,
    OrderAggregates,
    OrderQuery,
    OrderReader,
    OrderTally,
    VolunteerTally,
)
from timebank.store import open_bank_store

ZONE = ZoneInfo("Asia/Shanghai")
"""Months are local: an order requested at 20:00 UTC on a month's last day is the next's."""
START = datetime(2026, 1, 1, tzinfo=UTC)
MONTHS = [f"2026-{number:02}" for number in range(1, 5)]
_books = itertools.count()


class RowsOnly:
    """An order reader with the port's required reads only: no aggregates."""

    def __init__(self, orders: OrderReader) -> None:
        self._orders = orders

    def get(self, order_id: str) -> bytes | None:
        return self._orders.get(order_id)

    def scan(
        self, *, status: str | None = None, after: str | None = None, limit: int
    ) -> Sequence[tuple[str, bytes]]:
        return self._orders.scan(status=status, after=after, limit=limit)

    def query(
        self, query: OrderQuery, *, after: str | None = None, limit: int
    ) -> Sequence[tuple[str, bytes]]:
        return self._orders.query(query, after=after, limit=limit)

    def due(
        self, before: datetime, *, after: str | None = None, limit: int
    ) -> Sequence[tuple[str, bytes]]:
        return self._orders.due(before, after=after, limit=limit)


def typed(orders: OrderReader) -> Orders:
    return Orders(orders, partial(order_row, zone=ZONE))


_hours = st.integers(min_value=0, max_value=24 * 120)
_moments = _hours.map(lambda hours: START + timedelta(hours=hours))
_spans = st.none() | st.integers(min_value=0, max_value=24 * 40).map(lambda h: timedelta(hours=h))


@st.composite
def _orders(draw: st.DrawFn) -> Order:
    requested = draw(_moments)
    accepted = draw(_spans)
    completed = draw(_spans) if accepted is not None else None
    due = draw(_spans)
    volunteer = draw(st.sampled_from([None, "v1", "v2", "v3"]))
    return Order(
        order_id="o",
        recipient_id=draw(st.sampled_from(["r1", "r2"])),
        category=draw(st.sampled_from(["meals", "rides", "visits"])),
        community=draw(st.sampled_from(["gulou", "xuanwu"])),
        grid=draw(st.sampled_from(["", "g1", "g2"])),
        estimated_minutes=60,
        reserved_minutes=60,
        policy_version=1,
        status=draw(st.sampled_from(list(OrderStatus))),
        requested_at=requested,
        accept_due_at=requested + timedelta(days=1),
        complete_due_at=None if due is None else requested + due,
        volunteer_id=volunteer,
        accepted_at=None if accepted is None else requested + accepted,
        completed_at=(
            None if completed is None or accepted is None else requested + accepted + completed
        ),
        credited_minutes=draw(st.integers(min_value=0, max_value=600)),
        rating=draw(st.sampled_from([None, 1, 2, 3, 4, 5])),
    )


order_lists = st.lists(_orders(), max_size=30).map(
    lambda found: [
        msgspec.structs.replace(order, order_id=f"o{number:03d}")
        for number, order in enumerate(found)
    ]
)
month_ranges = st.tuples(st.sampled_from(MONTHS), st.sampled_from(MONTHS)).map(sorted)
periods = st.tuples(st.none() | _moments, st.none() | _moments)
scopes = st.sampled_from([None, ("gulou",), ("gulou", "xuanwu"), ()])


def _put(bank: BankStore, book_id: str, orders: list[Order]) -> None:
    def work(unit: BankUnit) -> None:
        for order in orders:
            unit.orders.put(order_row(order, ZONE), msgspec.json.encode(order))

    bank.transact(book_id, work)


def _figures(
    orders: Orders,
    months: Sequence[str],
    period: tuple[datetime | None, datetime | None],
    scope: tuple[str, ...] | None,
) -> tuple[list[OrderTally], list[VolunteerTally]]:
    return (
        list(orders.tallies(months[0], months[-1], scope)),
        list(orders.volunteers(*period, scope)),
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_factory(request: pytest.FixtureRequest) -> Iterator[Callable[[], BankStore]]:
    """One SQL store shared by a property test's examples, each on a book of its own."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    with open_bank_store(url) as opened:
        yield lambda: opened


def test_the_sql_store_has_aggregates_and_the_memory_store_has_none(
    sqlite_url: str,
) -> None:
    memory = MemoryBankStore()
    memory.ledger_store.create_book("b")
    with memory.read("b") as reader:
        assert not isinstance(reader.orders, OrderAggregates)
    with open_bank_store(sqlite_url) as sql:
        sql.ledger_store.create_book("b")
        with sql.read("b") as reader:
            assert isinstance(reader.orders, OrderAggregates)
            assert not isinstance(RowsOnly(reader.orders), OrderAggregates)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(orders=order_lists, months=month_ranges, period=periods, scope=scopes)
def test_the_fallback_equals_the_sql_aggregate(
    sql_factory: Callable[[], BankStore],
    orders: list[Order],
    months: list[str],
    period: tuple[datetime | None, datetime | None],
    scope: tuple[str, ...] | None,
) -> None:
    """For any orders: the SQL aggregate, the fallback over the SQL store's rows and the
    fallback over the memory store's give the same tallies."""
    sql = sql_factory()
    book_id = f"b{next(_books)}"
    sql.ledger_store.create_book(book_id)
    _put(sql, book_id, orders)
    memory = MemoryBankStore()
    memory.ledger_store.create_book(book_id)
    _put(memory, book_id, orders)
    with sql.read(book_id) as reader:
        assert isinstance(reader.orders, OrderAggregates)
        aggregate = _figures(typed(reader.orders), months, period, scope)
        fallback = _figures(typed(RowsOnly(reader.orders)), months, period, scope)
    with memory.read(book_id) as reader:
        on_memory = _figures(typed(reader.orders), months, period, scope)
    assert fallback == aggregate
    assert on_memory == aggregate


def test_the_fallback_reads_every_page(sqlite_url: str) -> None:
    """More orders than one page of the fallback's scan are all counted."""
    from timebank.bank.records import SCAN_PAGE

    orders = [
        Order(
            order_id=f"o{number:05d}",
            recipient_id="r1",
            category="meals",
            community="gulou",
            estimated_minutes=60,
            reserved_minutes=60,
            policy_version=1,
            requested_at=START,
            accept_due_at=START + timedelta(days=1),
            volunteer_id="v1",
            accepted_at=START + timedelta(hours=1),
        )
        for number in range(SCAN_PAGE * 2 + 3)
    ]
    with open_bank_store(sqlite_url) as sql:
        sql.ledger_store.create_book("b")
        _put(sql, "b", orders)
        with sql.read("b") as reader:
            aggregate = _figures(typed(reader.orders), MONTHS, (None, None), None)
            fallback = _figures(typed(RowsOnly(reader.orders)), MONTHS, (None, None), None)
    assert fallback == aggregate
    assert aggregate[0][0].requested == len(orders)
    assert aggregate[1][0].accepted == len(orders)
