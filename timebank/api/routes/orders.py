"""The routes of ``book.orders``: a service order from 点单 to 回访."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from timebank.api.auth import Principal
from timebank.api.bodies import body_of, command_of
from timebank.api.deps import Page, act, look, page_of
from timebank.api.routes.paths import BOOK, Limit
from timebank.bank import BankBook, DeadlineRun
from timebank.bank.commands import (
    AcceptOrder,
    CancelOrder,
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
)
from timebank.community.exchange import Order, OrderStatus

__all__ = ["ORDER", "ROUTES"]


if TYPE_CHECKING:
    AcceptOrderBody = AcceptOrder
    CancelOrderBody = CancelOrder
    CloseOrderBody = CloseOrder
    CompleteOrderBody = CompleteOrder
    DeclineOrderBody = DeclineOrder
    DispatchOrderBody = DispatchOrder
    RateOrderBody = RateOrder
    RejectOrderBody = RejectOrder
else:
    AcceptOrderBody = body_of(AcceptOrder, "order_id")
    CancelOrderBody = body_of(CancelOrder, "order_id")
    CloseOrderBody = body_of(CloseOrder, "order_id")
    CompleteOrderBody = body_of(CompleteOrder, "order_id")
    DeclineOrderBody = body_of(DeclineOrder, "order_id")
    DispatchOrderBody = body_of(DispatchOrder, "order_id")
    RateOrderBody = body_of(RateOrder, "order_id")
    RejectOrderBody = body_of(RejectOrder, "order_id")

ORDER = BOOK + "/orders/{order_id:str}"


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


ROUTES = [
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
]
