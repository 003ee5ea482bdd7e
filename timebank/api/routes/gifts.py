"""The routes of ``book.gifts``: gifts, donations and grants."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.params import FromPath, JSONBody
from msgspec import Struct

from timebank.api.auth import Principal
from timebank.api.deps import act
from timebank.api.routes.paths import BOOK
from timebank.bank import BankBook
from timebank.bank.commands import (
    Donate,
    Give,
    Grant,
)

__all__ = ["ROUTES", "Moved"]


class Moved(Struct, frozen=True, kw_only=True):
    """The ledger transaction that moved the minutes (none if nothing moved)."""

    transaction_id: str | None


@post(BOOK + "/gifts", tags=["gifts"], summary="Give earned minutes to a relative")
async def give(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[Give]
) -> Moved:
    def call(principal: Principal, book: BankBook) -> str:
        return book.gifts.give(
            data,
            actor=principal.actor,
        )

    return Moved(transaction_id=await act(request, book_id, str, call))


@post(BOOK + "/donations", tags=["gifts"], summary="Donate minutes to the community pool")
async def donate(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[Donate]
) -> Moved:
    def call(principal: Principal, book: BankBook) -> str:
        return book.gifts.donate(
            data,
            actor=principal.actor,
        )

    return Moved(transaction_id=await act(request, book_id, str, call))


@post(BOOK + "/grants", tags=["gifts"], summary="Grant minutes to a member in need")
async def grant(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[Grant]
) -> Moved:
    def call(principal: Principal, book: BankBook) -> str:
        return book.gifts.grant(
            data,
            actor=principal.actor,
        )

    return Moved(transaction_id=await act(request, book_id, str, call))


ROUTES = [
    give,
    donate,
    grant,
]
