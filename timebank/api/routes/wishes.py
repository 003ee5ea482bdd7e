"""The routes of ``book.wishes``: micro-wishes (微心愿)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from timebank.api.auth import Principal
from timebank.api.bodies import body_of, command_of
from timebank.api.deps import act, look
from timebank.api.routes.paths import BOOK
from timebank.bank import BankBook
from timebank.bank.commands import (
    AdoptWish,
    ConfirmWish,
    FulfilWish,
    PostWish,
    WithdrawWish,
)
from timebank.community.exchange import Wish

__all__ = ["ROUTES"]


if TYPE_CHECKING:
    AdoptWishBody = AdoptWish
    ConfirmWishBody = ConfirmWish
else:
    AdoptWishBody = body_of(AdoptWish, "wish_id")
    ConfirmWishBody = body_of(ConfirmWish, "wish_id")


WISH = BOOK + "/wishes/{wish_id:str}"


@post(BOOK + "/wishes", tags=["wishes"], summary="Post a micro-wish (微心愿)")
async def post_wish(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[PostWish]
) -> Wish:
    def call(principal: Principal, book: BankBook) -> Wish:
        return book.wishes.post(
            data,
            actor=principal.actor,
        )

    return await act(request, book_id, Wish, call)


@post(WISH + "/adopt", tags=["wishes"], summary="Adopt (认领) a wish", status_code=200)
async def adopt_wish(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    wish_id: FromPath[str],
    data: JSONBody[AdoptWishBody],
) -> Wish:
    def call(principal: Principal, book: BankBook) -> Wish:
        return book.wishes.adopt(
            command_of(AdoptWish, data, wish_id=wish_id), actor=principal.actor
        )

    return await act(request, book_id, Wish, call)


@post(WISH + "/fulfil", tags=["wishes"], summary="Report a wish fulfilled", status_code=200)
async def fulfil_wish(
    request: Request[Any, Any, Any], book_id: FromPath[str], wish_id: FromPath[str]
) -> Wish:
    def call(principal: Principal, book: BankBook) -> Wish:
        return book.wishes.fulfil(FulfilWish(wish_id=wish_id), actor=principal.actor)

    return await act(request, book_id, Wish, call)


@post(WISH + "/confirm", tags=["wishes"], summary="Confirm a fulfilled wish", status_code=200)
async def confirm_wish(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    wish_id: FromPath[str],
    data: JSONBody[ConfirmWishBody],
) -> Wish:
    def call(principal: Principal, book: BankBook) -> Wish:
        return book.wishes.confirm(
            command_of(ConfirmWish, data, wish_id=wish_id), actor=principal.actor
        )

    return await act(request, book_id, Wish, call)


@post(WISH + "/withdraw", tags=["wishes"], summary="Withdraw a wish", status_code=200)
async def withdraw_wish(
    request: Request[Any, Any, Any], book_id: FromPath[str], wish_id: FromPath[str]
) -> Wish:
    def call(principal: Principal, book: BankBook) -> Wish:
        return book.wishes.withdraw(WithdrawWish(wish_id=wish_id), actor=principal.actor)

    return await act(request, book_id, Wish, call)


@get(WISH, tags=["wishes"], summary="One micro-wish, with its history")
async def get_wish(
    request: Request[Any, Any, Any], book_id: FromPath[str], wish_id: FromPath[str]
) -> Wish:
    return await look(request, book_id, lambda p, book: book.wishes.get(wish_id, actor=p.actor))


@get(BOOK + "/wishes", tags=["wishes"], summary="A community's micro-wishes the caller may see")
async def list_wishes(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    community: FromQuery[str | None] = None,
) -> list[Wish]:
    """Members default to their own community, a coordinator to the communities they serve."""

    def call(principal: Principal, book: BankBook) -> list[Wish]:
        return book.wishes.list(community=community, actor=principal.actor)

    return await look(request, book_id, call)


ROUTES = [
    post_wish,
    adopt_wish,
    fulfil_wish,
    confirm_wish,
    withdraw_wish,
    get_wish,
    list_wishes,
]
