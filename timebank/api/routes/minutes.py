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

from datetime import date, datetime
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from msgspec import Meta, Struct

from timebank.api.auth import Principal
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
from timebank.bank.events import ATTENDEES_MAX
from timebank.community.model import Credit, CreditStatus, Event, Provenance, Redemption

__all__ = ["ROUTES"]

HEIRS_MAX = 50
MAYBE_ID: Any = str | None
"""What a replayed ``record_death`` decodes into: a transaction id, or None."""


class NewCredit(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    provider_id: str
    recipient_id: str
    category: str
    raw_minutes: int
    served_at: datetime
    provenance: Provenance
    place: str = ""
    payer: str | None = None
    """A programme account that pays instead of the policy's default."""
    note: str = ""
    credit_id: str | None = None


class Reason(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: str


class NewRedemption(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    saver_id: str
    minutes: int
    provider_id: str | None = None
    merchant_id: str | None = None
    category: str = ""
    redemption_id: str | None = None


class Completion(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    spent_minutes: int


class NewGift(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    giver_id: str
    receiver_id: str
    minutes: int
    gift_id: str | None = None


class NewDonation(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    member_id: str
    minutes: int
    group: bool = False
    """Donate group-volunteer minutes (the only way they leave the group purse)."""
    donation_id: str | None = None


class NewGrant(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    member_id: str
    minutes: int
    reason: str
    source: str = "pool"
    grant_id: str | None = None


class NewEvent(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    title: str
    category: str
    held_at: datetime
    place: str = ""
    payer: str | None = None
    group: bool = True
    event_id: str | None = None


class Attendance(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    attendees: Annotated[dict[str, int], Meta(max_length=ATTENDEES_MAX)]
    """Member id -> raw minutes."""
    request_id: str | None = None


class ExpiryRun(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    after: str | None = None
    limit: int = 100


class Death(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    died_on: date
    heirs: Annotated[list[str], Meta(max_length=HEIRS_MAX)] = []


class Moved(Struct, frozen=True, kw_only=True):
    """The ledger transaction that moved the minutes (none if nothing moved)."""

    transaction_id: str | None


BOOK = "/books/{book_id:str}"
CREDIT = BOOK + "/credits/{credit_id:str}"
REDEMPTION = BOOK + "/redemptions/{redemption_id:str}"
EVENT = BOOK + "/events/{event_id:str}"


# --- credits --------------------------------------------------------------------------------


@post(BOOK + "/credits", tags=["credits"], summary="Credit a provider for a service")
async def credit_service(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[NewCredit]
) -> Credit:
    def call(principal: Principal, book: BankBook) -> Credit:
        return book.credits.record(
            CreditService(
                provider_id=data.provider_id,
                recipient_id=data.recipient_id,
                category=data.category,
                raw_minutes=data.raw_minutes,
                served_at=data.served_at,
                provenance=data.provenance,
                place=data.place,
                payer=data.payer,
                note=data.note,
                request_id=data.credit_id,
            ),
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
    data: JSONBody[Reason],
) -> Credit:
    def call(principal: Principal, book: BankBook) -> Credit:
        return book.credits.dispute(
            DisputeCredit(credit_id=credit_id, reason=data.reason), actor=principal.actor
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
    data: JSONBody[Reason],
) -> Credit:
    def call(principal: Principal, book: BankBook) -> Credit:
        return book.credits.reverse(
            ReverseCredit(credit_id=credit_id, reason=data.reason), actor=principal.actor
        )

    return await act(request, book_id, Credit, call)


# --- redemptions -----------------------------------------------------------------------------


@post(BOOK + "/redemptions", tags=["redemptions"], summary="Hold a saver's minutes for care")
async def book_redemption(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[NewRedemption]
) -> Redemption:
    def call(principal: Principal, book: BankBook) -> Redemption:
        return book.redemptions.book(
            BookRedemption(
                saver_id=data.saver_id,
                minutes=data.minutes,
                provider_id=data.provider_id,
                merchant_id=data.merchant_id,
                category=data.category,
                request_id=data.redemption_id,
            ),
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
    data: JSONBody[Completion],
) -> Redemption:
    def call(principal: Principal, book: BankBook) -> Redemption:
        return book.redemptions.complete(
            CompleteRedemption(redemption_id=redemption_id, spent_minutes=data.spent_minutes),
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
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[NewGift]
) -> Moved:
    def call(principal: Principal, book: BankBook) -> str:
        return book.gifts.give(
            Give(
                giver_id=data.giver_id,
                receiver_id=data.receiver_id,
                minutes=data.minutes,
                request_id=data.gift_id,
            ),
            actor=principal.actor,
        )

    return Moved(transaction_id=await act(request, book_id, str, call))


@post(BOOK + "/donations", tags=["minutes"], summary="Donate minutes to the community pool")
async def donate(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[NewDonation]
) -> Moved:
    def call(principal: Principal, book: BankBook) -> str:
        return book.gifts.donate(
            Donate(
                member_id=data.member_id,
                minutes=data.minutes,
                group=data.group,
                request_id=data.donation_id,
            ),
            actor=principal.actor,
        )

    return Moved(transaction_id=await act(request, book_id, str, call))


@post(BOOK + "/grants", tags=["minutes"], summary="Grant minutes to a member in need")
async def grant(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[NewGrant]
) -> Moved:
    def call(principal: Principal, book: BankBook) -> str:
        return book.gifts.grant(
            Grant(
                member_id=data.member_id,
                minutes=data.minutes,
                reason=data.reason,
                source=data.source,
                request_id=data.grant_id,
            ),
            actor=principal.actor,
        )

    return Moved(transaction_id=await act(request, book_id, str, call))


# --- events, expiry, death ------------------------------------------------------------------------


@post(BOOK + "/events", tags=["events"], summary="Announce a group event")
async def create_event(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[NewEvent]
) -> Event:
    def call(principal: Principal, book: BankBook) -> Event:
        return book.events.create(
            CreateEvent(
                title=data.title,
                category=data.category,
                held_at=data.held_at,
                place=data.place,
                payer=data.payer,
                group=data.group,
                event_id=data.event_id,
            ),
            actor=principal.actor,
        )

    return await act(request, book_id, Event, call)


@post(EVENT + "/credits", tags=["events"], summary="Credit attendees in one transaction")
async def credit_event(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    event_id: FromPath[str],
    data: JSONBody[Attendance],
) -> list[Credit]:
    def call(principal: Principal, book: BankBook) -> tuple[Credit, ...]:
        return book.events.credit(
            CreditEvent(event_id=event_id, attendees=data.attendees, request_id=data.request_id),
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
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[ExpiryRun]
) -> MinutesExpiry:
    def call(principal: Principal, book: BankBook) -> MinutesExpiry:
        return book.programme.expire_minutes(
            ExpireMinutes(after=data.after, limit=data.limit), actor=principal.actor
        )

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
    data: JSONBody[Death],
) -> Moved:
    def call(principal: Principal, book: BankBook) -> str | None:
        return book.members.record_death(
            RecordDeath(member_id=member_id, died_on=data.died_on, heirs=tuple(data.heirs)),
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
