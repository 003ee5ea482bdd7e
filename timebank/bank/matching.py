"""Matching through the facade: the supply ledger and orders as ``Volunteer`` and ``Need`` values.

A volunteer's active offers in a week merge into one ``Volunteer`` (their
categories, windows and weekly capacities added up); the minutes of orders
they have accepted and not finished, scheduled that week, are already booked;
their record (last served, orders accepted and completed, ratings) comes from
the volunteers' tally (``Orders.volunteers``: the store's aggregate, or the same
figures computed from the rows). An order becomes a ``Need`` whose window is
its scheduled visit, else its need's weekly windows, else the whole week.
A week's supply also keeps each volunteer's offers and booked minutes
(``Availability``), which is what dispatch's own check reads
(``timebank.bank.dispatch``): suggestions name only volunteers that check admits.

Building the volunteers of a week reads every offer and member, which costs
far more than ranking. ``SupplyCache`` keeps the built ``VolunteerIndex`` of
recent weeks, keyed by the book's ``ExchangeStamp``: any write of an offer, a
member, or an order with a volunteer bumps the stamp, so an entry is used only
while everything it was built from is unchanged, in any process. A unit's bumps
are written once, as its work returns, in the unit's transaction: a snapshot
sees the stamp and the writes it counts together, or neither. The cache is for
snapshots (reads): inside a unit the stamp does not yet count the unit's own
writes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from msgspec import Struct

from timebank.bank.context import Snapshot
from timebank.community.exchange import HOLDING_STATUSES, Offer, Order, OrderStatus
from timebank.community.matching import (
    DAY_MINUTES,
    WEEK_MINUTES,
    WINDOWS_MAX,
    Need,
    Volunteer,
    VolunteerIndex,
    Window,
)
from timebank.community.model import MemberStatus

__all__ = [
    "BOOKING",
    "WAITING",
    "Availability",
    "booked_minutes",
    "merge_offers",
    "need_of",
    "volunteers_for_week",
    "week_of",
]

WAITING = (OrderStatus.REQUESTED, OrderStatus.PUBLISHED)
"""Orders a week's batch matcher tries to place."""
BOOKING = (OrderStatus.ACCEPTED, OrderStatus.STARTED)
"""Orders whose estimated minutes are booked on their volunteer's week (accepted, unfinished)."""
_WHOLE_WEEK = tuple(Window(weekday=d, start_minute=0, end_minute=DAY_MINUTES) for d in range(7))


def week_of(day: date) -> tuple[date, date]:
    """The Monday starting ``day``'s week and the Monday after."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=7)


def need_of(snap: Snapshot, order: Order) -> Need:
    windows: tuple[Window, ...] = _WHOLE_WEEK
    if order.scheduled_at is not None:
        local = order.scheduled_at.astimezone(snap.zone)
        start = local.hour * 60 + local.minute
        end = min(start + order.estimated_minutes, DAY_MINUTES)
        if end > start:
            windows = (Window(weekday=local.weekday(), start_minute=start, end_minute=end),)
    elif order.need_id is not None:
        need = snap.records.need(order.need_id)
        if need is not None and need.windows:
            windows = need.windows
    return Need(
        need_id=order.order_id,
        category=order.category,
        community=order.community,
        grid=order.grid,
        x_metres=order.x_metres,
        y_metres=order.y_metres,
        windows=windows,
        estimated_minutes=min(order.estimated_minutes, WEEK_MINUTES),
    )


def merge_offers(offers: Iterable[Offer]) -> tuple[frozenset[str], tuple[Window, ...], int]:
    """A volunteer's offers of a week as one: their categories, windows and capacities added
    up (at most a week's minutes)."""
    categories: set[str] = set()
    windows: list[Window] = []
    capacity = 0
    for offer in offers:
        categories |= offer.categories
        windows.extend(offer.windows)
        capacity += offer.capacity_minutes_per_week
    unique = tuple(sorted(set(windows), key=lambda w: (w.weekday, w.start_minute, w.end_minute)))
    return frozenset(categories), unique[:WINDOWS_MAX], min(capacity, WEEK_MINUTES)


class Availability(Struct, frozen=True, kw_only=True):
    """What the supply ledger says of one volunteer for one week (see ``dispatch``)."""

    week_start: date
    offers: tuple[Offer, ...]
    """Every offer of theirs on record, whatever its dates (withdrawn ones included)."""
    booked_minutes: int
    """Estimated minutes of the orders they accepted and have not finished, in the week."""


class WeekSupply(Struct, frozen=True, kw_only=True):
    """A week's volunteers, indexed for ranking, with each one's offers and booked minutes."""

    week_start: date
    index: VolunteerIndex
    offers: dict[str, tuple[Offer, ...]]
    booked: dict[str, int]

    def availability(self, member_id: str) -> Availability:
        return Availability(
            week_start=self.week_start,
            offers=self.offers.get(member_id, ()),
            booked_minutes=self.booked.get(member_id, 0),
        )


class SupplyCache:
    """The ``WeekSupply`` of recent (book, week, stamp) keys; safe to share between threads.

    ``week`` takes a snapshot of a read, never a unit's context (see the module's notes).
    """

    def __init__(self, size: int = 16) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[object, ...], WeekSupply] = OrderedDict()
        self._lock = threading.Lock()

    def week(self, snap: Snapshot, week_start: date) -> WeekSupply:
        stamp = snap.records.stamp()
        key = (snap.book_id, week_start, stamp.supply, stamp.volunteers)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        built = week_supply(snap, week_start)
        with self._lock:
            self._entries[key] = built
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return built


