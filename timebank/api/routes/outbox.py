"""The routes of ``book.outbox``: undelivered notifications and their acknowledgement."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from msgspec import Struct

from timebank.api.auth import Principal
from timebank.api.deps import Page, act, look
from timebank.api.routes.paths import BOOK, Limit
from timebank.bank import BankBook
from timebank.bank.commands import (
    AckOutbox,
)
from timebank.community.port import OutboxMessage

__all__ = ["ROUTES"]

SEQS_MAX = 500


class Acknowledged(Struct, frozen=True, kw_only=True):
    acknowledged: int
    """How many notifications were newly marked delivered."""


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


ROUTES = [
    outbox,
    ack_outbox,
]
