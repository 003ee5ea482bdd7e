"""Service orders and the outbox: one contract, kept alike in memory, on SQLite and PostgreSQL.

The reports (``OrderAggregates``) are the SQL store's own: the memory store has none,
and the bank computes the same figures from the rows for it (``test_port_aggregates``).

The worked examples use seven orders over three months of 2026 (times at 09:00 UTC)::

    id  month category grid status    volunteer done on time resp compl rating minutes served
    o1  01    meals    g1   confirmed v1        yes  yes      60   600  5      30      01-10
    o2  01    meals    g1   completed v2        yes  no      120  1200  3      45      01-20
    o3  01    meals    g1   cancelled -         no   no        -     -  -       0      -
    o4  01    rides    g2   accepted  v1        no   no       30     -  -       0      -
    o5  02    meals    g1   confirmed v1        yes  yes      90   900  4      60      02-03
    o6  02    rides    g1   requested -         no   no        -     -  -       0      -
    o7  03    meals    g1   completed v2        yes  yes      10   100  -      15      03-01

with deadlines on o2 (01-25), o4 (01-05) and o6 (02-02).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from msgspec.structs import replace

from timebank.community.memory import MemoryBankStore
from timebank.community.port import (
    RECORD_BYTES_MAX,
    BankStore,
    BankUnit,
    OrderAggregates,
    OrderReader,
    OrderRow,
    OrderTally,
    VolunteerTally,
)
from timebank.store import SqlBankStore, open_bank_store

BOOK_ID = "centre"
OTHER_BOOK_ID = "other"


class Refused(Exception):
    """Raised by a test's work function to roll its unit back."""


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def order(order_id: str, **columns: Any) -> OrderRow:
    """An order requested on the 1st of its month, with nothing happened to it yet."""
    month = columns.pop("month", "2026-01")
    defaults: dict[str, Any] = {
        "status": "requested",
        "category": "meals",
        "community": "gulou",
        "grid": "g1",
        "recipient_id": "r1",
        "volunteer_id": None,
        "requested_at": at(int(month[5:]), 1),
        "due_at": None,
        "cancelled": False,
        "processed": False,
        "on_time": False,
        "response_seconds": None,
        "completion_seconds": None,
        "rating": None,
        "credited_minutes": 0,
        "served_at": None,
    }
    return OrderRow(order_id=order_id, month=month, **{**defaults, **columns})


def _done(volunteer_id: str, on_time: bool, seconds: tuple[int, int], rating: int | None) -> Any:
    return {
        "volunteer_id": volunteer_id,
        "processed": True,
        "on_time": on_time,
        "response_seconds": seconds[0],
        "completion_seconds": seconds[1],
        "rating": rating,
    }


EXAMPLE = [
    order(
        "o1",
        status="confirmed",
        credited_minutes=30,
        served_at=at(1, 10),
        **_done("v1", True, (60, 600), 5),
    ),
    order(
        "o2",
        status="completed",
        credited_minutes=45,
        # Stored in UTC, whatever zone it was given in.
        served_at=at(1, 20).astimezone(timezone(timedelta(hours=8))),
        due_at=at(1, 25),
        **_done("v2", False, (120, 1200), 3),
    ),
    order("o3", status="cancelled", cancelled=True),
    order(
        "o4",
        status="accepted",
        category="rides",
        grid="g2",
        volunteer_id="v1",
        response_seconds=30,
        due_at=at(1, 5),
    ),
    order(
        "o5",
        month="2026-02",
        status="confirmed",
        credited_minutes=60,
        served_at=at(2, 3),
        **_done("v1", True, (90, 900), 4),
    ),
    order("o6", month="2026-02", category="rides", due_at=at(2, 2)),
    order(
        "o7",
        month="2026-03",
        status="completed",
        credited_minutes=15,
        served_at=at(3, 1),
        **_done("v2", True, (10, 100), None),
    ),
]


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def bank(request: pytest.FixtureRequest) -> Iterator[BankStore]:
    """A store with two empty books, on each store the bank runs on."""
    if request.param == "memory":
        store: BankStore = MemoryBankStore()
        store.ledger_store.create_book(BOOK_ID)
        store.ledger_store.create_book(OTHER_BOOK_ID)
        yield store
        return
    url: str = request.getfixturevalue(f"{request.param}_url")
    with open_bank_store(url) as opened:
        opened.ledger_store.create_book(BOOK_ID)
        opened.ledger_store.create_book(OTHER_BOOK_ID)
        yield opened