def week_supply(snap: Snapshot, week_start: date) -> WeekSupply:
    offers = list(snap.records.offers())
    holding = (o for s in BOOKING for o in snap.orders.all(status=s))
    booked = booked_minutes(snap, week_start, holding)
    volunteers = volunteers_for_week(snap, week_start, offers, booked)
    everyone: dict[str, list[Offer]] = defaultdict(list)
    for offer in offers:
        everyone[offer.volunteer_id].append(offer)
    return WeekSupply(
        week_start=week_start,
        index=VolunteerIndex(volunteers),
        offers={member_id: tuple(theirs) for member_id, theirs in everyone.items()},
        booked=booked,
    )


def volunteers_for_week(
    snap: Snapshot,
    week_start: date,
    all_offers: Iterable[Offer] | None = None,
    booked: dict[str, int] | None = None,
) -> list[Volunteer]:
    """Every volunteer with an offer active in the week, as matching sees them."""
    days = [week_start + timedelta(days=n) for n in range(7)]
    offers: dict[str, list[Offer]] = defaultdict(list)
    for offer in snap.records.offers() if all_offers is None else all_offers:
        if any(offer.active_on(day) for day in days):
            offers[offer.volunteer_id].append(offer)
    active = {m.member_id for m in snap.records.all_members() if m.status is MemberStatus.ACTIVE}
    if booked is None:
        holding = (o for s in BOOKING for o in snap.orders.all(status=s))
        booked = booked_minutes(snap, week_start, holding)
    record = {t.volunteer_id: t for t in snap.orders.volunteers()}
    volunteers = []
    for member_id in sorted(offers):
        if member_id not in active:
            continue
        categories, windows, capacity = merge_offers(offers[member_id])
        first = offers[member_id][0]
        tally = record.get(member_id)
        accepted = 0 if tally is None else tally.accepted
        volunteers.append(
            Volunteer(
                member_id=member_id,
                categories=categories,
                community=first.community,
                grid=first.grid,
                x_metres=first.x_metres,
                y_metres=first.y_metres,
                windows=windows,
                capacity_minutes_per_week=capacity,
                booked_minutes_this_week=min(booked.get(member_id, 0), WEEK_MINUTES),
                last_served_at=None if tally is None else tally.last_served_at,
                accepted_count=accepted,
                completed_count=0 if tally is None else min(tally.processed, accepted),
                rating_sum=0 if tally is None else tally.rating_sum,
                rating_count=0 if tally is None else tally.rating_count,
            )
        )
    return volunteers


def booked_minutes(snap: Snapshot, week_start: date, orders: Iterable[Order]) -> dict[str, int]:
    """Estimated minutes of accepted, unfinished orders each volunteer has in the week
    (an order is in the week of its scheduled visit, or else of its acceptance)."""
    end = week_start + timedelta(days=7)
    booked: dict[str, int] = defaultdict(int)
    for order in orders:
        if order.status not in HOLDING_STATUSES or order.volunteer_id is None:
            continue
        if order.status is OrderStatus.COMPLETED:
            continue
        moment: datetime | None = order.scheduled_at or order.accepted_at
        if moment is not None and week_start <= snap.local_date(moment) < end:
            booked[order.volunteer_id] += order.estimated_minutes
    return booked
