"""Moving minutes: credits, redemptions, gifts, donations, grants, events, expiry, death.

Every write goes through ``act``, so an ``Idempotency-Key`` makes it happen at
most once. The facade decides, as the caller, what they may see and which
values they may set (coordinators stay inside their communities; only they
choose a programme account to pay; nobody approves their own gain); a credit
or redemption the caller may not see is reported missing, exactly as one that
does not exist. Expiry runs over every community at once, so only
administrators and integrations run it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from msgspec import Struct

from timebank.api.auth import Principal
from timebank.api.bodies import body_of, command_of
from timebank.api.deps import Page, act, look, page_of
from timebank.bank import BankBook, MinutesExpiry
from timebank.bank.commands import (
    BookRedemption,
    CancelRedemption,
    CompleteRedemption,
    ConfirmCredit,
    CreateEvent,
    CreditEvent,
    CreditService,
    DisputeCredit,
    Donate,
    ExpireMinutes,
    Give,
    Grant,
    RecordDeath,
    ReverseCredit,
)
from timebank.community.model import Credit, CreditStatus, Event, Redemption

__all__ = ["ROUTES"]

MAYBE_ID: Any = str | None
"""What a replayed ``record_death`` decodes into: a transaction id, or None."""


class Moved(Struct, frozen=True, kw_only=True):
    """The ledger transaction that moved the minutes (none if nothing moved)."""

    transaction_id: str | None


BOOK = "/books/{book_id:str}"
CREDIT = BOOK + "/credits/{credit_id:str}"
REDEMPTION = BOOK + "/redemptions/{redemption_id:str}"
EVENT = BOOK + "/events/{event_id:str}"


# --- credits --------------------------------------------------------------------------------


if TYPE_CHECKING:
    CompleteRedemptionBody = CompleteRedemption
    CreditEventBody = CreditEvent
    DisputeCreditBody = DisputeCredit
    RecordDeathBody = RecordDeath
    ReverseCreditBody = ReverseCredit
else:
    CompleteRedemptionBody = body_of(CompleteRedemption, "redemption_id")
    CreditEventBody = body_of(CreditEvent, "event_id")
    DisputeCreditBody = body_of(DisputeCredit, "credit_id")
    RecordDeathBody = body_of(RecordDeath, "member_id")
    ReverseCreditBody = body_of(ReverseCredit, "credit_id")


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


# --- redemptions -----------------------------------------------------------------------------


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


# --- gifts, donations, grants ------------------------------------------------------------------


@post(BOOK + "/gifts", tags=["minutes"], summary="Give earned minutes to a relative")
async def give(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[Give]
) -> Moved:
    def call(principal: Principal, book: BankBook) -> str:
        return book.gifts.give(
            data,
            actor=principal.actor,
        )

    return Moved(transaction_id=await act(request, book_id, str, call))


@post(BOOK + "/donations", tags=["minutes"], summary="Donate minutes to the community pool")
async def donate(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[Donate]
) -> Moved:
    def call(principal: Principal, book: BankBook) -> str:
        return book.gifts.donate(
            data,
            actor=principal.actor,
        )

    return Moved(transaction_id=await act(request, book_id, str, call))


@post(BOOK + "/grants", tags=["minutes"], summary="Grant minutes to a member in need")
async def grant(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[Grant]
) -> Moved:
    def call(principal: Principal, book: BankBook) -> str:
        return book.gifts.grant(
            data,
            actor=principal.actor,
        )

    return Moved(transaction_id=await act(request, book_id, str, call))


# --- events, expiry, death ------------------------------------------------------------------------


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


@post(
    BOOK + "/expiry",
    tags=["minutes"],
    summary="Expire old minutes for a batch of members (administrators)",
    status_code=200,
)
async def expire_minutes(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[ExpireMinutes]
) -> MinutesExpiry:
    def call(principal: Principal, book: BankBook) -> MinutesExpiry:
        return book.programme.expire_minutes(data, actor=principal.actor)

    return await act(request, book_id, MinutesExpiry, call)


@post(
    BOOK + "/members/{member_id:str}/death",
    tags=["members"],
    summary="Record a death; by policy the minutes stay, go to heirs or to the pool",
    status_code=200,
)
async def record_death(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    member_id: FromPath[str],
    data: JSONBody[RecordDeathBody],
) -> Moved:
    def call(principal: Principal, book: BankBook) -> str | None:
        return book.members.record_death(
            command_of(RecordDeath, data, member_id=member_id),
            actor=principal.actor,
        )

    return Moved(transaction_id=await act(request, book_id, MAYBE_ID, call))


ROUTES = [
    credit_service,
    list_credits,
    get_credit,
    confirm_credit,
    dispute_credit,
    reverse_credit,
    book_redemption,
    get_redemption,
    complete_redemption,
    cancel_redemption,
    give,
    donate,
    grant,
    create_event,
    credit_event,
    event_credits,
    expire_minutes,
    record_death,
]
