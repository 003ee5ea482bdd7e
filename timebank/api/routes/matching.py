"""The routes of ``book.matching``: volunteers suggested for an order or a week."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Request, get
from litestar.params import FromPath, FromQuery, QueryParameter

from timebank.api.auth import Principal
from timebank.api.deps import look
from timebank.api.routes.orders import ORDER
from timebank.api.routes.paths import BOOK
from timebank.bank import BankBook
from timebank.community.matching import Ranked, WeekMatch

__all__ = ["ROUTES"]


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
    suggestions,
    week_match,
]
