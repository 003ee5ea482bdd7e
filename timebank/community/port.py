"""The storage port of the time-bank rules: records kept beside the ledger, in its transaction.

A time bank keeps two kinds of state. Minutes live in the ledger (append-only,
hash-chained). Everything else a community centre registers (members, their
relations and proxies, policy versions, service credits, redemptions, events)
is a *record*: a msgspec-encoded document under ``(kind, record_id)`` in one
book, with an optional secondary ``key`` (for example a member's community)
for listing.

``BankStore.transact(book_id, work)`` runs ``work(unit)`` as one atomic unit of
work in which ``unit.ledger`` is the book's ``LedgerUnit`` and ``unit.records``
reads and writes records, so that a credit and the record describing it commit
together or not at all. As with the ledger's port, a store may run ``work``
again after a transient failure, so ``work`` has no effect outside its unit.
A unit holds the book's write lock from its start, so a read-modify-write of a
record inside a unit is safe against concurrent units on the same book. A
record that many writes of a unit change (a counter) is changed with
``RecordWriter.update_at_end``, and written once, as the unit's work returns.

What every store declares: ``close()``, and ``rolls_back_units`` (whether a
unit that raises leaves no trace however many ledger requests it made). What a
store may add: ``OrderAggregates`` on its order readers, reports computed by
the store (in SQL); without it the bank computes them from the rows, with
``tally_orders`` and ``tally_volunteers``. The errors a store raises on its own
account, when the storage rather than a rule fails, derive from ``StoreError``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol, TypeVar, runtime_checkable

from msgspec import Struct

from timebank.ledger.port import LedgerReader, LedgerStore, LedgerUnit

__all__ = [
    "KIND_LENGTH_MAX",
    "RECORD_BYTES_MAX",
    "RECORD_KEY_LENGTH_MAX",
    "BankReader",
    "BankStore",
    "BankUnit",
    "Change",
    "ChangesAtEnd",
    "OrderAggregates",
    "OrderQuery",
    "OrderReader",
    "OrderRow",
    "OrderTally",
    "OrderWriter",
    "OutboxMessage",
    "OutboxReader",
    "OutboxWriter",
    "RecordReader",
    "RecordWriter",
    "StoreError",
    "StoreUnavailable",
    "VolunteerTally",
    "order_wanted",
    "tally_orders",
    "tally_volunteers",
]

T = TypeVar("T")

# --- errors ---------------------------------------------------------------------------------


class StoreError(Exception):
    """Base of every error a store raises on its own account: the storage failed, not a rule.

    A rule broken (a ``LedgerError``) passes through a store unchanged; anything else
    that goes wrong in the storage itself (a database down, busy, refusing a write, on
    the wrong schema) leaves the store as one of these, so callers (the API answers
    them with 503) need not know which store they run on.
    """


class StoreUnavailable(StoreError):
    """The store could not do the work now (unreachable, or busy past its retries): the
    same request may succeed later."""


KIND_LENGTH_MAX = 32
"""Longest record kind (``member``, ``policy``, ``credit``...)."""
RECORD_KEY_LENGTH_MAX = 128
"""Longest secondary key of a record."""
RECORD_BYTES_MAX = 65_536
"""Largest encoded record body."""


class RecordReader(Protocol):
    """Reads of one book's records."""

    def get(self, kind: str, record_id: str) -> bytes | None:
        """The body of a record, or None."""
        ...

    def scan(
        self, kind: str, *, key: str | None = None, after: str | None = None, limit: int
    ) -> Sequence[tuple[str, bytes]]:
        """Up to ``limit`` ``(record_id, body)`` pairs of a kind, in ``record_id`` order.

        With ``key``, only records whose secondary key equals it; with ``after``,
        only records whose id sorts after it (a cursor).
        """
        ...


