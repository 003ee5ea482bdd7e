"""Old helping old over HTTP: offers, needs, service orders, deadlines, the outbox, matching.

Every write goes through ``act`` (so an ``Idempotency-Key`` makes it at most
once) and records ``principal.actor``; the facade decides who may act. What a
caller may *see* is decided here, and a record they may not see is reported
missing, exactly like one that does not exist:

- admins and integrations see everything in their book;
- a coordinator sees the records of their communities;
- a member sees the offers, needs and orders of themselves and of the members
  they are an active proxy for, the orders they were dispatched or accepted,
  and the orders published in their own community (全员接单: anyone may claim).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from litestar import Request, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from msgspec import Meta, Struct

from timebank.api.auth import Principal, Role, see_member
from timebank.api.deps import Page, act, look, require_staff
from timebank.bank import BankBook, DeadlineRun
from timebank.community import MemberNotFound, NeedNotFound, OfferNotFound, OrderNotFound
from timebank.community.exchange import Offer, Order, OrderStatus, ServiceNeed, Urgency
from timebank.community.matching import WINDOWS_MAX, Ranked, WeekMatch, Window
from timebank.community.port import OutboxMessage
from timebank.ledger import TimestampNotAware

__all__ = ["BOOK", "ROUTES", "Id", "Limit", "Sight", "Text", "scan"]

T = TypeVar("T")

BOOK = "/books/{book_id:str}"
OFFER = BOOK + "/offers/{offer_id:str}"
NEED = BOOK + "/needs/{need_id:str}"
ORDER = BOOK + "/orders/{order_id:str}"
SCAN_PAGES_MAX = 10
"""A filtered listing reads at most this many pages of the book per request."""
SEQS_MAX = 500

Limit = Annotated[int, QueryParameter(ge=1, le=500, description="Page size, 1 to 500.")]
Text = Annotated[str, Meta(max_length=2_000)]
Id = Annotated[str, Meta(max_length=128)]


# --- who may see what -----------------------------------------------------------------------


class Sight:
    """What one caller may see in one book, with proxy look-ups remembered for the request."""

    def __init__(self, principal: Principal, book: BankBook) -> None:
        self.principal = principal
        self.book = book
        self._proxied: dict[str, bool] = {}
        self._home: str | None = None

    @property
    def everything(self) -> bool:
        return self.principal.role in (Role.ADMIN, Role.INTEGRATION)

    def member(self, member_id: str, community: str) -> bool:
        """Whether the caller may see the records of a member of ``community``."""
        principal = self.principal
        if self.everything:
            return True
        if principal.role is Role.COORDINATOR:
            return community in principal.communities
        if member_id == principal.subject:
            return True
        if member_id not in self._proxied:
            try:
                found = self.book.proxies(member_id)
            except MemberNotFound:
                found = []
            self._proxied[member_id] = any(
                p.proxy_id == principal.subject and p.active for p in found
            )
        return self._proxied[member_id]

    def home(self) -> str:
        """The caller's own community ('' if they are not a member)."""
        if self._home is None:
            try:
                self._home = self.book.member(self.principal.subject).community
            except MemberNotFound:
                self._home = ""
        return self._home

    def order(self, order: Order) -> bool:
        if self.member(order.recipient_id, order.community):
            return True
        if self.principal.role is not Role.MEMBER:
            return False
        me = self.principal.subject
        if me in (order.volunteer_id, order.dispatched_to):
            return True
        return order.status is OrderStatus.PUBLISHED and order.community == self.home()

    def offer(self, offer: Offer) -> bool:
        return self.member(offer.volunteer_id, offer.community)

    def need(self, need: ServiceNeed) -> bool:
        return self.member(need.recipient_id, need.community)


