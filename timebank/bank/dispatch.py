"""Whom an order may be dispatched to: one check, for dispatch and for every suggestion.

``check_dispatchable`` is what ``dispatch_order`` checks of the volunteer before it
dispatches (派单), and what suggestions (``book.matching.suggest`` and
``book.matching.week``) ask of every volunteer they would name, so a suggested
volunteer is one that dispatch accepts. The volunteer must be

1. a member the caller coordinates (the application and administrators: anyone);
2. someone other than the order's recipient;
3. active, and allowed to provide by the policy: registered as a volunteer, of
   age, and vetted as far as the policy requires (``PROVIDER_RULES``);
4. available as their own offers in the supply ledger say, when they have any:
   an offer of theirs active on the order's scheduled day (an order not scheduled:
   on some day of its week), not away on that day, and room left in the week's
   capacity (their offers active in the week, added up) for the order's estimated
   minutes beside the minutes already booked (orders they accepted and have not
   finished, in that week: ``booked_minutes``).

A volunteer with no offer in the supply ledger at all (never put one) is a
coordinator's own arrangement, by phone say: the first three apply, and
suggestions, which rank the supply ledger, never name them. One whose offers
have all ended or been withdrawn has said they are not available.

The order's week is the local week (Monday to Sunday, the book's time zone) of
its scheduled day, or for an order not scheduled, of the day it is dispatched.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from timebank.bank.context import Snapshot
from timebank.bank.matching import (
    BOOKING,
    Availability,
    WeekSupply,
    booked_minutes,
    merge_offers,
    week_of,
)
from timebank.community.errors import (
    BankError,
    MemberNotActive,
    ProviderNotEligible,
    SelfDealing,
)
from timebank.community.exchange import Order
from timebank.community.model import Member, MemberStatus
from timebank.community.policy import PolicyRules, age_on
from timebank.community.port import OrderQuery
from timebank.community.rules import check_provider

__all__ = [
    "admitted",
    "availability_of",
    "check_dispatchable",
    "order_week",
    "unavailable",
]

DISPATCH = "dispatch an order"
_PAGE = 500


def order_week(snap: Snapshot, order: Order, now: datetime) -> date:
    """The Monday of the order's week: of its scheduled day, or else of ``now``."""
    return week_of(snap.local_date(order.scheduled_at or now))[0]


def availability_of(snap: Snapshot, volunteer_id: str, week_start: date) -> Availability:
    """The volunteer's offers and booked minutes in the week, read from the book (their
    orders only when they have offers: without any, rule 4 has nothing to hold them to)."""
    offers = tuple(snap.records.offers(volunteer_id=volunteer_id))
    holding: list[Order] = []
    for status in BOOKING if offers else ():
        query = OrderQuery(status=status.value, parties=(volunteer_id,))
        after: str | None = None
        while True:
            page = snap.orders.query(query, after=after, limit=_PAGE)
            holding.extend(page)
            if len(page) < _PAGE:
                break
            after = page[-1].order_id
    return Availability(
        week_start=week_start,
        offers=offers,
        booked_minutes=booked_minutes(snap, week_start, holding).get(volunteer_id, 0),
    )


def unavailable(snap: Snapshot, order: Order, availability: Availability) -> str | None:
    """Why the volunteer's offers say they cannot take the order (rule 4), or None."""
    offers = availability.offers
    if not offers:
        return None
    monday = availability.week_start
    week = [monday + timedelta(days=n) for n in range(7)]
    in_week = [offer for offer in offers if any(offer.active_on(day) for day in week)]
    if order.scheduled_at is not None:
        day = snap.local_date(order.scheduled_at)
        if not any(offer.active_on(day) for offer in offers):
            return f"no offer of theirs is active on {day}"
        if any(day in offer.unavailable_on for offer in in_week):
            return f"away on {day}"  # whichever of their offers of the week says so
    elif not in_week:
        return f"no offer of theirs is active in the week of {monday}"
    _, _, capacity = merge_offers(in_week)
    left = max(capacity - availability.booked_minutes, 0)
    if order.estimated_minutes > left:
        return (
            f"{left} of their {capacity} weekly minutes are left in the week of {monday}, "
            f"and the order needs {order.estimated_minutes}"
        )
    return None


def check_dispatchable(
    snap: Snapshot,
    rules: PolicyRules,
    order: Order,
    volunteer: Member,
    *,
    today: date,
    availability: Availability,
) -> None:
    """Whether ``order`` may be dispatched to ``volunteer`` (the module's four rules);
    raises the error named after the first rule broken."""
    snap.viewer.require_staff(DISPATCH, volunteer)
    if volunteer.member_id == order.recipient_id:
        raise SelfDealing(member_id=volunteer.member_id, action="serve")
    if volunteer.status is not MemberStatus.ACTIVE:
        raise MemberNotActive(member_id=volunteer.member_id, status=volunteer.status.value)
    check_provider(rules, volunteer, age_on(volunteer.birth_date, today), group=False)
    reason = unavailable(snap, order, availability)
    if reason is not None:
        raise ProviderNotEligible(member_id=volunteer.member_id, reason=reason)


def admitted(
    snap: Snapshot, supply_of: Callable[[date], WeekSupply], now: datetime
) -> Callable[[Order, str], bool]:
    """``check_dispatchable`` as a yes or no, for suggestions made at ``now``: the
    availability of each order's week comes from ``supply_of(monday)`` (the cached week)."""
    rules = snap.policy().rules
    today = snap.local_date(now)
    members: dict[str, Member | None] = {}
    weeks: dict[date, WeekSupply] = {}

    def admit(order: Order, member_id: str) -> bool:
        if member_id not in members:
            members[member_id] = snap.records.member(member_id)
        member = members[member_id]
        if member is None or not snap.viewer.sees_member(member):
            return False
        monday = order_week(snap, order, now)
        if monday not in weeks:
            weeks[monday] = supply_of(monday)
        try:
            check_dispatchable(
                snap,
                rules,
                order,
                member,
                today=today,
                availability=weeks[monday].availability(member_id),
            )
        except BankError:
            return False
        return True

    return admit