class RecordWriter(RecordReader, Protocol):
    """Reads and writes of one book's records inside a unit of work."""

    def put(self, kind: str, record_id: str, body: bytes, *, key: str | None = None) -> None:
        """Insert the record, or replace its body and key if it exists."""
        ...

    def update_at_end(
        self,
        kind: str,
        record_id: str,
        change: Callable[[bytes | None], bytes],
        *,
        key: str | None = None,
    ) -> None:
        """Change the record once, when the unit's work has returned, before it commits.

        ``change`` maps the record's body as it then is (None if there is none) to
        its new body. The changes a unit asks for one record are applied in the
        order asked, and the record is written once, with ``key``; a unit whose
        work raises applies none. Until then, reads see the record unchanged.
        """
        ...


# --- service orders ------------------------------------------------------------------------


Change = Callable[[bytes | None], bytes]
"""A change to a record's body (``None``: no such record yet) that returns its new body."""


class ChangesAtEnd:
    """The changes a unit asked for its end (``update_at_end``), kept for its writer.

    ``apply`` runs them in the order they were asked, record by record, and
    writes each record once; a unit that raises never calls it.
    """

    def __init__(self) -> None:
        self._changes: dict[tuple[str, str], tuple[str | None, list[Change]]] = {}

    def add(self, kind: str, record_id: str, change: Change, key: str | None) -> None:
        found = self._changes.get((kind, record_id))
        changes = [] if found is None else found[1]
        changes.append(change)
        self._changes[kind, record_id] = (key, changes)

    def apply(self, writer: RecordWriter) -> None:
        for (kind, record_id), (key, changes) in self._changes.items():
            body = writer.get(kind, record_id)
            for change in changes:
                body = change(body)
            assert body is not None
            writer.put(kind, record_id, body, key=key)
        self._changes.clear()


class OrderRow(Struct, frozen=True, kw_only=True):
    """The columns of a service order that a store indexes and reports on.

    The whole order is the row's opaque ``body``; these columns are derived from
    it by the facade on every write, so reports are computed by the store (in
    SQL) without decoding bodies. Durations are whole seconds; ``month`` is the
    local calendar month the order was requested in (``YYYY-MM``).
    """

    order_id: str
    status: str
    category: str
    community: str
    grid: str
    recipient_id: str
    volunteer_id: str | None
    dispatched_to: str | None = None
    """The volunteer the order waits on while it is dispatched (accepted: ``volunteer_id``)."""
    month: str
    requested_at: datetime
    due_at: datetime | None
    """The next deadline (to accept, complete, expire or escalate further); None if none."""
    cancelled: bool
    processed: bool
    """The order was completed (whatever came of it after)."""
    on_time: bool
    """Completed by its completion deadline."""
    response_seconds: int | None
    """From request to acceptance."""
    completion_seconds: int | None
    """From request to completion."""
    rating: int | None
    credited_minutes: int
    """Minutes credited to the volunteer when the order was confirmed (0 before)."""
    served_at: datetime | None
    """When the service was completed (check-out)."""


class OrderQuery(Struct, frozen=True, kw_only=True):
    """Which orders a listing wants. Each field given narrows it; ``parties`` and
    ``published_in`` together widen each other (an order one of the parties is on, *or*
    published for anyone to claim in that community)."""

    status: str | None = None
    category: str | None = None
    communities: tuple[str, ...] | None = None
    """Orders of these communities; None: of every community."""
    grid: str | None = None
    requested_from: datetime | None = None
    requested_until: datetime | None = None
    """Requested in ``[requested_from, requested_until)``."""
    parties: tuple[str, ...] | None = None
    """Orders whose recipient, volunteer or dispatched volunteer is one of these members."""
    published_in: str | None = None
    """...or that are published for anyone to claim in this community."""


def order_wanted(row: OrderRow, query: OrderQuery) -> bool:
    """Whether an order's row answers the query (what every store's ``query`` computes)."""
    moment = row.requested_at
    if (
        (query.status is not None and row.status != query.status)
        or (query.category is not None and row.category != query.category)
        or (query.communities is not None and row.community not in query.communities)
        or (query.grid is not None and row.grid != query.grid)
        or (query.requested_from is not None and moment < query.requested_from)
        or (query.requested_until is not None and moment >= query.requested_until)
    ):
        return False
    if query.parties is None and query.published_in is None:
        return True
    parties = query.parties or ()
    return any(p in parties for p in (row.recipient_id, row.volunteer_id, row.dispatched_to)) or (
        row.status == "published" and row.community == query.published_in
    )