def scan(
    fetch: Callable[[str | None, int], list[T]],
    key: Callable[[T], str],
    keep: Callable[[T], bool],
    after: str | None,
    limit: int,
) -> Page[T]:
    """A page of what ``keep`` allows, reading at most ``SCAN_PAGES_MAX`` pages of the book.

    A page may hold fewer than ``limit`` items (even none) and still have a ``next``.
    """
    items: list[T] = []
    cursor = after
    for _ in range(SCAN_PAGES_MAX):
        batch = fetch(cursor, limit)
        for item in batch:
            if keep(item):
                items.append(item)
                if len(items) == limit:
                    return Page(items=items, next=key(item))
        if len(batch) < limit:
            return Page(items=items, next=None)
        cursor = key(batch[-1])
    return Page(items=items, next=cursor)


def _offer(principal: Principal, book: BankBook, offer_id: str) -> Offer:
    offer = book.offer(offer_id)
    if not Sight(principal, book).offer(offer):
        raise OfferNotFound(offer_id=offer_id[:128])
    return offer


def _need(principal: Principal, book: BankBook, need_id: str) -> ServiceNeed:
    need = book.need(need_id)
    if not Sight(principal, book).need(need):
        raise NeedNotFound(need_id=need_id[:128])
    return need


def _order(principal: Principal, book: BankBook, order_id: str) -> Order:
    order = book.order(order_id)
    if not Sight(principal, book).order(order):
        raise OrderNotFound(order_id=order_id[:128])
    return order


# --- request bodies -------------------------------------------------------------------------


