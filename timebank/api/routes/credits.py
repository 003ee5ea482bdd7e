"""The routes of ``book.credits``: crediting services, confirming, disputing, reversing.

Every write goes through ``act``, so an ``Idempotency-Key`` makes it happen at
most once. The facade decides, as the caller, what they may see and which values
they may set (coordinators stay inside their communities; only they choose a
programme account to pay; nobody approves their own gain); a credit the caller
may not see is reported missing, exactly as one that does not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from timebank.api.auth import Principal
from timebank.api.bodies import body_of, command_of
from timebank.api.deps import Page, act, look, page_of
from timebank.api.routes.paths import BOOK
from timebank.bank import BankBook
from timebank.bank.commands import (
    ConfirmCredit,
    CreditService,
    DisputeCredit,
    ReverseCredit,
)
from timebank.community.model import Credit, CreditStatus

__all__ = ["ROUTES"]


if TYPE_CHECKING:
    DisputeCreditBody = DisputeCredit
    ReverseCreditBody = ReverseCredit
else:
    DisputeCreditBody = body_of(DisputeCredit, "credit_id")
    ReverseCreditBody = body_of(ReverseCredit, "credit_id")

CREDIT = BOOK + "/credits/{credit_id:str}"


@post(BOOK + "/credits", tags=["credits"], summary="Credit a provider for a service")
async def credit_service(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[CreditService]
) -> Credit:
    def call(principal: Principal, book: BankBook) -> Credit:
        return book.credits.record(
            data,
            actor=principal.actor,
        )

    return await act(request, book_id, Credit, call)


@get(BOOK + "/credits", tags=["credits"], summary="A page of the credits the caller may see")
async def list_credits(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    status: FromQuery[CreditStatus | None] = None,
    provider_id: FromQuery[str | None] = None,
    after: FromQuery[str | None] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
) -> Page[Credit]:
    """``?status=pending`` lists what waits for confirmation, for instance after an import."""

    def call(principal: Principal, book: BankBook) -> Page[Credit]:
        found = book.credits.list(
            status=status, provider_id=provider_id, after=after, limit=limit, actor=principal.actor
        )
        return page_of(found, limit, lambda credit: credit.credit_id)

    return await look(request, book_id, call)


@get(CREDIT, tags=["credits"], summary="One credit")
async def get_credit(
    request: Request[Any, Any, Any], book_id: FromPath[str], credit_id: FromPath[str]
) -> Credit:
    return await look(request, book_id, lambda p, book: book.credits.get(credit_id, actor=p.actor))


@post(CREDIT + "/confirm", tags=["credits"], summary="Confirm a held credit", status_code=200)
async def confirm_credit(
    request: Request[Any, Any, Any], book_id: FromPath[str], credit_id: FromPath[str]
) -> Credit:
    def call(principal: Principal, book: BankBook) -> Credit:
        return book.credits.confirm(ConfirmCredit(credit_id=credit_id), actor=principal.actor)

    return await act(request, book_id, Credit, call)


@post(CREDIT + "/dispute", tags=["credits"], summary="Dispute a held credit", status_code=200)
async def dispute_credit(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    credit_id: FromPath[str],
    data: JSONBody[DisputeCreditBody],
) -> Credit:
    def call(principal: Principal, book: BankBook) -> Credit:
        return book.credits.dispute(
            command_of(DisputeCredit, data, credit_id=credit_id), actor=principal.actor
        )

    return await act(request, book_id, Credit, call)


@post(
    CREDIT + "/reverse",
    tags=["credits"],
    summary="Correct a posted credit by moving its minutes back",
    status_code=200,
)
async def reverse_credit(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    credit_id: FromPath[str],
    data: JSONBody[ReverseCreditBody],
) -> Credit:
    def call(principal: Principal, book: BankBook) -> Credit:
        return book.credits.reverse(
            command_of(ReverseCredit, data, credit_id=credit_id), actor=principal.actor
        )

    return await act(request, book_id, Credit, call)


ROUTES = [
    credit_service,
    list_credits,
    get_credit,
    confirm_credit,
    dispute_credit,
    reverse_credit,
]