class OrderTally(Struct, frozen=True, kw_only=True):
    """Counts and sums over the orders requested in one month, of one category in one grid."""

    month: str
    category: str
    grid: str
    requested: int
    cancelled: int
    processed: int
    on_time: int
    rated: int
    satisfied: int
    """Rated 4 or 5."""
    rating_sum: int
    responded: int
    response_seconds: int
    completion_seconds: int
    credited_minutes: int


class VolunteerTally(Struct, frozen=True, kw_only=True):
    """One volunteer's completed orders (served in a period): count, minutes, ratings, last."""

    volunteer_id: str
    accepted: int
    processed: int
    credited_minutes: int
    rating_sum: int
    rating_count: int
    last_served_at: datetime | None


class OrderReader(Protocol):
    """Reads of one book's service orders."""

    def get(self, order_id: str) -> bytes | None:
        """The body of an order, or None."""
        ...

    def scan(
        self, *, status: str | None = None, after: str | None = None, limit: int
    ) -> Sequence[tuple[str, bytes]]:
        """Up to ``limit`` ``(order_id, body)`` pairs in id order (of one status, if given)."""
        ...

    def query(
        self, query: OrderQuery, *, after: str | None = None, limit: int
    ) -> Sequence[tuple[str, bytes]]:
        """Up to ``limit`` ``(order_id, body)`` pairs the query wants, in id order."""
        ...

    def due(
        self, before: datetime, *, after: str | None = None, limit: int
    ) -> Sequence[tuple[str, bytes]]:
        """Up to ``limit`` orders whose ``due_at`` is at or before ``before``, in id order."""
        ...


@runtime_checkable
class OrderAggregates(Protocol):
    """Reports an order reader may compute itself (a database, in SQL, without loading rows).

    Optional: the bank checks ``isinstance(orders, OrderAggregates)`` and otherwise
    computes the same figures from the rows, with ``tally_orders`` and
    ``tally_volunteers``. Whichever computes them, the figures are the same.
    """

    def tally(
        self, first_month: str, last_month: str, communities: Sequence[str] | None = None
    ) -> Sequence[OrderTally]:
        """One tally per (month, category, grid) of orders requested in the months given
        (of these communities, if given)."""
        ...

    def volunteer_tally(
        self,
        served_from: datetime | None = None,
        served_until: datetime | None = None,
        communities: Sequence[str] | None = None,
    ) -> Sequence[VolunteerTally]:
        """Per volunteer: orders accepted, and those completed (served) in ``[from, until)``
        (orders of these communities, if given)."""
        ...


class OrderWriter(OrderReader, Protocol):
    """Reads and writes of one book's service orders inside a unit of work."""

    def put(self, row: OrderRow, body: bytes) -> None:
        """Insert the order, or replace its columns and body."""
        ...


def tally_orders(rows: Iterable[OrderRow], first_month: str, last_month: str) -> list[OrderTally]:
    """``OrderAggregates.tally`` computed over the rows given (already of the communities)."""
    groups: dict[tuple[str, str, str], list[OrderRow]] = defaultdict(list)
    for row in rows:
        if first_month <= row.month <= last_month:
            groups[row.month, row.category, row.grid].append(row)
    tallies = []
    for (month, category, grid), group in sorted(groups.items()):
        ratings = [row.rating for row in group if row.rating is not None]
        responses = [row.response_seconds for row in group if row.response_seconds is not None]
        tallies.append(
            OrderTally(
                month=month,
                category=category,
                grid=grid,
                requested=len(group),
                cancelled=sum(row.cancelled for row in group),
                processed=sum(row.processed for row in group),
                on_time=sum(row.on_time for row in group),
                rated=len(ratings),
                satisfied=sum(rating >= 4 for rating in ratings),
                rating_sum=sum(ratings),
                responded=len(responses),
                response_seconds=sum(responses),
                completion_seconds=sum(row.completion_seconds or 0 for row in group),
                credited_minutes=sum(row.credited_minutes for row in group),
            )
        )
    return tallies


