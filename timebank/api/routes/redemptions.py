"""The routes of ``book.redemptions``: booking banked minutes, completing, cancelling.

A redemption the caller may not see is reported missing, exactly as one that
does not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, get, post
from litestar.params import FromPath, JSONBody

from timebank.api.auth import Principal
from timebank.api.bodies import body_of, command_of
from timebank.api.deps import act, look
from timebank.api.routes.paths import BOOK
from timebank.bank import BankBook
from timebank.bank.commands import (
    BookRedemption,
    CancelRedemption,
    CompleteRedemption,
)
from timebank.community.model import Redemption

__all__ = ["ROUTES"]


if TYPE_CHECKING:
    CompleteRedemptionBody = CompleteRedemption
else:
    CompleteRedemptionBody = body_of(CompleteRedemption, "redemption_id")

REDEMPTION = BOOK + "/redemptions/{redemption_id:str}"


@post(BOOK + "/redemptions", tags=["redemptions"], summary="Hold a saver's minutes for care")
async def book_redemption(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[BookRedemption]
) -> Redemption:
    def call(principal: Principal, book: BankBook) -> Redemption:
        return book.redemptions.book(
            data,
            actor=principal.actor,
        )

    return await act(request, book_id, Redemption, call)


@get(REDEMPTION, tags=["redemptions"], summary="One redemption")
async def get_redemption(
    request: Request[Any, Any, Any], book_id: FromPath[str], redemption_id: FromPath[str]
) -> Redemption:
    return await look(
        request, book_id, lambda p, book: book.redemptions.get(redemption_id, actor=p.actor)
    )


@post(
    REDEMPTION + "/complete",
    tags=["redemptions"],
    summary="Post what was spent; the rest is released",
    status_code=200,
)
async def complete_redemption(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    redemption_id: FromPath[str],
    data: JSONBody[CompleteRedemptionBody],
) -> Redemption:
    def call(principal: Principal, book: BankBook) -> Redemption:
        return book.redemptions.complete(
            command_of(CompleteRedemption, data, redemption_id=redemption_id),
            actor=principal.actor,
        )

    return await act(request, book_id, Redemption, call)


@post(
    REDEMPTION + "/cancel",
    tags=["redemptions"],
    summary="Cancel a booked redemption",
    status_code=200,
)
async def cancel_redemption(
    request: Request[Any, Any, Any], book_id: FromPath[str], redemption_id: FromPath[str]
) -> Redemption:
    def call(principal: Principal, book: BankBook) -> Redemption:
        return book.redemptions.cancel(
            CancelRedemption(redemption_id=redemption_id), actor=principal.actor
        )

    return await act(request, book_id, Redemption, call)


ROUTES = [
    book_redemption,
    get_redemption,
    complete_redemption,
    cancel_redemption,
]