class WeeklyWindow(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Weekday 0 is Monday; minutes count from local midnight; the end is exclusive."""

    weekday: Annotated[int, Meta(ge=0, le=6)]
    start_minute: Annotated[int, Meta(ge=0, le=1_439)]
    end_minute: Annotated[int, Meta(ge=1, le=1_440)]

    def __post_init__(self) -> None:
        if self.start_minute >= self.end_minute:
            raise ValueError("a window's start_minute must come before its end_minute")


Windows = Annotated[list[WeeklyWindow], Meta(max_length=WINDOWS_MAX)]
Dates = Annotated[list[date], Meta(max_length=366)]


def _windows(windows: list[WeeklyWindow]) -> list[Window]:
    return [
        Window(weekday=w.weekday, start_minute=w.start_minute, end_minute=w.end_minute)
        for w in windows
    ]


class NewOffer(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    volunteer_id: Id
    categories: Annotated[list[str], Meta(min_length=1, max_length=32)]
    windows: Windows
    capacity_minutes_per_week: int
    offer_id: Id | None = None
    unavailable_on: Dates = []
    starts_on: date | None = None
    ends_on: date | None = None
    """None: the offer never expires."""
    grid: str | None = None
    x_metres: int | None = None
    y_metres: int | None = None
    note: Text = ""


class OfferChange(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    windows: Windows | None = None
    unavailable_on: Dates | None = None
    capacity_minutes_per_week: int | None = None
    ends_on: date | None = None
    never_expires: bool = False


class NewNeed(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Once (``once_at``) or weekly (``windows``), not both."""

    recipient_id: Id
    category: str
    estimated_minutes: int
    need_id: Id | None = None
    once_at: datetime | None = None
    windows: Windows = []
    starts_on: date | None = None
    until: date | None = None
    grid: str | None = None
    x_metres: int | None = None
    y_metres: int | None = None
    urgency: Urgency = Urgency.NORMAL
    payer: str | None = None
    note: Text = ""


class NewOrder(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """From a need (``need_id``), or directly (``recipient_id``, ``category``, estimate)."""

    need_id: Id | None = None
    recipient_id: Id | None = None
    category: str | None = None
    estimated_minutes: int | None = None
    scheduled_at: datetime | None = None
    payer: str | None = None
    urgency: Urgency | None = None
    order_id: Id | None = None


class VolunteerChoice(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    volunteer_id: Id


class Reason(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Text


class Completion(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    actual_minutes: int


class Rating(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    rating: int
    comment: Text = ""


class FollowUp(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    follow_up: Text


class Acknowledgement(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    seqs: Annotated[list[int], Meta(max_length=SEQS_MAX)]


class Acknowledged(Struct, frozen=True, kw_only=True):
    acknowledged: int
    """How many notifications were newly marked delivered."""


# --- the supply ledger ----------------------------------------------------------------------


@post(BOOK + "/offers", tags=["exchange"], summary="Record a volunteer's offer (供给台账)")
async def add_offer(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[NewOffer]
) -> Offer:
    def call(principal: Principal, book: BankBook) -> Offer:
        see_member(principal, book, data.volunteer_id)
        return book.add_offer(
            volunteer_id=data.volunteer_id,
            categories=data.categories,
            windows=_windows(data.windows),
            capacity_minutes_per_week=data.capacity_minutes_per_week,
            actor=principal.actor,
            offer_id=data.offer_id,
            unavailable_on=data.unavailable_on,
            starts_on=data.starts_on,
            ends_on=data.ends_on,
            grid=data.grid,
            x_metres=data.x_metres,
            y_metres=data.y_metres,
            note=data.note,
        )

    return await act(request, book_id, Offer, call)


@patch(OFFER, tags=["exchange"], summary="Change an offer's windows, exceptions, capacity or end")
async def update_offer(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    offer_id: FromPath[str],
    data: JSONBody[OfferChange],
) -> Offer:
    def call(principal: Principal, book: BankBook) -> Offer:
        _offer(principal, book, offer_id)
        return book.update_offer(
            offer_id,
            actor=principal.actor,
            windows=None if data.windows is None else _windows(data.windows),
            unavailable_on=data.unavailable_on,
            capacity_minutes_per_week=data.capacity_minutes_per_week,
            ends_on=data.ends_on,
            never_expires=data.never_expires,
        )

    return await act(request, book_id, Offer, call)


@post(OFFER + "/withdraw", tags=["exchange"], summary="Withdraw an offer", status_code=200)
async def withdraw_offer(
    request: Request[Any, Any, Any], book_id: FromPath[str], offer_id: FromPath[str]
) -> Offer:
    def call(principal: Principal, book: BankBook) -> Offer:
        _offer(principal, book, offer_id)
        return book.withdraw_offer(offer_id, actor=principal.actor)

    return await act(request, book_id, Offer, call)


@get(OFFER, tags=["exchange"], summary="One offer")
async def get_offer(
    request: Request[Any, Any, Any], book_id: FromPath[str], offer_id: FromPath[str]
) -> Offer:
    return await look(request, book_id, lambda p, book: _offer(p, book, offer_id))


@get(BOOK + "/offers", tags=["exchange"], summary="A page of the offers the caller may see")
async def list_offers(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    after: FromQuery[str | None] = None,
    limit: Limit = 50,
) -> Page[Offer]:
    def call(principal: Principal, book: BankBook) -> Page[Offer]:
        sight = Sight(principal, book)
        return scan(
            lambda cursor, size: book.offers(after=cursor, limit=size),
            lambda offer: offer.offer_id,
            sight.offer,
            after,
            limit,
        )

    return await look(request, book_id, call)


# --- the demand ledger ----------------------------------------------------------------------


@post(BOOK + "/needs", tags=["exchange"], summary="Record a recipient's need (需求台账)")
async def add_need(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[NewNeed]
) -> ServiceNeed:
    def call(principal: Principal, book: BankBook) -> ServiceNeed:
        see_member(principal, book, data.recipient_id)
        return book.add_need(
            recipient_id=data.recipient_id,
            category=data.category,
            estimated_minutes=data.estimated_minutes,
            actor=principal.actor,
            need_id=data.need_id,
            once_at=data.once_at,
            windows=_windows(data.windows),
            starts_on=data.starts_on,
            until=data.until,
            grid=data.grid,
            x_metres=data.x_metres,
            y_metres=data.y_metres,
            urgency=data.urgency,
            payer=data.payer,
            note=data.note,
        )

    return await act(request, book_id, ServiceNeed, call)


@post(NEED + "/close", tags=["exchange"], summary="Close a need", status_code=200)
async def close_need(
    request: Request[Any, Any, Any], book_id: FromPath[str], need_id: FromPath[str]
) -> ServiceNeed:
    def call(principal: Principal, book: BankBook) -> ServiceNeed:
        _need(principal, book, need_id)
        return book.close_need(need_id, actor=principal.actor)

    return await act(request, book_id, ServiceNeed, call)


@get(NEED, tags=["exchange"], summary="One need")
async def get_need(
    request: Request[Any, Any, Any], book_id: FromPath[str], need_id: FromPath[str]
) -> ServiceNeed:
    return await look(request, book_id, lambda p, book: _need(p, book, need_id))


@get(BOOK + "/needs", tags=["exchange"], summary="A page of the needs the caller may see")
async def list_needs(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    after: FromQuery[str | None] = None,
    limit: Limit = 50,
) -> Page[ServiceNeed]:
    def call(principal: Principal, book: BankBook) -> Page[ServiceNeed]:
        sight = Sight(principal, book)
        return scan(
            lambda cursor, size: book.needs(after=cursor, limit=size),
            lambda need: need.need_id,
            sight.need,
            after,
            limit,
        )

    return await look(request, book_id, call)


# --- service orders -------------------------------------------------------------------------


@post(BOOK + "/orders", tags=["orders"], summary="Order a service (点单)")
async def request_order(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[NewOrder]
) -> Order:
    def call(principal: Principal, book: BankBook) -> Order:
        if data.need_id is not None:
            _need(principal, book, data.need_id)
        if data.recipient_id is not None:
            see_member(principal, book, data.recipient_id)
        return book.request_order(
            actor=principal.actor,
            need_id=data.need_id,
            recipient_id=data.recipient_id,
            category=data.category,
            estimated_minutes=data.estimated_minutes,
            scheduled_at=data.scheduled_at,
            payer=data.payer,
            urgency=data.urgency,
            order_id=data.order_id,
        )

    return await act(request, book_id, Order, call)


@get(ORDER, tags=["orders"], summary="One order, with its history")
async def get_order(
    request: Request[Any, Any, Any], book_id: FromPath[str], order_id: FromPath[str]
) -> Order:
    return await look(request, book_id, lambda p, book: _order(p, book, order_id))


@get(BOOK + "/orders", tags=["orders"], summary="A page of the orders the caller may see")
async def list_orders(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    status: FromQuery[OrderStatus | None] = None,
    category: FromQuery[str | None] = None,
    community: FromQuery[str | None] = None,
    grid: FromQuery[str | None] = None,
    requested_from: FromQuery[datetime | None] = None,
    requested_until: FromQuery[datetime | None] = None,
    after: FromQuery[str | None] = None,
    limit: Limit = 50,
) -> Page[Order]:
    """Filters combine: status, category, community, grid, and ``[from, until)`` of the request."""
    for name, moment in (("requested_from", requested_from), ("requested_until", requested_until)):
        if moment is not None and moment.utcoffset() is None:
            raise TimestampNotAware(field=name)

    def wanted(order: Order) -> bool:
        return (
            (category is None or order.category == category)
            and (community is None or order.community == community)
            and (grid is None or order.grid == grid)
            and (requested_from is None or order.requested_at >= requested_from)
            and (requested_until is None or order.requested_at < requested_until)
        )

    def call(principal: Principal, book: BankBook) -> Page[Order]:
        sight = Sight(principal, book)
        return scan(
            lambda cursor, size: book.orders(status=status, after=cursor, limit=size),
            lambda order: order.order_id,
            lambda order: wanted(order) and sight.order(order),
            after,
            limit,
        )

    return await look(request, book_id, call)


Transition = Callable[[Principal, BankBook], Order]


async def _transition(
    request: Request[Any, Any, Any], book_id: str, order_id: str, move: Transition
) -> Order:
    """Check the caller may see the order, then let the facade move it."""

    def call(principal: Principal, book: BankBook) -> Order:
        _order(principal, book, order_id)
        return move(principal, book)

    return await act(request, book_id, Order, call)


@post(
    ORDER + "/dispatch", tags=["orders"], summary="Dispatch to a volunteer (派单)", status_code=200
)
async def dispatch_order(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    order_id: FromPath[str],
    data: JSONBody[VolunteerChoice],
) -> Order:
    def move(p: Principal, book: BankBook) -> Order:
        see_member(p, book, data.volunteer_id)
        return book.dispatch_order(order_id, volunteer_id=data.volunteer_id, actor=p.actor)

    return await _transition(request, book_id, order_id, move)


@post(ORDER + "/publish", tags=["orders"], summary="Publish for anyone to claim", status_code=200)
async def publish_order(
    request: Request[Any, Any, Any], book_id: FromPath[str], order_id: FromPath[str]
) -> Order:
    return await _transition(
        request, book_id, order_id, lambda p, book: book.publish_order(order_id, actor=p.actor)
    )


@post(ORDER + "/decline", tags=["orders"], summary="Decline a dispatched order", status_code=200)
async def decline_order(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    order_id: FromPath[str],
    data: JSONBody[Reason],
) -> Order:
    def move(p: Principal, book: BankBook) -> Order:
        return book.decline_order(order_id, reason=data.reason, actor=p.actor)

    return await _transition(request, book_id, order_id, move)


@post(
    ORDER + "/accept",
    tags=["orders"],
    summary="Accept (接单): holds the payer's minutes",
    status_code=200,
)
async def accept_order(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    order_id: FromPath[str],
    data: JSONBody[VolunteerChoice],
) -> Order:
    def move(p: Principal, book: BankBook) -> Order:
        see_member(p, book, data.volunteer_id)
        return book.accept_order(order_id, volunteer_id=data.volunteer_id, actor=p.actor)

    return await _transition(request, book_id, order_id, move)


@post(ORDER + "/start", tags=["orders"], summary="Check in", status_code=200)
async def start_order(
    request: Request[Any, Any, Any], book_id: FromPath[str], order_id: FromPath[str]
) -> Order:
    return await _transition(
        request, book_id, order_id, lambda p, book: book.start_order(order_id, actor=p.actor)
    )


@post(ORDER + "/complete", tags=["orders"], summary="Check out (办结)", status_code=200)
async def complete_order(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    order_id: FromPath[str],
    data: JSONBody[Completion],
) -> Order:
    def move(p: Principal, book: BankBook) -> Order:
        return book.complete_order(order_id, actual_minutes=data.actual_minutes, actor=p.actor)

    return await _transition(request, book_id, order_id, move)


@post(ORDER + "/confirm", tags=["orders"], summary="Confirm: the credit posts", status_code=200)
async def confirm_order(
    request: Request[Any, Any, Any], book_id: FromPath[str], order_id: FromPath[str]
) -> Order:
    return await _transition(
        request, book_id, order_id, lambda p, book: book.confirm_order(order_id, actor=p.actor)
    )


@post(ORDER + "/reject", tags=["orders"], summary="Reject completed work", status_code=200)
async def reject_order(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    order_id: FromPath[str],
    data: JSONBody[Reason],
) -> Order:
    def move(p: Principal, book: BankBook) -> Order:
        return book.reject_order(order_id, reason=data.reason, actor=p.actor)

    return await _transition(request, book_id, order_id, move)


@post(ORDER + "/rate", tags=["orders"], summary="Rate the service, 1 to 5", status_code=200)
async def rate_order(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    order_id: FromPath[str],
    data: JSONBody[Rating],
) -> Order:
    def move(p: Principal, book: BankBook) -> Order:
        return book.rate_order(order_id, rating=data.rating, comment=data.comment, actor=p.actor)

    return await _transition(request, book_id, order_id, move)


@post(
    ORDER + "/close",
    tags=["orders"],
    summary="Close out (销号) after the follow-up (回访)",
    status_code=200,
)
async def close_order(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    order_id: FromPath[str],
    data: JSONBody[FollowUp],
) -> Order:
    def move(p: Principal, book: BankBook) -> Order:
        return book.close_order(order_id, follow_up=data.follow_up, actor=p.actor)

    return await _transition(request, book_id, order_id, move)


@post(ORDER + "/cancel", tags=["orders"], summary="Cancel: voids the hold", status_code=200)
async def cancel_order(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    order_id: FromPath[str],
    data: JSONBody[Reason],
) -> Order:
    def move(p: Principal, book: BankBook) -> Order:
        return book.cancel_order(order_id, reason=data.reason, actor=p.actor)

    return await _transition(request, book_id, order_id, move)


# --- deadlines, the outbox, matching (staff) ------------------------------------------------


@post(
    BOOK + "/deadlines/run",
    tags=["orders"],
    summary="Escalate overdue orders, expire stale ones, remind lapsing offers",
    status_code=200,
)
async def run_deadlines(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    limit: Annotated[int, QueryParameter(ge=1, le=1_000, description="Orders per run.")] = 100,
) -> DeadlineRun:
    def call(principal: Principal, book: BankBook) -> DeadlineRun:
        require_staff(principal, "run the deadlines")
        return book.run_deadlines(actor=principal.actor, limit=limit)

    return await act(request, book_id, DeadlineRun, call)


@get(BOOK + "/outbox", tags=["outbox"], summary="Undelivered notifications, in order")
async def outbox(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    after: Annotated[int | None, QueryParameter(ge=0, description="The last seq seen.")] = None,
    limit: Limit = 50,
) -> Page[OutboxMessage]:
    def call(principal: Principal, book: BankBook) -> Page[OutboxMessage]:
        require_staff(principal, "read the outbox")
        found = book.outbox(after=after, limit=limit)
        return Page(items=found, next=str(found[-1].seq) if len(found) == limit else None)

    return await look(request, book_id, call)


@post(
    BOOK + "/outbox/ack", tags=["outbox"], summary="Mark notifications delivered", status_code=200
)
async def ack_outbox(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[Acknowledgement]
) -> Acknowledged:
    def call(principal: Principal, book: BankBook) -> int:
        require_staff(principal, "acknowledge notifications")
        return book.ack_outbox(data.seqs, actor=principal.actor)

    return Acknowledged(acknowledged=await act(request, book_id, int, call))


@get(ORDER + "/suggestions", tags=["matching"], summary="Volunteers who could take the order")
async def suggestions(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    order_id: FromPath[str],
    limit: Annotated[int, QueryParameter(ge=1, le=200, description="1 to 200.")] = 10,
) -> list[Ranked]:
    def call(principal: Principal, book: BankBook) -> list[Ranked]:
        require_staff(principal, "see suggested volunteers")
        _order(principal, book, order_id)
        sight = Sight(principal, book)
        ranked = book.suggest_volunteers(order_id, limit=limit)
        if sight.everything:
            return ranked
        return [r for r in ranked if sight.member(r.member_id, book.member(r.member_id).community)]

    return await look(request, book_id, call)


@get(BOOK + "/matching/week", tags=["matching"], summary="Suggested volunteers for a week")
async def week_match(
    request: Request[Any, Any, Any], book_id: FromPath[str], day: FromQuery[date]
) -> WeekMatch:
    def call(principal: Principal, book: BankBook) -> WeekMatch:
        require_staff(principal, "match the week")
        matched = book.match_week(day)
        sight = Sight(principal, book)
        if sight.everything:
            return matched
        mine = {o for o in (*matched.assignments, *matched.unmatched) if sight.order(book.order(o))}
        return WeekMatch(
            assignments={k: v for k, v in matched.assignments.items() if k in mine},
            unmatched=tuple(o for o in matched.unmatched if o in mine),
        )

    return await look(request, book_id, call)


ROUTES = [
    add_offer,
    update_offer,
    withdraw_offer,
    get_offer,
    list_offers,
    add_need,
    close_need,
    get_need,
    list_needs,
    request_order,
    get_order,
    list_orders,
    dispatch_order,
    publish_order,
    decline_order,
    accept_order,
    start_order,
    complete_order,
    confirm_order,
    reject_order,
    rate_order,
    close_order,
    cancel_order,
    run_deadlines,
    outbox,
    ack_outbox,
    suggestions,
    week_match,
]