def tally_volunteers(
    rows: Iterable[OrderRow], served_from: datetime | None, served_until: datetime | None
) -> list[VolunteerTally]:
    """``OrderAggregates.volunteer_tally`` computed over the rows given (already of the
    communities)."""
    groups: dict[str, list[OrderRow]] = defaultdict(list)
    for row in rows:
        if row.volunteer_id is not None:
            groups[row.volunteer_id].append(row)

    def in_range(row: OrderRow) -> bool:
        served = row.served_at
        return (
            served is not None
            and (served_from is None or served >= served_from)
            and (served_until is None or served < served_until)
        )

    tallies = []
    for volunteer_id, group in sorted(groups.items()):
        served = [row for row in group if in_range(row)]
        ratings = [row.rating for row in served if row.rating is not None]
        times = [row.served_at for row in group if row.served_at is not None]
        tallies.append(
            VolunteerTally(
                volunteer_id=volunteer_id,
                accepted=len(group),
                processed=sum(row.processed for row in served),
                credited_minutes=sum(row.credited_minutes for row in served),
                rating_sum=sum(ratings),
                rating_count=len(ratings),
                last_served_at=max(times, default=None),
            )
        )
    return tallies


# --- outbox ----------------------------------------------------------------------------------


class OutboxMessage(Struct, frozen=True, kw_only=True):
    """A notification written in the same transaction as the change it reports."""

    seq: int
    """Increasing within a store; the delivery cursor."""
    topic: str
    key: str
    body: str
    """JSON text."""
    created_at: datetime
    delivered_at: datetime | None = None


class OutboxReader(Protocol):
    """Reads of one book's outbox."""

    def pending(self, *, after: int | None = None, limit: int) -> Sequence[OutboxMessage]:
        """Up to ``limit`` undelivered messages in ``seq`` order, after the cursor."""
        ...


class OutboxWriter(OutboxReader, Protocol):
    """Writes to one book's outbox inside a unit of work."""

    def add(self, topic: str, key: str, body: str, created_at: datetime) -> None:
        """Queue a message; it commits (or not) with the unit."""
        ...

    def mark_delivered(self, seqs: Sequence[int], delivered_at: datetime) -> int:
        """Mark undelivered messages delivered; returns how many were."""
        ...


# --- units ------------------------------------------------------------------------------------


class BankUnit(Protocol):
    """One atomic unit of work on a book: its ledger, records, orders and outbox."""

    @property
    def ledger(self) -> LedgerUnit: ...

    @property
    def records(self) -> RecordWriter: ...

    @property
    def orders(self) -> OrderWriter: ...

    @property
    def outbox(self) -> OutboxWriter: ...


class BankReader(Protocol):
    """A consistent read of a book: its ledger, records, orders and outbox."""

    @property
    def ledger(self) -> LedgerReader: ...

    @property
    def records(self) -> RecordReader: ...

    @property
    def orders(self) -> OrderReader: ...

    @property
    def outbox(self) -> OutboxReader: ...


class BankStore(Protocol):
    """Where a time bank keeps its books: the ledger's store plus records."""

    @property
    def ledger_store(self) -> LedgerStore:
        """The same books as a plain ledger store (for ``Ledger``)."""
        ...

    @property
    def rolls_back_units(self) -> bool:
        """Whether a unit whose work raises leaves no trace, however many ledger requests
        it made (a database's transaction), so that several use cases can share one unit.

        Without it (the memory store) only a unit whose ledger writes come last, after
        every rule was checked, is all or nothing.
        """
        ...

    def close(self) -> None:
        """Release what the store holds (a database's pooled connections)."""
        ...

    def transact(self, book_id: str, work: Callable[[BankUnit], T]) -> T:
        """Run ``work`` as one atomic unit of work on the book."""
        ...

    def read(self, book_id: str) -> AbstractContextManager[BankReader]:
        """A consistent snapshot of the book's ledger and records."""
        ...
