"""The routes of ``book.statements``: a member's purses and passbook (存折)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromPath, FromQuery

from timebank.api.auth import Principal
from timebank.api.deps import look
from timebank.api.routes.paths import MEMBER, Limit
from timebank.bank import BankBook, MemberBalance
from timebank.community.model import (
    PassbookPage,
)

__all__ = ["ROUTES", "balance"]


@get(MEMBER + "/balance", tags=["statements"], summary="A member's purses")
async def balance(
    request: Request[Any, Any, Any], book_id: FromPath[str], member_id: FromPath[str]
) -> MemberBalance:
    def call(principal: Principal, book: BankBook) -> MemberBalance:
        return book.statements.balance(member_id, actor=principal.actor)

    return await look(request, book_id, call)


@get(MEMBER + "/passbook", tags=["statements"], summary="A page of a member's passbook (存折)")
async def passbook(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    member_id: FromPath[str],
    after: FromQuery[str | None] = None,
    limit: Limit = 50,
) -> PassbookPage:
    def call(principal: Principal, book: BankBook) -> PassbookPage:
        return book.statements.passbook(member_id, after=after, limit=limit, actor=principal.actor)

    return await look(request, book_id, call)


ROUTES = [
    balance,
    passbook,
]
