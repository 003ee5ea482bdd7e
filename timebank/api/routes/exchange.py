"""Old helping old over HTTP: offers, needs, service orders, deadlines, the outbox, matching.

Every write goes through ``act`` (so an ``Idempotency-Key`` makes it at most
once) and every call names ``principal.actor``; the facade decides, in the
same snapshot or unit as the work, what the caller may see and do, and reports
a record they may not see as missing, exactly like one that does not exist:

- admins and integrations see everything in their book;
- a coordinator sees the records of their communities;
- a member sees the offers, needs and orders of themselves and of the members
  they are an active proxy for, the orders they were dispatched or accepted,
  and the orders published in their own community (全员接单: anyone may claim).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

from litestar import Request, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from msgspec import Struct

from timebank.api.auth import Principal
from timebank.api.bodies import body_of, command_of
from timebank.api.deps import Page, act, look, page_of
from timebank.bank import BankBook, DeadlineRun
from timebank.bank.commands import (
    AcceptOrder,
    AckOutbox,
    AddNeed,
    AddOffer,
    CancelOrder,
    CloseNeed,
    CloseOrder,
    CompleteOrder,
    ConfirmOrder,
    DeclineOrder,
    DispatchOrder,
    PublishOrder,
    RateOrder,
    RejectOrder,
    RequestOrder,
    RunDeadlines,
    StartOrder,
    UpdateOffer,
    WithdrawOffer,
)
from timebank.community.exchange import Offer, Order, OrderStatus, ServiceNeed
from timebank.community.matching import Ranked, WeekMatch
from timebank.community.port import OutboxMessage

__all__ = ["BOOK", "ROUTES", "Limit"]

BOOK = "/books/{book_id:str}"
OFFER = BOOK + "/offers/{offer_id:str}"
NEED = BOOK + "/needs/{need_id:str}"
ORDER = BOOK + "/orders/{order_id:str}"
SEQS_MAX = 500

Limit = Annotated[int, QueryParameter(ge=1, le=500, description="Page size, 1 to 500.")]


if TYPE_CHECKING:
    AcceptOrderBody = AcceptOrder
    CancelOrderBody = CancelOrder
    CloseOrderBody = CloseOrder
    CompleteOrderBody = CompleteOrder
    DeclineOrderBody = DeclineOrder
    DispatchOrderBody = DispatchOrder
    RateOrderBody = RateOrder
    RejectOrderBody = RejectOrder
    UpdateOfferBody = UpdateOffer
else:
    AcceptOrderBody = body_of(AcceptOrder, "order_id")
    CancelOrderBody = body_of(CancelOrder, "order_id")
    CloseOrderBody = body_of(CloseOrder, "order_id")
    CompleteOrderBody = body_of(CompleteOrder, "order_id")
    DeclineOrderBody = body_of(DeclineOrder, "order_id")
    DispatchOrderBody = body_of(DispatchOrder, "order_id")
    RateOrderBody = body_of(RateOrder, "order_id")
    RejectOrderBody = body_of(RejectOrder, "order_id")
    UpdateOfferBody = body_of(UpdateOffer, "offer_id")


# --- request bodies -------------------------------------------------------------------------


class Acknowledged(Struct, frozen=True, kw_only=True):
    acknowledged: int
    """How many notifications were newly marked delivered."""


# --- the supply ledger ----------------------------------------------------------------------


@post(BOOK + "/offers", tags=["exchange"], summary="Record a volunteer's offer (供给台账)")
async def add_offer(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[AddOffer]
) -> Offer:
    def call(principal: Principal, book: BankBook) -> Offer:
        return book.supply.add_offer(
            data,
            actor=principal.actor,
        )

    return await act(request, book_id, Offer, call)


@patch(OFFER, tags=["exchange"], summary="Change an offer's windows, exceptions, capacity or end")
async def update_offer(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    offer_id: FromPath[str],
    data: JSONBody[UpdateOfferBody],
) -> Offer:
    def call(principal: Principal, book: BankBook) -> Offer:
        return book.supply.update_offer(
            command_of(UpdateOffer, data, offer_id=offer_id),
            actor=principal.actor,
        )

    return await act(request, book_id, Offer, call)


@post(OFFER + "/withdraw", tags=["exchange"], summary="Withdraw an offer", status_code=200)
async def withdraw_offer(
    request: Request[Any, Any, Any], book_id: FromPath[str], offer_id: FromPath[str]
) -> Offer:
    def call(principal: Principal, book: BankBook) -> Offer:
        return book.supply.withdraw_offer(WithdrawOffer(offer_id=offer_id), actor=principal.actor)

    return await act(request, book_id, Offer, call)


@get(OFFER, tags=["exchange"], summary="One offer")
async def get_offer(
    request: Request[Any, Any, Any], book_id: FromPath[str], offer_id: FromPath[str]
) -> Offer:
    return await look(request, book_id, lambda p, book: book.supply.offer(offer_id, actor=p.actor))


@get(BOOK + "/offers", tags=["exchange"], summary="A page of the offers the caller may see")
async def list_offers(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    after: FromQuery[str | None] = None,
    limit: Limit = 50,
) -> Page[Offer]:
    def call(principal: Principal, book: BankBook) -> Page[Offer]:
        found = book.supply.offers(after=after, limit=limit, actor=principal.actor)
        return page_of(found, limit, lambda offer: offer.offer_id)

    return await look(request, book_id, call)


# --- the demand ledger ----------------------------------------------------------------------


@post(BOOK + "/needs", tags=["exchange"], summary="Record a recipient's need (需求台账)")
async def add_need(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[AddNeed]
) -> ServiceNeed:
    def call(principal: Principal, book: BankBook) -> ServiceNeed:
        return book.supply.add_need(
            data,
            actor=principal.actor,
        )

    return await act(request, book_id, ServiceNeed, call)


@post(NEED + "/close", tags=["exchange"], summary="Close a need", status_code=200)
async def close_need(
    request: Request[Any, Any, Any], book_id: FromPath[str], need_id: FromPath[str]
) -> ServiceNeed:
    def call(principal: Principal, book: BankBook) -> ServiceNeed:
        return book.supply.close_need(CloseNeed(need_id=need_id), actor=principal.actor)

    return await act(request, book_id, ServiceNeed, call)


@get(NEED, tags=["exchange"], summary="One need")
async def get_need(
    request: Request[Any, Any, Any], book_id: FromPath[str], need_id: FromPath[str]
) -> ServiceNeed:
    return await look(request, book_id, lambda p, book: book.supply.need(need_id, actor=p.actor))


@get(BOOK + "/needs", tags=["exchange"], summary="A page of the needs the caller may see")
async def list_needs(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    after: FromQuery[str | None] = None,
    limit: Limit = 50,
) -> Page[ServiceNeed]:
    def call(principal: Principal, book: BankBook) -> Page[ServiceNeed]:
        found = book.supply.needs(after=after, limit=limit, actor=principal.actor)
        return page_of(found, limit, lambda need: need.need_id)

    return await look(request, book_id, call)


# --- service orders -------------------------------------------------------------------------


@post(BOOK + "/orders", tags=["orders"], summary="Order a service (点单)")
async def request_order(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[RequestOrder]
) -> Order:
    def call(principal: Principal, book: BankBook) -> Order:
        return book.orders.request(
            data,
            actor=principal.actor,
        )

    return await act(request, book_id, Order, call)


@get(ORDER, tags=["orders"], summary="One order, with its history")
async def get_order(
    request: Request[Any, Any, Any], book_id: FromPath[str], order_id: FromPath[str]
) -> Order:
    return await look(request, book_id, lambda p, book: book.orders.get(order_id, actor=p.actor))


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

    def call(principal: Principal, book: BankBook) -> Page[Order]:
        found = book.orders.list(
            status=status,
            category=category,
            community=community,
            grid=grid,
            requested_from=requested_from,
            requested_until=requested_until,
            after=after,
            limit=limit,
            actor=principal.actor,
        )
        return page_of(found, limit, lambda order: order.order_id)

    return await look(request, book_id, call)


@post(
    ORDER + "/dispatch", tags=["orders"], summary="Dispatch to a volunteer (派单)", status_code=200
)
async def dispatch_order(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    order_id: FromPath[str],
    data: JSONBody[DispatchOrderBody],
) -> Order:
    def move(p: Principal, book: BankBook) -> Order:
        return book.orders.dispatch(
            command_of(DispatchOrder, data, order_id=order_id), actor=p.actor
        )

    return await act(request, book_id, Order, move)


@post(ORDER + "/publish", tags=["orders"], summary="Publish for anyone to claim", status_code=200)
async def publish_order(
    request: Request[Any, Any, Any], book_id: FromPath[str], order_id: FromPath[str]
) -> Order:
    return await act(
        request,
        book_id,
        Order,
        lambda p, book: book.orders.publish(PublishOrder(order_id=order_id), actor=p.actor),
    )


@post(ORDER + "/decline", tags=["orders"], summary="Decline a dispatched order", status_code=200)
async def decline_order(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    order_id: FromPath[str],
    data: JSONBody[DeclineOrderBody],
) -> Order:
    def move(p: Principal, book: BankBook) -> Order:
        return book.orders.decline(command_of(DeclineOrder, data, order_id=order_id), actor=p.actor)

    return await act(request, book_id, Order, move)


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
    data: JSONBody[AcceptOrderBody],
) -> Order:
    def move(p: Principal, book: BankBook) -> Order:
        return book.orders.accept(command_of(AcceptOrder, data, order_id=order_id), actor=p.actor)

    return await act(request, book_id, Order, move)


@post(ORDER + "/start", tags=["orders"], summary="Check in", status_code=200)
async def start_order(
    request: Request[Any, Any, Any], book_id: FromPath[str], order_id: FromPath[str]
) -> Order:
    return await act(
        request,
        book_id,
        Order,
        lambda p, book: book.orders.start(StartOrder(order_id=order_id), actor=p.actor),
    )


@post(ORDER + "/complete", tags=["orders"], summary="Check out (办结)", status_code=200)
async def complete_order(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    order_id: FromPath[str],
    data: JSONBody[CompleteOrderBody],
) -> Order:
    def move(p: Principal, book: BankBook) -> Order:
        return book.orders.complete(
            command_of(CompleteOrder, data, order_id=order_id), actor=p.actor
        )

    return await act(request, book_id, Order, move)


@post(ORDER + "/confirm", tags=["orders"], summary="Confirm: the credit posts", status_code=200)
async def confirm_order(
    request: Request[Any, Any, Any], book_id: FromPath[str], order_id: FromPath[str]
) -> Order:
    return await act(
        request,
        book_id,
        Order,
        lambda p, book: book.orders.confirm(ConfirmOrder(order_id=order_id), actor=p.actor),
    )


@post(ORDER + "/reject", tags=["orders"], summary="Reject completed work", status_code=200)
async def reject_order(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    order_id: FromPath[str],
    data: JSONBody[RejectOrderBody],
) -> Order:
    def move(p: Principal, book: BankBook) -> Order:
        return book.orders.reject(command_of(RejectOrder, data, order_id=order_id), actor=p.actor)

    return await act(request, book_id, Order, move)


@post(ORDER + "/rate", tags=["orders"], summary="Rate the service, 1 to 5", status_code=200)
async def rate_order(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    order_id: FromPath[str],
    data: JSONBody[RateOrderBody],
) -> Order:
    def move(p: Principal, book: BankBook) -> Order:
        return book.orders.rate(command_of(RateOrder, data, order_id=order_id), actor=p.actor)

    return await act(request, book_id, Order, move)


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
    data: JSONBody[CloseOrderBody],
) -> Order:
    def move(p: Principal, book: BankBook) -> Order:
        return book.orders.close(command_of(CloseOrder, data, order_id=order_id), actor=p.actor)

    return await act(request, book_id, Order, move)


@post(ORDER + "/cancel", tags=["orders"], summary="Cancel: voids the hold", status_code=200)
async def cancel_order(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    order_id: FromPath[str],
    data: JSONBody[CancelOrderBody],
) -> Order:
    def move(p: Principal, book: BankBook) -> Order:
        return book.orders.cancel(command_of(CancelOrder, data, order_id=order_id), actor=p.actor)

    return await act(request, book_id, Order, move)


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
        return book.orders.run_deadlines(RunDeadlines(limit=limit), actor=principal.actor)

    return await act(request, book_id, DeadlineRun, call)


@get(BOOK + "/outbox", tags=["outbox"], summary="Undelivered notifications, in order")
async def outbox(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    after: Annotated[int | None, QueryParameter(ge=0, description="The last seq seen.")] = None,
    limit: Limit = 50,
) -> Page[OutboxMessage]:
    def call(principal: Principal, book: BankBook) -> Page[OutboxMessage]:
        found = book.outbox.pending(after=after, limit=limit, actor=principal.actor)
        return Page(items=found, next=str(found[-1].seq) if len(found) == limit else None)

    return await look(request, book_id, call)


@post(
    BOOK + "/outbox/ack", tags=["outbox"], summary="Mark notifications delivered", status_code=200
)
async def ack_outbox(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[AckOutbox]
) -> Acknowledged:
    def call(principal: Principal, book: BankBook) -> int:
        return book.outbox.ack(data, actor=principal.actor)

    return Acknowledged(acknowledged=await act(request, book_id, int, call))


@get(ORDER + "/suggestions", tags=["matching"], summary="Volunteers who could take the order")
async def suggestions(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    order_id: FromPath[str],
    limit: Annotated[int, QueryParameter(ge=1, le=200, description="1 to 200.")] = 10,
) -> list[Ranked]:
    def call(principal: Principal, book: BankBook) -> list[Ranked]:
        return book.matching.suggest(order_id, limit=limit, actor=principal.actor)

    return await look(request, book_id, call)


@get(BOOK + "/matching/week", tags=["matching"], summary="Suggested volunteers for a week")
async def week_match(
    request: Request[Any, Any, Any], book_id: FromPath[str], day: FromQuery[date]
) -> WeekMatch:
    def call(principal: Principal, book: BankBook) -> WeekMatch:
        return book.matching.week(day, actor=principal.actor)

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