@pytest.fixture
def example(bank: BankStore) -> BankStore:
    """The store with the worked example's orders in the first book."""
    _put(bank, *EXAMPLE)
    return bank


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def aggregating(request: pytest.FixtureRequest) -> Iterator[BankStore]:
    """``bank`` on each store whose order readers have ``OrderAggregates``."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    with open_bank_store(url) as opened:
        opened.ledger_store.create_book(BOOK_ID)
        opened.ledger_store.create_book(OTHER_BOOK_ID)
        yield opened


@pytest.fixture
def aggregating_example(aggregating: BankStore) -> BankStore:
    """``example`` on each store whose order readers have ``OrderAggregates``."""
    _put(aggregating, *EXAMPLE)
    return aggregating


def _aggregates(orders: OrderReader) -> OrderAggregates | None:
    """The order reader's own reports, if it has them (not the memory store's)."""
    return orders if isinstance(orders, OrderAggregates) else None


def _put(bank: BankStore, *rows: OrderRow, book_id: str = BOOK_ID) -> None:
    def work(unit: BankUnit) -> None:
        for row in rows:
            unit.orders.put(row, f"body of {row.order_id} ({row.status})".encode())

    bank.transact(book_id, work)


def _ids(pairs: Any) -> list[str]:
    return [order_id for order_id, _ in pairs]


# --- orders ------------------------------------------------------------------------------


def test_put_get_and_replace(bank: BankStore) -> None:
    """A put inserts, a second put of the same id replaces its columns and body."""
    first = order("o1")
    _put(bank, first)
    with bank.read(BOOK_ID) as reader:
        assert reader.orders.get("o1") == b"body of o1 (requested)"
        assert reader.orders.get("o2") is None
    _put(bank, replace(first, status="accepted", volunteer_id="v1"))
    with bank.read(BOOK_ID) as reader:
        assert reader.orders.get("o1") == b"body of o1 (accepted)"
        assert reader.orders.scan(status="requested", limit=10) == []
        assert reader.orders.scan(status="accepted", limit=10) == [("o1", b"body of o1 (accepted)")]
        if (aggregates := _aggregates(reader.orders)) is not None:
            assert [t.volunteer_id for t in aggregates.volunteer_tally()] == ["v1"]


def test_orders_are_kept_per_book(example: BankStore) -> None:
    with example.read(OTHER_BOOK_ID) as reader:
        assert reader.orders.get("o1") is None
        assert reader.orders.scan(limit=10) == []
        assert reader.orders.due(at(12, 31), limit=10) == []
        if (aggregates := _aggregates(reader.orders)) is not None:
            assert aggregates.tally("2026-01", "2026-12") == []
            assert aggregates.volunteer_tally() == []


def test_scan_lists_orders_in_id_order_by_status_and_cursor(example: BankStore) -> None:
    with example.read(BOOK_ID) as reader:
        orders = reader.orders
        assert _ids(orders.scan(limit=100)) == ["o1", "o2", "o3", "o4", "o5", "o6", "o7"]
        assert _ids(orders.scan(limit=2)) == ["o1", "o2"]
        assert _ids(orders.scan(after="o5", limit=100)) == ["o6", "o7"]
        assert _ids(orders.scan(status="confirmed", limit=100)) == ["o1", "o5"]
        assert _ids(orders.scan(status="completed", after="o2", limit=100)) == ["o7"]
        assert _ids(orders.scan(status="confirmed", limit=1)) == ["o1"]
        assert orders.scan(status="expired", limit=100) == []
        assert orders.scan(limit=0) == []
        assert orders.scan(status="cancelled", limit=1) == [("o3", b"body of o3 (cancelled)")]


def test_due_lists_orders_whose_deadline_has_come_in_id_order(example: BankStore) -> None:
    """A deadline exactly at ``before`` is due; orders without one never are."""
    with example.read(BOOK_ID) as reader:
        orders = reader.orders
        assert _ids(orders.due(at(1, 4), limit=10)) == []
        assert _ids(orders.due(at(1, 25), limit=10)) == ["o2", "o4"]
        assert _ids(orders.due(at(1, 25) - timedelta(microseconds=1), limit=10)) == ["o4"]
        assert _ids(orders.due(at(12, 31), limit=10)) == ["o2", "o4", "o6"]
        assert _ids(orders.due(at(12, 31), after="o2", limit=10)) == ["o4", "o6"]
        assert _ids(orders.due(at(12, 31), limit=1)) == ["o2"]


def _tally(month: str, category: str, grid: str, *figures: int) -> OrderTally:
    names = [
        "requested",
        "cancelled",
        "processed",
        "on_time",
        "rated",
        "satisfied",
        "rating_sum",
        "responded",
        "response_seconds",
        "completion_seconds",
        "credited_minutes",
    ]
    assert len(figures) == len(names)
    return OrderTally(
        month=month, category=category, grid=grid, **dict(zip(names, figures, strict=True))
    )


def test_tally_counts_and_sums_per_month_category_and_grid(aggregating_example: BankStore) -> None:
    """The worked example's first two months, by hand."""
    with aggregating_example.read(BOOK_ID) as reader:
        assert reader.orders.tally("2026-01", "2026-02") == [
            _tally("2026-01", "meals", "g1", 3, 1, 2, 1, 2, 1, 8, 2, 180, 1800, 75),
            _tally("2026-01", "rides", "g2", 1, 0, 0, 0, 0, 0, 0, 1, 30, 0, 0),
            _tally("2026-02", "meals", "g1", 1, 0, 1, 1, 1, 1, 4, 1, 90, 900, 60),
            _tally("2026-02", "rides", "g1", 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        ]
        assert reader.orders.tally("2026-03", "2026-03") == [
            _tally("2026-03", "meals", "g1", 1, 0, 1, 1, 0, 0, 0, 1, 10, 100, 15),
        ]
        assert reader.orders.tally("2026-04", "2026-12") == []
        assert reader.orders.tally("2026-02", "2026-01") == []


def _volunteer(volunteer_id: str, *figures: int, last: datetime | None) -> VolunteerTally:
    accepted, processed, credited, rating_sum, rating_count = figures
    return VolunteerTally(
        volunteer_id=volunteer_id,
        accepted=accepted,
        processed=processed,
        credited_minutes=credited,
        rating_sum=rating_sum,
        rating_count=rating_count,
        last_served_at=last,
    )


def test_volunteer_tally_counts_orders_served_in_the_period(
    aggregating_example: BankStore,
) -> None:
    """Accepted and the last service count every order; the rest only those served in range."""
    with aggregating_example.read(BOOK_ID) as reader:
        tally = reader.orders.volunteer_tally
        assert tally() == [
            _volunteer("v1", 3, 2, 90, 9, 2, last=at(2, 3)),
            _volunteer("v2", 2, 2, 60, 3, 1, last=at(3, 1)),
        ]
        assert tally(at(1, 1, 0), at(2, 1, 0)) == [
            _volunteer("v1", 3, 1, 30, 5, 1, last=at(2, 3)),
            _volunteer("v2", 2, 1, 45, 3, 1, last=at(3, 1)),
        ]
        assert tally(served_from=at(2, 1, 0)) == [
            _volunteer("v1", 3, 1, 60, 4, 1, last=at(2, 3)),
            _volunteer("v2", 2, 1, 15, 0, 0, last=at(3, 1)),
        ]
        assert tally(served_until=at(1, 15)) == [
            _volunteer("v1", 3, 1, 30, 5, 1, last=at(2, 3)),
            _volunteer("v2", 2, 0, 0, 0, 0, last=at(3, 1)),
        ]
        # The period is half-open: served exactly at its end is outside it.
        assert tally(at(1, 10), at(2, 3))[0] == _volunteer("v1", 3, 1, 30, 5, 1, last=at(2, 3))


def test_a_volunteer_who_never_served_has_no_last_service(aggregating: BankStore) -> None:
    _put(aggregating, order("o1", status="accepted", volunteer_id="v9"))
    with aggregating.read(BOOK_ID) as reader:
        assert reader.orders.volunteer_tally() == [_volunteer("v9", 1, 0, 0, 0, 0, last=None)]


def test_a_unit_reads_its_own_orders_and_messages(bank: BankStore) -> None:
    """Inside a unit, gets, scans, reports and pending messages include its own writes."""

    def work(unit: BankUnit) -> None:
        unit.orders.put(order("o1", due_at=at(1, 2)), b"o1")
        unit.outbox.add("order.requested", "o1", '{"id":"o1"}', at(1, 1))
        assert unit.orders.get("o1") == b"o1"
        assert unit.orders.scan(status="requested", limit=10) == [("o1", b"o1")]
        assert _ids(unit.orders.due(at(1, 3), limit=10)) == ["o1"]
        if (aggregates := _aggregates(unit.orders)) is not None:
            assert [t.requested for t in aggregates.tally("2026-01", "2026-01")] == [1]
        assert [m.key for m in unit.outbox.pending(limit=10)] == ["o1"]

    bank.transact(BOOK_ID, work)


def test_a_unit_that_raises_leaves_no_order_and_no_message(bank: BankStore) -> None:
    _put(bank, order("o1"))

    def work(unit: BankUnit) -> None:
        unit.orders.put(order("o1", status="accepted"), b"changed")
        unit.orders.put(order("o2"), b"new")
        unit.outbox.add("order.accepted", "o1", "{}", at(1, 1))
        raise Refused

    with pytest.raises(Refused):
        bank.transact(BOOK_ID, work)
    with bank.read(BOOK_ID) as reader:
        assert reader.orders.get("o1") == b"body of o1 (requested)"
        assert reader.orders.get("o2") is None
        assert _ids(reader.orders.scan(limit=10)) == ["o1"]
        assert reader.outbox.pending(limit=10) == []


# --- outbox ------------------------------------------------------------------------------


def _add(bank: BankStore, *keys: str, book_id: str = BOOK_ID) -> None:
    def work(unit: BankUnit) -> None:
        for number, key in enumerate(keys):
            unit.outbox.add("order.requested", key, f'{{"n":{number}}}', at(1, 1 + number))

    bank.transact(book_id, work)


def test_pending_lists_undelivered_messages_in_seq_order(bank: BankStore) -> None:
    _add(bank, "a", "b")
    _add(bank, "c")
    with bank.read(BOOK_ID) as reader:
        pending = reader.outbox.pending(limit=10)
        assert [m.key for m in pending] == ["a", "b", "c"]
        assert pending[0].seq < pending[1].seq < pending[2].seq
        first = pending[0]
        assert (first.topic, first.body, first.created_at) == (
            "order.requested",
            '{"n":0}',
            at(1, 1),
        )
        assert first.delivered_at is None
        assert [m.key for m in reader.outbox.pending(after=first.seq, limit=10)] == ["b", "c"]
        assert [m.key for m in reader.outbox.pending(after=first.seq, limit=1)] == ["b"]
        assert reader.outbox.pending(after=pending[2].seq, limit=10) == []
        assert reader.outbox.pending(limit=0) == []


def test_mark_delivered_marks_each_message_once(bank: BankStore) -> None:
    """Only undelivered messages of the book change; the count says how many did."""
    _add(bank, "a", "b", "c")
    _add(bank, "theirs", book_id=OTHER_BOOK_ID)
    with bank.read(BOOK_ID) as reader:
        a, b, c = (m.seq for m in reader.outbox.pending(limit=10))
    with bank.read(OTHER_BOOK_ID) as reader:
        (theirs,) = (m.seq for m in reader.outbox.pending(limit=10))

    def mark(seqs: list[int], book_id: str = BOOK_ID) -> int:
        return bank.transact(book_id, lambda unit: unit.outbox.mark_delivered(seqs, at(2, 1)))

    assert mark([a, c, c, theirs, 10**9]) == 2
    assert mark([a, c]) == 0
    assert mark([]) == 0
    with bank.read(BOOK_ID) as reader:
        assert [m.seq for m in reader.outbox.pending(limit=10)] == [b]
    with bank.read(OTHER_BOOK_ID) as reader:
        assert [m.seq for m in reader.outbox.pending(limit=10)] == [theirs]
    assert mark([theirs], OTHER_BOOK_ID) == 1


def test_a_unit_that_raises_leaves_its_marks_undone(bank: BankStore) -> None:
    _add(bank, "a")

    def work(unit: BankUnit) -> None:
        (message,) = unit.outbox.pending(limit=10)
        assert unit.outbox.mark_delivered([message.seq], at(2, 1)) == 1
        assert unit.outbox.pending(limit=10) == []
        raise Refused

    with pytest.raises(Refused):
        bank.transact(BOOK_ID, work)
    with bank.read(BOOK_ID) as reader:
        assert [m.key for m in reader.outbox.pending(limit=10)] == ["a"]


def test_messages_added_later_get_later_seqs(bank: BankStore) -> None:
    """A delivery cursor never skips a message added after it."""
    _add(bank, "a")
    with bank.read(BOOK_ID) as reader:
        (first,) = reader.outbox.pending(limit=10)
    bank.transact(BOOK_ID, lambda unit: unit.outbox.mark_delivered([first.seq], at(1, 2)))
    _add(bank, "b")
    with bank.read(BOOK_ID) as reader:
        assert [m.key for m in reader.outbox.pending(after=first.seq, limit=10)] == ["b"]


# --- the SQL store only ---------------------------------------------------------------


@pytest.fixture
def sql_bank(store_url: str) -> Iterator[SqlBankStore]:
    with open_bank_store(store_url) as opened:
        opened.ledger_store.create_book(BOOK_ID)
        yield opened


def test_reports_are_one_aggregate_query_each(sql_bank: SqlBankStore) -> None:
    """The database groups and sums: each report is one statement, reading no order row."""
    _put(sql_bank, *EXAMPLE)
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(args[2])

    engine = sql_bank.ledger_store.engine
    with sql_bank.read(BOOK_ID) as reader:
        sa.event.listen(engine, "before_cursor_execute", seen)
        try:
            reader.orders.tally("2026-01", "2026-12")
            reader.orders.volunteer_tally(at(1, 1), at(12, 1))
        finally:
            sa.event.remove(engine, "before_cursor_execute", seen)
    assert len(statements) == 2
    for statement in statements:
        assert "GROUP BY" in statement
        assert "body" not in statement


def test_limits_are_refused_with_value_error(sql_bank: SqlBankStore) -> None:
    """Callers check sizes first; the store refuses what slipped through, writing nothing."""
    good = order("o1")
    for row, body, match in [
        (replace(good, order_id=""), b"", "order id"),
        (replace(good, order_id="o" * 145), b"", "order id"),
        (replace(good, status=""), b"", "status"),
        (replace(good, status="s" * 17), b"", "status"),
        (replace(good, category="c" * 65), b"", "category"),
        (replace(good, grid="g" * 65), b"", "grid"),
        (replace(good, community="g" * 65), b"", "community"),
        (replace(good, recipient_id=""), b"", "recipient"),
        (replace(good, volunteer_id="v" * 145), b"", "volunteer"),
        (replace(good, month="2026-1"), b"", "month"),
        (good, b"x" * (RECORD_BYTES_MAX + 1), "body"),
    ]:
        with pytest.raises(ValueError, match=match):
            _put_body(sql_bank, row, body)
    edge = replace(good, order_id="o" * 144, category="c" * 64, status="s" * 16)
    _put_body(sql_bank, edge, b"x" * RECORD_BYTES_MAX)
    with sql_bank.read(BOOK_ID) as reader:
        assert reader.orders.get("o" * 144) == b"x" * RECORD_BYTES_MAX
        with pytest.raises(ValueError, match="limit"):
            reader.orders.scan(limit=-1)
        with pytest.raises(ValueError, match="limit"):
            reader.orders.due(at(1, 1), limit=-1)
        with pytest.raises(ValueError, match="limit"):
            reader.outbox.pending(limit=-1)
        with pytest.raises(ValueError, match="month"):
            reader.orders.tally("2026", "2026-12")
    for topic, key, match in [
        ("", "k", "topic"),
        ("t" * 65, "k", "topic"),
        ("t", "k" * 129, "key"),
    ]:

        def add(unit: BankUnit, topic: str = topic, key: str = key) -> None:
            unit.outbox.add(topic, key, "{}", at(1, 1))

        with pytest.raises(ValueError, match=match):
            sql_bank.transact(BOOK_ID, add)


def _put_body(bank: BankStore, row: OrderRow, body: bytes) -> None:
    bank.transact(BOOK_ID, lambda unit: unit.orders.put(row, body))


# --- the reports against a plain computation ------------------------------------------


def _reference_tally(rows: list[OrderRow], first: str, last: str) -> list[OrderTally]:
    keys = sorted({(r.month, r.category, r.grid) for r in rows if first <= r.month <= last})
    tallies = []
    for month, category, grid in keys:
        group = [r for r in rows if (r.month, r.category, r.grid) == (month, category, grid)]
        tallies.append(
            OrderTally(
                month=month,
                category=category,
                grid=grid,
                requested=len(group),
                cancelled=len([r for r in group if r.cancelled]),
                processed=len([r for r in group if r.processed]),
                on_time=len([r for r in group if r.on_time]),
                rated=len([r for r in group if r.rating is not None]),
                satisfied=len([r for r in group if r.rating is not None and r.rating >= 4]),
                rating_sum=sum(r.rating for r in group if r.rating is not None),
                responded=len([r for r in group if r.response_seconds is not None]),
                response_seconds=sum(r.response_seconds or 0 for r in group),
                completion_seconds=sum(r.completion_seconds or 0 for r in group),
                credited_minutes=sum(r.credited_minutes for r in group),
            )
        )
    return tallies


def _reference_volunteers(
    rows: list[OrderRow], since: datetime | None, until: datetime | None
) -> list[VolunteerTally]:
    tallies = []
    for volunteer_id in sorted({r.volunteer_id for r in rows if r.volunteer_id is not None}):
        mine = [r for r in rows if r.volunteer_id == volunteer_id]
        served = [
            r
            for r in mine
            if r.served_at is not None
            and (since is None or r.served_at >= since)
            and (until is None or r.served_at < until)
        ]
        rated = [r.rating for r in served if r.rating is not None]
        tallies.append(
            VolunteerTally(
                volunteer_id=volunteer_id,
                accepted=len(mine),
                processed=len([r for r in served if r.processed]),
                credited_minutes=sum(r.credited_minutes for r in served),
                rating_sum=sum(rated),
                rating_count=len(rated),
                last_served_at=max((r.served_at for r in mine if r.served_at), default=None),
            )
        )
    return tallies


MONTHS = [f"2026-{number:02}" for number in range(1, 7)]
_hours = st.integers(min_value=0, max_value=24 * 181)
"""Moments are whole hours of 2026's first half, so periods often start or end on a service."""
_moments = _hours.map(lambda hours: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=hours))
_seconds = st.none() | st.integers(min_value=0, max_value=10**7)
_labels = st.sampled_from([(c, g) for c in ("meals", "rides", "visits") for g in ("g1", "g2", "")])


