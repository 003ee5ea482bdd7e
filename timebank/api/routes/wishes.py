"""Micro-wishes (微心愿) and care files (一人一档) over HTTP.

A wish is seen by the people the resident's records are visible to, by its
adopter, and, while it waits to be adopted, by the members of the resident's
community (the wish wall). A care file and its visits are seen by whoever may
see the resident. A member records their own visits to residents of their
community; a coordinator those of their communities. The facade decides all
of it, as the caller.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from timebank.api.auth import Principal
from timebank.api.bodies import body_of, command_of
from timebank.api.deps import act, look
from timebank.api.routes.exchange import BOOK
from timebank.bank import BankBook, VisitsDue
from timebank.bank.commands import (
    AdoptWish,
    CloseCareFile,
    ConfirmWish,
    FulfilWish,
    OpenCareFile,
    PostWish,
    RecordVisit,
    WithdrawWish,
)
from timebank.community.exchange import CareFile, Visit, Wish

__all__ = ["ROUTES"]

WISH = BOOK + "/wishes/{wish_id:str}"
RESIDENT = BOOK + "/members/{member_id:str}"


# --- micro-wishes ---------------------------------------------------------------------------


if TYPE_CHECKING:
    AdoptWishBody = AdoptWish
    ConfirmWishBody = ConfirmWish
    OpenCareFileBody = OpenCareFile
    RecordVisitBody = RecordVisit
else:
    AdoptWishBody = body_of(AdoptWish, "wish_id")
    ConfirmWishBody = body_of(ConfirmWish, "wish_id")
    OpenCareFileBody = body_of(OpenCareFile, "member_id")
    RecordVisitBody = body_of(RecordVisit, "member_id")


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


# --- care files -----------------------------------------------------------------------------


@post(RESIDENT + "/care-file", tags=["care"], summary="Open (or reopen) a care file")
async def open_care_file(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    member_id: FromPath[str],
    data: JSONBody[OpenCareFileBody],
) -> CareFile:
    def call(principal: Principal, book: BankBook) -> CareFile:
        return book.care.open(
            command_of(OpenCareFile, data, member_id=member_id),
            actor=principal.actor,
        )

    return await act(request, book_id, CareFile, call)


@post(RESIDENT + "/care-file/close", tags=["care"], summary="Close a care file", status_code=200)
async def close_care_file(
    request: Request[Any, Any, Any], book_id: FromPath[str], member_id: FromPath[str]
) -> CareFile:
    def call(principal: Principal, book: BankBook) -> CareFile:
        return book.care.close(CloseCareFile(member_id=member_id), actor=principal.actor)

    return await act(request, book_id, CareFile, call)


@get(RESIDENT + "/care-file", tags=["care"], summary="A resident's care file (一人一档)")
async def get_care_file(
    request: Request[Any, Any, Any], book_id: FromPath[str], member_id: FromPath[str]
) -> CareFile:
    def call(principal: Principal, book: BankBook) -> CareFile:
        return book.care.get(member_id, actor=principal.actor)

    return await look(request, book_id, call)


@post(RESIDENT + "/visits", tags=["care"], summary="Record a visit to a resident")
async def record_visit(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    member_id: FromPath[str],
    data: JSONBody[RecordVisitBody],
) -> Visit:
    """A coordinator of the resident and the visitor records any visit; a member their own
    (or, as a proxy, their principal's) visits to residents of their community."""

    def call(principal: Principal, book: BankBook) -> Visit:
        return book.care.record_visit(
            command_of(RecordVisit, data, member_id=member_id),
            actor=principal.actor,
        )

    return await act(request, book_id, Visit, call)


@get(RESIDENT + "/visits", tags=["care"], summary="The visits recorded for a resident")
async def visits(
    request: Request[Any, Any, Any], book_id: FromPath[str], member_id: FromPath[str]
) -> list[Visit]:
    def call(principal: Principal, book: BankBook) -> list[Visit]:
        return book.care.visits(member_id, actor=principal.actor)

    return await look(request, book_id, call)


@get(BOOK + "/visits-due", tags=["care"], summary="Residents short of visits this month")
async def visits_due(
    request: Request[Any, Any, Any], book_id: FromPath[str], on: FromQuery[date | None] = None
) -> list[VisitsDue]:
    """Staff only; a coordinator sees their communities' residents. ``on`` defaults to today."""

    def call(principal: Principal, book: BankBook) -> list[VisitsDue]:
        return book.care.due(on=on, actor=principal.actor)

    return await look(request, book_id, call)


ROUTES = [
    post_wish,
    adopt_wish,
    fulfil_wish,
    confirm_wish,
    withdraw_wish,
    get_wish,
    list_wishes,
    open_care_file,
    close_care_file,
    get_care_file,
    record_visit,
    visits,
    visits_due,
]
