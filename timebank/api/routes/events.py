"""The routes of ``book.events``: group events and their attendees' credits."""

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
    CreateEvent,
    CreditEvent,
)
from timebank.community.model import Credit, Event

__all__ = ["ROUTES"]


if TYPE_CHECKING:
    CreditEventBody = CreditEvent
else:
    CreditEventBody = body_of(CreditEvent, "event_id")

EVENT = BOOK + "/events/{event_id:str}"


@post(BOOK + "/events", tags=["events"], summary="Announce a group event")
async def create_event(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[CreateEvent]
) -> Event:
    def call(principal: Principal, book: BankBook) -> Event:
        return book.events.create(
            data,
            actor=principal.actor,
        )

    return await act(request, book_id, Event, call)


@post(EVENT + "/credits", tags=["events"], summary="Credit attendees in one transaction")
async def credit_event(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    event_id: FromPath[str],
    data: JSONBody[CreditEventBody],
) -> list[Credit]:
    def call(principal: Principal, book: BankBook) -> tuple[Credit, ...]:
        return book.events.credit(
            command_of(CreditEvent, data, event_id=event_id),
            actor=principal.actor,
        )

    return list(await act(request, book_id, tuple[Credit, ...], call))


@get(EVENT + "/credits", tags=["events"], summary="An event's credits the caller may see")
async def event_credits(
    request: Request[Any, Any, Any], book_id: FromPath[str], event_id: FromPath[str]
) -> list[Credit]:
    def call(principal: Principal, book: BankBook) -> list[Credit]:
        return book.events.credits(event_id, actor=principal.actor)

    return await look(request, book_id, call)


ROUTES = [
    create_event,
    credit_event,
    event_credits,
]