@st.composite
def _order_rows(draw: st.DrawFn) -> OrderRow:
    # Only what the reports read is drawn; fewer draws keep a thousand examples quick.
    category, grid = draw(_labels)
    flags = draw(st.integers(min_value=0, max_value=7))
    month = draw(st.sampled_from(MONTHS))
    return order(
        "o",
        month=month,
        status=draw(st.sampled_from(["requested", "accepted", "completed"])),
        category=category,
        grid=grid,
        volunteer_id=draw(st.sampled_from([None, "v1", "v2", "v3"])),
        cancelled=bool(flags & 1),
        processed=bool(flags & 2),
        on_time=bool(flags & 4),
        response_seconds=draw(_seconds),
        completion_seconds=draw(_seconds),
        rating=draw(st.sampled_from([None, 1, 2, 3, 4, 5])),
        credited_minutes=draw(st.integers(min_value=0, max_value=10**6)),
        served_at=draw(st.none() | _moments),
    )


order_lists = st.lists(_order_rows(), max_size=25).map(
    lambda rows: [replace(row, order_id=f"o{number}") for number, row in enumerate(rows)]
)
month_ranges = st.tuples(st.sampled_from(MONTHS), st.sampled_from(MONTHS))
periods = st.tuples(st.none() | _moments, st.none() | _moments)


@pytest.fixture
def store_factory(sqlite_url: str) -> Iterator[Callable[[], BankStore]]:
    """One store shared by a property test's examples, each example on a book of its own."""
    with open_bank_store(sqlite_url) as opened:
        yield lambda: opened


def test_reports_equal_a_plain_computation(store_factory: Callable[[], BankStore]) -> None:
    """For any orders, the store's tallies are those computed row by row in Python."""
    bank = store_factory()
    books = itertools.count()

    @given(rows=order_lists, months=month_ranges, period=periods)
    def check(
        rows: list[OrderRow],
        months: tuple[str, str],
        period: tuple[datetime | None, datetime | None],
    ) -> None:
        book_id = f"b{next(books)}"
        bank.ledger_store.create_book(book_id)
        _put(bank, *rows, book_id=book_id)
        with bank.read(book_id) as reader:
            assert reader.orders.tally(*months) == _reference_tally(rows, *months)
            assert reader.orders.tally(MONTHS[0], MONTHS[-1]) == _reference_tally(
                rows, MONTHS[0], MONTHS[-1]
            )
            assert reader.orders.volunteer_tally(*period) == _reference_volunteers(rows, *period)

    check()
