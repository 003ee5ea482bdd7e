"""The routes of ``book.supply``: the supply and demand ledgers (供给台账, 需求台账)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from timebank.api.auth import Principal
from timebank.api.bodies import body_of, command_of
from timebank.api.deps import Page, act, look, page_of
from timebank.api.routes.paths import BOOK, Limit
from timebank.bank import BankBook
from timebank.bank.commands import (
    AddNeed,
    AddOffer,
    CloseNeed,
    UpdateOffer,
    WithdrawOffer,
)
from timebank.community.exchange import Offer, ServiceNeed

__all__ = ["ROUTES"]


if TYPE_CHECKING:
    UpdateOfferBody = UpdateOffer
else:
    UpdateOfferBody = body_of(UpdateOffer, "offer_id")

OFFER = BOOK + "/offers/{offer_id:str}"
NEED = BOOK + "/needs/{need_id:str}"


@post(BOOK + "/offers", tags=["supply"], summary="Record a volunteer's offer (供给台账)")
async def add_offer(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[AddOffer]
) -> Offer:
    def call(principal: Principal, book: BankBook) -> Offer:
        return book.supply.add_offer(
            data,
            actor=principal.actor,
        )

    return await act(request, book_id, Offer, call)


@patch(OFFER, tags=["supply"], summary="Change an offer's windows, exceptions, capacity or end")
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


@post(OFFER + "/withdraw", tags=["supply"], summary="Withdraw an offer", status_code=200)
async def withdraw_offer(
    request: Request[Any, Any, Any], book_id: FromPath[str], offer_id: FromPath[str]
) -> Offer:
    def call(principal: Principal, book: BankBook) -> Offer:
        return book.supply.withdraw_offer(WithdrawOffer(offer_id=offer_id), actor=principal.actor)

    return await act(request, book_id, Offer, call)


@get(OFFER, tags=["supply"], summary="One offer")
async def get_offer(
    request: Request[Any, Any, Any], book_id: FromPath[str], offer_id: FromPath[str]
) -> Offer:
    return await look(request, book_id, lambda p, book: book.supply.offer(offer_id, actor=p.actor))


@get(BOOK + "/offers", tags=["supply"], summary="A page of the offers the caller may see")
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


@post(BOOK + "/needs", tags=["supply"], summary="Record a recipient's need (需求台账)")
async def add_need(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[AddNeed]
) -> ServiceNeed:
    def call(principal: Principal, book: BankBook) -> ServiceNeed:
        return book.supply.add_need(
            data,
            actor=principal.actor,
        )

    return await act(request, book_id, ServiceNeed, call)


@post(NEED + "/close", tags=["supply"], summary="Close a need", status_code=200)
async def close_need(
    request: Request[Any, Any, Any], book_id: FromPath[str], need_id: FromPath[str]
) -> ServiceNeed:
    def call(principal: Principal, book: BankBook) -> ServiceNeed:
        return book.supply.close_need(CloseNeed(need_id=need_id), actor=principal.actor)

    return await act(request, book_id, ServiceNeed, call)


@get(NEED, tags=["supply"], summary="One need")
async def get_need(
    request: Request[Any, Any, Any], book_id: FromPath[str], need_id: FromPath[str]
) -> ServiceNeed:
    return await look(request, book_id, lambda p, book: book.supply.need(need_id, actor=p.actor))


@get(BOOK + "/needs", tags=["supply"], summary="A page of the needs the caller may see")
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
]
